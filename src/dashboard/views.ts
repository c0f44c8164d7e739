/**
 * The dashboard's registries, proxies and diagnostics views. Pure: the running server's state in
 * (registries-debug input, history, xDS streams, diagnostics), JSON-ready documents out, bounded
 * like the debug pages (lists capped, client strings cut).
 */
import { explained } from '../explain/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { clip as clipTo, MAX_ID_LENGTH } from '../util/clip.js';
import { MAX_NAMES_LISTED, registriesDebug, type RegistriesDebugInput, type RegistryView } from './registries-debug.js';

const clip = (s: string): string => clipTo(s, MAX_ID_LENGTH);
import type { StreamInfo } from '../xds/stream-info.js';
import type { LatencyHistogram } from './acks.js';
import type { HistoryPoint, RegistryHistory } from './history.js';

/** How the page shows a registry: its data is current, kept from before, or never read. */
export type Display = 'connected' | 'connecting' | 'stale' | 'failing';

export interface RegistryPanel extends RegistryView {
  readonly display: Display;
  readonly history: readonly HistoryPoint[];
}

export function registriesPanel(input: RegistriesDebugInput, history: RegistryHistory) {
  const body = registriesDebug(input);
  const registries: RegistryPanel[] = body.registries.map((r) => ({
    ...r,
    display: r.health === 'ok' ? 'connected' : r.health === 'stale' ? 'stale' : r.state === 'connecting' ? 'connecting' : 'failing',
    history: history.series(r.registry, input.nowMs),
  }));
  return { now: body.now, policy: body.policy, registries };
}

export const RDS_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

export interface ProxyTypeView {
  readonly typeUrl: string;
  readonly subscribedCount: number;
  /** Resources with a version held (ACKed), and the first MAX_NAMES_LISTED of them with it. */
  readonly heldCount: number;
  readonly held: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  readonly pending: number;
  readonly rejected: number;
  readonly nackCount: number;
  readonly lastNackMessage: string | null;
}

export interface ProxyView {
  readonly stream: number;
  /** `istiod` for a stream that asked for Istio config (MCP), `proxy` for route tables only. */
  readonly kind: 'proxy' | 'istiod';
  readonly service: string;
  readonly mode: string;
  readonly peer: string;
  readonly nodeId: string;
  readonly connectedAt: string;
  readonly types: readonly ProxyTypeView[];
}

export function proxiesPanel(streams: readonly StreamInfo[], histogram: LatencyHistogram, page: { offset: number; limit: number }) {
  const byStream = new Map<number, StreamInfo[]>();
  for (const s of streams) {
    const list = byStream.get(s.id);
    if (list) list.push(s);
    else byStream.set(s.id, [s]);
  }
  const all = [...byStream.entries()].sort((a, b) => a[0] - b[0]);
  const proxies: ProxyView[] = all.slice(page.offset, page.offset + page.limit).map(([id, infos]) => {
    const first = infos[0]!;
    return {
      stream: id,
      kind: infos.some((i) => i.typeUrl !== RDS_TYPE_URL) ? 'istiod' : 'proxy',
      service: first.service,
      mode: first.mode,
      peer: clip(first.peer),
      nodeId: clip(first.nodeId ?? ''),
      connectedAt: first.connectedAt,
      types: infos.map((i): ProxyTypeView => {
        const held = Object.entries(i.ackedVersions).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        return {
          typeUrl: clip(i.typeUrl),
          subscribedCount: i.subscribed.length,
          heldCount: held.length,
          held: held.slice(0, MAX_NAMES_LISTED).map(([name, version]) => ({ name: clip(name), version: clip(version) })),
          pending: Object.keys(i.sentVersions ?? {}).length,
          rejected: Object.keys(i.rejectedVersions ?? {}).length,
          nackCount: i.nackCount,
          lastNackMessage: i.lastNackMessage === undefined ? null : clip(i.lastNackMessage),
        };
      }),
    };
  });
  return { total: all.length, offset: page.offset, limit: page.limit, proxies, ackLatency: histogram };
}

export interface DiagnosticsQuery {
  readonly code?: string | undefined;
  /** Case-insensitive substring of the object. */
  readonly object?: string | undefined;
  readonly offset: number;
  readonly limit: number;
}

export function diagnosticsPanel(all: readonly Diagnostic[], q: DiagnosticsQuery) {
  const code = q.code?.trim().toUpperCase() ?? '';
  const object = q.object?.trim().toLowerCase() ?? '';
  const matched = all.filter((d) => (code === '' || d.code === code) && (object === '' || d.object.toLowerCase().includes(object)));
  const codes = new Map<string, number>();
  for (const d of all) codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
  return {
    total: all.length,
    matched: matched.length,
    offset: q.offset,
    limit: q.limit,
    codes: [...codes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([c, count]) => ({ code: c, count })),
    diagnostics: matched.slice(q.offset, q.offset + q.limit).map(explained),
  };
}
