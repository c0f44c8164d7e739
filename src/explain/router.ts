/**
 * The explanation of one MetaRouter: whether it is in effect, for which host and which gateways,
 * and if not, why: invalid, a host no MetaProtocol service defines (with the nearest hosts),
 * shadowed by another MetaRouter (which one and why it won), gateways only, or routes that never
 * match. Pure.
 */
import type { Explanation, Fact } from '../model/explanation.js';
import type { PipelineState, RouterView } from '../model/pipeline-state.js';
import { verdict } from '../model/verdict.js';
import { closeMatches } from '../util/nearest.js';
import { diagnosticsAbout } from './diagnostics.js';
import { gatewayFacts } from './gateways.js';
import { hostView, listenerTable, metaHosts, precedenceReason, routersOf, servicesOf } from './lookup.js';
import { ROLE_LABEL } from '../model/output.js';
import { globalLimitSentence, localLimitSentence } from './ratelimits.js';
import { routeSentences, tableSentence } from './routes.js';
import { count, list } from './words.js';

export function explainRouter(query: string, r: RouterView, state: PipelineState): Explanation {
  const facts: Fact[] = [];
  const fact = (sentence: string, object: string = r.ref) => facts.push({ section: 'metarouter', object, sentence });
  const written = r.spec.hosts ?? [];
  const host = r.host;
  const diagnostics = diagnosticsAbout(state.diagnostics, new Set([r.ref]));
  const reasons: string[] = [];
  let near: string[] = [];

  if (host === undefined) {
    fact(`${r.ref} must name exactly one host in spec.hosts but names ${count(written.length, 'host')}, so it applies nowhere.`);
  } else {
    const means = host !== written[0]!.trim().toLowerCase() ? `, which in namespace ${r.namespace} means the service host ${host}` : '';
    fact(`${r.ref} names the host "${written[0]}"${means}.`);
  }
  if (!r.valid) {
    fact(`${r.ref} is not applied: it has errors (listed below), so its host keeps its default route or another MetaRouter.`);
    reasons.push('it has errors, so it was not applied');
  }
  const view = host === undefined ? undefined : hostView(state, host);
  const isMeta = (view?.model.ports.length ?? 0) > 0;
  if (host !== undefined && !isMeta) {
    near = closeMatches(host, metaHosts(state));
    const others = servicesOf(state, host).map((s) => s.ref);
    const defined = others.length > 0 ? `${list(others)} ${others.length === 1 ? 'defines' : 'define'} it, but without a MetaProtocol port` : 'no ServiceEntry or Service defines it';
    fact(`No MetaProtocol service defines ${host} (${defined}), so ${r.ref} applies nowhere.${near.length > 0 ? ` Did you mean ${list(near, 'or')}?` : ''}`);
    reasons.push(`no MetaProtocol service defines ${host}${near.length > 0 ? ` (did you mean ${list(near, 'or')}?)` : ''}`);
  }

  let meshTables: string[] = [];
  if (r.valid && host !== undefined && isMeta) {
    const winner = view!.model.router?.ref;
    if (!r.mesh) {
      fact(`${r.ref} lists only gateways (${list(r.spec.gateways ?? [])}), not "mesh", so the sidecars calling ${host} do not get it.`);
    } else if (winner === r.ref) {
      meshTables = view!.routes.map((t) => String(t.name));
      fact(`${r.ref} is in effect for the sidecars calling ${host}: route ${meshTables.length === 1 ? 'table' : 'tables'} ${list(meshTables)}.`);
      for (const t of view!.routes) {
        facts.push({ section: 'routes', sentence: tableSentence(t, `served to the sidecars calling ${host}`) });
        for (const s of routeSentences(t)) facts.push({ section: 'routes', sentence: s });
      }
      const inbound = view!.envoyFilters.some((ef) => ef.metadata.labels?.[ROLE_LABEL] === 'inbound');
      if (!inbound && (r.spec.localRateLimit || r.spec.globalRateLimit)) reasons.push(`its rate limit is enforced nowhere: ${host} has no inbound patch (no known workload selector)`);
      if (r.spec.localRateLimit) facts.push({ section: 'routes', object: r.ref, sentence: localLimitSentence(r.spec.localRateLimit, r.ref, inbound) });
      if (r.spec.globalRateLimit) facts.push({ section: 'routes', object: r.ref, sentence: globalLimitSentence(r.spec.globalRateLimit, r.ref, inbound) });
    } else {
      const w = routersOf(state, host).find((x) => x.ref === winner);
      const why = w ? `${w.ref}, which ${precedenceReason(w, r)}` : String(winner);
      fact(`${r.ref} is shadowed by ${why}: both target ${host}, and only one MetaRouter applies to a host's sidecars. Merge the two.`);
      reasons.push(`it is shadowed by ${winner} for ${host}`);
    }
  }

  const listeners = state.gateway.model.listeners.filter((l) => l.router.ref === r.ref);
  for (const g of (r.spec.gateways ?? []).filter((x) => x !== 'mesh')) {
    const key = g.includes('/') ? g : `${r.namespace}/${g}`;
    const on = listeners.filter((l) => `${l.gateway.namespace}/${l.gateway.name}` === key);
    if (on.length > 0) fact(`${r.ref} is in effect on Gateway ${key} port ${list(on.map((l) => String(l.port)))}.`);
    else if (r.valid) fact(`${r.ref} is not in effect on Gateway ${key} (see the diagnostics below).`);
  }
  facts.push(...gatewayFacts(listeners, state.gateway, state.rootNamespace));

  const applied = meshTables.length > 0 || listeners.length > 0;
  if (r.valid && isMeta && !applied && r.mesh === false) reasons.push('it lists only gateways and is in effect on none of them');
  const unenforced = reasons.some((x) => x.startsWith('its rate limit'));
  const inEffect = r.valid && applied && !unenforced && verdict(state.diagnostics.filter((d) => d.object === r.ref)).exitCode === 0;
  return {
    query,
    subject: { kind: 'metarouter', ref: r.ref },
    inEffect,
    summary: summary(r, [...(meshTables.length > 0 ? [`the sidecars calling ${host}`] : []), ...listeners.map((l) => `Gateway ${l.gateway.namespace}/${l.gateway.name} port ${l.port} (host ${l.host})`)], inEffect, reasons, diagnostics.filter((d) => d.notInEffect).map((d) => d.code)),
    facts,
    diagnostics,
    routeConfigurations: [...meshTables, ...listeners.map(listenerTable)],
    closeMatches: near,
  };
}

/** `where`: the sidecars and gateway ports it is in effect for (empty: applied nowhere). */
function summary(r: RouterView, where: string[], inEffect: boolean, reasons: string[], codes: string[]): string {
  if (inEffect) return `${r.ref} is in effect for ${list(where)} as written.`;
  if (where.length === 0) return `${r.ref} is not in effect: ${list(reasons.length > 0 ? reasons : ['nothing applies it'])}.`;
  return `${r.ref} is in effect for ${list(where)}, but part of it does not take effect as written: ${list([...reasons, ...[...new Set(codes)].map((c) => `${c} (see below)`)])}.`;
}
