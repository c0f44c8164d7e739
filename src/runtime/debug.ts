/**
 * The bodies of `/debug/xds` and `/debug/config`, bounded whatever clients and inputs do: both are
 * paginated (`?offset=&limit=`, a default limit and a hard maximum), `/debug/xds` lists at most
 * MAX_NAMES_LISTED names and versions per stream (with the counts of what was left out) and cuts
 * client-chosen strings (node ids, resource names, NACK messages) to MAX_STRING characters. A
 * stream with 500,000 subscribed names thus costs a few kilobytes of response, not 143 MB.
 */
import type { OutputDocument } from '../pipeline/document.js';
import type { OpenStream } from '../xds/session.js';
import { clip as clipString, MAX_ID_LENGTH } from '../util/clip.js';

export const DEFAULT_STREAMS_LIMIT = 100;
export const MAX_STREAMS_LIMIT = 1000;
export const DEFAULT_CONFIG_LIMIT = 1000;
export const MAX_CONFIG_LIMIT = 10_000;
export const MAX_NAMES_LISTED = 100;
export const MAX_STRING = MAX_ID_LENGTH;

export interface Page {
  readonly offset: number;
  readonly limit: number;
}

/** `?offset=&limit=` read strictly: non-negative integers, limit from 1 to `max`. */
export function pageOf(query: URLSearchParams, defaultLimit: number, max: number): Page | { readonly error: string } {
  const int = (name: string, fallback: number): number | undefined => {
    const v = query.get(name);
    if (v === null) return fallback;
    return /^\d{1,9}$/.test(v) ? Number(v) : undefined;
  };
  const offset = int('offset', 0);
  const limit = int('limit', defaultLimit);
  if (offset === undefined) return { error: 'offset must be a non-negative integer' };
  if (limit === undefined || limit < 1 || limit > max) return { error: `limit must be an integer from 1 to ${max}` };
  return { offset, limit };
}

/** A client's string, cut to MAX_STRING characters with the number of characters left out. */
export function clip(s: string): string;
export function clip(s: string | undefined): string | undefined;
export function clip(s: string | undefined): string | undefined {
  return s === undefined ? undefined : clipString(s, MAX_STRING);
}

export interface StreamView {
  readonly id: number;
  readonly service: string;
  readonly mode: string;
  readonly peer: string;
  readonly nodeId: string | undefined;
  readonly connectedAt: string;
  readonly typeUrl: string;
  readonly subscribedCount: number;
  /** The first MAX_NAMES_LISTED names in sorted order; `subscribedOmitted` more exist. */
  readonly subscribed: string[];
  readonly subscribedOmitted: number;
  readonly ackedVersions: Record<string, string>;
  readonly ackedVersionsOmitted: number;
  readonly nackCount: number;
  readonly lastNackMessage: string | undefined;
}

export interface XdsDebugBody {
  /** Open streams in all; `streams` holds those from `offset`, at most `limit` of them. */
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  /** The offset of the next page, when there is one. */
  readonly next: number | undefined;
  readonly streams: StreamView[];
}

/**
 * One page of `streams` (in id order). Each stream's full state is built and cut down one at a
 * time, so only one stream's names are copied at once.
 */
export function xdsDebug(streams: readonly OpenStream[], page: Page): XdsDebugBody {
  const chosen = streams.slice(page.offset, page.offset + page.limit);
  const views: StreamView[] = [];
  for (const s of chosen) {
    const infos = s.info();
    if (infos.length === 0) {
      views.push(viewOf({ id: s.id, service: s.service, mode: s.mode, peer: s.peer, nodeId: undefined, connectedAt: s.connectedAt, typeUrl: '', subscribed: [], ackedVersions: {}, nackCount: 0, lastNackMessage: undefined }));
    }
    for (const i of infos) views.push(viewOf(i));
  }
  const end = page.offset + chosen.length;
  return { total: streams.length, offset: page.offset, limit: page.limit, next: end < streams.length ? end : undefined, streams: views };
}

function viewOf(i: ReturnType<OpenStream['info']>[number]): StreamView {
  const acked = Object.keys(i.ackedVersions).sort();
  const ackedVersions: Record<string, string> = {};
  for (const name of acked.slice(0, MAX_NAMES_LISTED)) ackedVersions[clip(name)] = i.ackedVersions[name]!;
  return {
    id: i.id,
    service: i.service,
    mode: i.mode,
    peer: i.peer,
    nodeId: clip(i.nodeId),
    connectedAt: i.connectedAt,
    typeUrl: clip(i.typeUrl),
    subscribedCount: i.subscribed.length,
    subscribed: i.subscribed.slice(0, MAX_NAMES_LISTED).map((n) => clip(n)),
    subscribedOmitted: Math.max(0, i.subscribed.length - MAX_NAMES_LISTED),
    ackedVersions,
    ackedVersionsOmitted: Math.max(0, acked.length - MAX_NAMES_LISTED),
    nackCount: i.nackCount,
    lastNackMessage: clip(i.lastNackMessage),
  };
}

/**
 * One page of the generated configuration: each list of the document sliced to the page. When
 * nothing is left out the document is exactly what `metamesh generate -o json` prints; otherwise
 * `page` gives the page and the size of each list.
 */
export function configDebug(doc: OutputDocument, page: Page): OutputDocument & { page?: Page & { totals: Record<string, number> } } {
  const lists = Object.entries(doc) as [keyof OutputDocument, unknown[]][];
  const cut = page.offset > 0 || lists.some(([, l]) => l.length > page.offset + page.limit);
  if (!cut) return doc;
  const sliced = Object.fromEntries(lists.map(([k, l]) => [k, l.slice(page.offset, page.offset + page.limit)])) as unknown as OutputDocument;
  return { ...sliced, page: { ...page, totals: Object.fromEntries(lists.map(([k, l]) => [k, l.length])) } };
}
