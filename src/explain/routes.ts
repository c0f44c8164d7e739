/**
 * An RDS route table as served (src/route/wire.ts: MetaProtocol routes tunnelled in an Envoy
 * RouteConfiguration, proto3 JSON) in sentences: each route in order, match → destination,
 * weights, hash keys, mirrors and mutations. Pure; reads only the fields wire.ts writes, so the
 * sentences say what the proxies are really given.
 */
import type { WireRouteTable } from '../model/pipeline-state.js';
import { clusterWords, count, list } from './words.js';

type Json = { readonly [k: string]: unknown };

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

/** The routes of a table, in the order the proxy tries them. */
export function wireRoutes(table: WireRouteTable): Json[] {
  return arr(arr(table.virtualHosts)[0]?.routes);
}

/** One sentence per route: `Route 1 "name": when …, to …`. */
export function routeSentences(table: WireRouteTable): string[] {
  return wireRoutes(table).map((r, i) => `Route ${i + 1} "${str(r.name)}": ${matchWords(obj(r.match))}, ${actionWords(obj(r.route))}${mutationWords(r)}.`);
}

export function tableSentence(table: WireRouteTable, servedTo: string): string {
  const n = wireRoutes(table).length;
  return `Route table ${str(table.name)} (RDS, ${servedTo}) has ${count(n, 'route')}, tried in order; the first that matches a request wins.`;
}

function matchWords(match: Json): string {
  const headers = arr(match.headers);
  if (headers.length === 0) return 'every request';
  return `when ${list(headers.map(headerWords))}`;
}

function headerWords(h: Json): string {
  const name = str(h.name);
  if (h.exactMatch !== undefined) return `${name} is "${str(h.exactMatch)}"`;
  if (h.prefixMatch !== undefined) return `${name} starts with "${str(h.prefixMatch)}"`;
  if (h.safeRegexMatch !== undefined) return `${name} matches the regex "${str(obj(h.safeRegexMatch).regex)}"`;
  return `${name} is present`;
}

function actionWords(action: Json): string {
  const parts: string[] = [];
  if (action.cluster !== undefined) {
    parts.push(`to ${clusterWords(str(action.cluster))}`);
  } else {
    const clusters = arr(obj(action.weightedClusters).clusters);
    const total = clusters.reduce((s, c) => s + Number(c.weight ?? 0), 0) || 1;
    parts.push(`split ${list(clusters.map((c) => `${percent((Number(c.weight ?? 0) * 100) / total)} to ${clusterWords(str(c.name))}`))}`);
  }
  const hash = arr(action.hashPolicy).map((h) => str(obj(h.header).headerName));
  if (hash.length > 0) parts.push(`consistent hash on ${list(hash)}`);
  for (const m of arr(action.requestMirrorPolicies)) {
    const fraction = obj(obj(m.runtimeFraction).defaultValue);
    const perMillion = Number(fraction.numerator ?? 1_000_000);
    parts.push(`mirrors ${percent(perMillion / 10_000)} of requests to ${clusterWords(str(m.cluster))}`);
  }
  return parts.join('; ');
}

function mutationWords(r: Json): string {
  const kv = (v: unknown) => arr(v).map((x) => `${str(obj(x.header).key)}=${str(obj(x.header).value)}`);
  const req = kv(r.requestHeadersToAdd);
  const res = kv(r.responseHeadersToAdd);
  return `${req.length > 0 ? `; sets request ${list(req)}` : ''}${res.length > 0 ? `; sets response ${list(res)}` : ''}`;
}

function percent(p: number): string {
  return `${Number.isInteger(p) ? p : Number(p.toFixed(2))}%`;
}
