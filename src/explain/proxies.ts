/**
 * The online part of an explanation: which connected proxies (xDS streams, by node id) subscribe to
 * the route tables involved, which version each runs, and whether it ACKed or NACKed the current
 * one. Pure: the xDS server's stream state (src/xds/session.ts StreamInfo) and the served versions
 * in, the explanation with its `proxies` and their facts out.
 *
 * A proxy that NACKed the current version of a table runs something other than what is written,
 * so it makes the explanation "not in effect". Bounded: at most MAX_PROXIES_LISTED entries, NACK
 * messages cut to MAX_MESSAGE_LENGTH (node ids are cut by the session already).
 */
import type { Explanation, Fact, ProxyRouteState } from '../model/explanation.js';
import type { StreamInfo } from '../xds/session.js';
import { clip, MAX_MESSAGE_LENGTH } from '../util/clip.js';
import { count, list } from './words.js';

/** Proxy entries listed at most; the rest are counted in one sentence. */
export const MAX_PROXIES_LISTED = 200;

export function withProxies(e: Explanation, streams: readonly StreamInfo[], current: (name: string) => string | undefined): Explanation {
  const tables = e.routeConfigurations;
  const all: ProxyRouteState[] = [];
  for (const s of streams) {
    if (s.subscribed.length === 0) continue;
    const subscribed = new Set(s.subscribed);
    for (const name of tables) if (subscribed.has(name)) all.push(stateOf(s, name, current(name)));
  }
  const proxies = all.slice(0, MAX_PROXIES_LISTED);
  const facts: Fact[] = proxies.map((p) => ({ section: 'proxies', sentence: sentence(p) }));
  if (all.length > proxies.length) facts.push({ section: 'proxies', sentence: `${count(all.length - proxies.length, 'more subscription')} to these tables ${all.length - proxies.length === 1 ? 'is' : 'are'} not listed.` });
  if (tables.length > 0 && all.length === 0) facts.push({ section: 'proxies', sentence: `No connected proxy subscribes to ${list([...tables])}.` });
  const nacked = all.filter((p) => p.state === 'nacked').length;
  return {
    ...e,
    inEffect: e.inEffect && nacked === 0,
    summary: nacked === 0 ? e.summary : `${e.summary} ${count(nacked, 'proxy', 'proxies')} rejected (NACKed) the current version of ${tables.length === 1 ? 'its route table' : 'its route tables'}.`,
    facts: [...e.facts, ...facts],
    proxies,
  };
}

function stateOf(s: StreamInfo, name: string, currentVersion: string | undefined): ProxyRouteState {
  const held = s.ackedVersions[name];
  const base = {
    nodeId: s.nodeId ?? '',
    stream: s.id,
    routeConfiguration: name,
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    ...(held !== undefined ? { heldVersion: held } : {}),
  };
  if (currentVersion === undefined) return { ...base, state: 'missing' };
  if (held === currentVersion) return { ...base, state: 'acked' };
  if (s.rejectedVersions?.[name] === currentVersion) return { ...base, state: 'nacked', ...(s.lastNackMessage !== undefined ? { nackMessage: clip(s.lastNackMessage, MAX_MESSAGE_LENGTH) } : {}) };
  if (s.sentVersions?.[name] === currentVersion) return { ...base, state: 'sent' };
  return { ...base, state: held !== undefined ? 'outdated' : 'none' };
}

function sentence(p: ProxyRouteState): string {
  const who = `Proxy ${p.nodeId === '' ? '(no node id)' : p.nodeId} (xDS stream ${p.stream})`;
  const t = p.routeConfiguration;
  switch (p.state) {
    case 'acked':
      return `${who} runs the current version ${p.currentVersion} of ${t}: it ACKed it.`;
    case 'nacked':
      return `${who} NACKed the current version ${p.currentVersion} of ${t}${p.nackMessage !== undefined ? ` with "${p.nackMessage}"` : ''}; it still runs ${p.heldVersion !== undefined ? `version ${p.heldVersion}` : 'no version of it'}, and metamesh sends it ${t} again only once the table changes.`;
    case 'sent':
      return `${who} was sent the current version ${p.currentVersion} of ${t} and has not answered yet${p.heldVersion !== undefined ? `; it runs version ${p.heldVersion} until it ACKs` : ''}.`;
    case 'outdated':
      return `${who} runs version ${p.heldVersion} of ${t}; the current version ${p.currentVersion} has not reached it yet.`;
    case 'none':
      return `${who} subscribes to ${t} but holds no version of it yet.`;
    case 'missing':
      return `${who} subscribes to ${t}, which metamesh does not serve now.`;
  }
}
