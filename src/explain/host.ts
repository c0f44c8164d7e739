/**
 * The explanation of one service host: what defines it, its protocol and why, its address, the
 * MetaRouter and DestinationRules that apply (and why others do not), its EnvoyFilters and the
 * workloads they select, its route tables as served, its gateway listeners, and every diagnostic
 * about the objects involved. Pure.
 */
import type { Explanation, Fact } from '../model/explanation.js';
import type { PipelineState } from '../model/pipeline-state.js';
import { ROLE_LABEL } from '../model/output.js';
import { verdict } from '../model/verdict.js';
import { objectName } from '../envoyfilter/names.js';
import { diagnosticsAbout } from './diagnostics.js';
import { envoyFilterSentence } from './envoyfilters.js';
import { gatewayFacts } from './gateways.js';
import { gatewayListenersOf, hostView, listenerTable, routersOf, rulesOf, servicesOf } from './lookup.js';
import { globalLimitSentence, localLimitSentence } from './ratelimits.js';
import { routeSentences, tableSentence } from './routes.js';
import { routerFacts, ruleFacts } from './rules.js';
import { serviceFacts } from './service.js';
import { count, list } from './words.js';

/** `via`: how the query was read as this host (a short name), said first. */
export function explainHost(query: string, host: string, state: PipelineState, via?: string): Explanation {
  const view = hostView(state, host);
  const model = view?.model;
  const services = servicesOf(state, host);
  const routers = routersOf(state, host);
  const rules = rulesOf(state, host);
  const listeners = gatewayListenersOf(state, host);
  const ports = model?.ports ?? [];
  const facts: Fact[] = [];
  if (via) facts.push({ section: 'service', sentence: via });
  facts.push(...serviceFacts(host, services, view));
  facts.push(...routerFacts(host, model, routers));
  facts.push(...ruleFacts(host, model, rules));

  const filters = view?.envoyFilters ?? [];
  for (const ef of filters) facts.push({ section: 'envoyfilters', object: `EnvoyFilter ${ef.metadata.namespace}/${ef.metadata.name}`, sentence: envoyFilterSentence(ef, state.rootNamespace) });
  if (filters.some((ef) => ef.metadata.labels?.[ROLE_LABEL] === 'outbound')) {
    facts.push({ section: 'envoyfilters', sentence: `Those sidecars reach metamesh through the cluster that EnvoyFilter ${state.rootNamespace}/${objectName('metamesh-xds-cluster')} adds.` });
  }
  if (ports.length > 0 && filters.length === 0) {
    facts.push({ section: 'envoyfilters', sentence: `No EnvoyFilter is generated for ${host}: ${ports.every((p) => !p.owner.primary) ? 'it is not the first host of its service' : 'its service has no address and no known workload selector'}, so no proxy is patched for it.` });
  }

  for (const table of view?.routes ?? []) {
    const port = ports.find((p) => table.name === `${host}_${p.number}`);
    facts.push({ section: 'routes', sentence: tableSentence(table, `served to the sidecars calling ${host}${port ? `:${port.number}` : ''}`) });
    for (const s of routeSentences(table)) facts.push({ section: 'routes', sentence: s });
  }
  const router = model?.router;
  const inbound = filters.some((ef) => ef.metadata.labels?.[ROLE_LABEL] === 'inbound');
  const unenforced = router !== undefined && !inbound && (router.spec.localRateLimit !== undefined || router.spec.globalRateLimit !== undefined);
  if (router) {
    if (router.spec.localRateLimit) facts.push({ section: 'routes', object: router.ref, sentence: localLimitSentence(router.spec.localRateLimit, router.ref, inbound) });
    if (router.spec.globalRateLimit) facts.push({ section: 'routes', object: router.ref, sentence: globalLimitSentence(router.spec.globalRateLimit, router.ref, inbound) });
  }
  facts.push(...gatewayFacts(listeners, state.gateway, state.rootNamespace));

  const objects = new Set<string>([
    ...services.map((s) => s.ref),
    ...routers.map((r) => r.ref),
    ...rules.map((r) => r.ref),
    ...Object.values(model?.destinationRules ?? {}).map((r) => r.ref),
    ...listeners.map((l) => `Gateway ${l.gateway.namespace}/${l.gateway.name}`),
    ...protocolSources(services.flatMap((s) => s.meta?.ports.map((p) => p.reason) ?? [])),
  ]);
  const diagnostics = diagnosticsAbout(state.diagnostics, objects);
  const isMeta = ports.length > 0;
  // A rate limit without an inbound patch is enforced nowhere: not in effect, whatever the codes say.
  const inEffect = isMeta && !unenforced && verdict(state.diagnostics.filter((d) => objects.has(d.object))).exitCode === 0;
  const why = diagnostics.filter((d) => d.notInEffect).map((d) => d.code);
  if (unenforced) why.push(`the rate limit of ${router!.ref}, which no inbound patch enforces`);
  return {
    query,
    subject: { kind: 'host', host },
    inEffect,
    summary: summary(host, isMeta, inEffect, [
      router ? `routed by ${router.ref}` : 'on the default route for sidecars (no MetaRouter applies to them)',
      ...listeners.map((l) => `routed on Gateway ${l.gateway.namespace}/${l.gateway.name} port ${l.port} by ${l.router.ref}`),
    ], ports.map((p) => `${p.protocol.name} on port ${p.number}`), why, services.length),
    facts,
    diagnostics,
    routeConfigurations: [...(view?.routes ?? []).map((t) => String(t.name)), ...listeners.map(listenerTable)],
    closeMatches: [],
  };
}

function summary(host: string, isMeta: boolean, inEffect: boolean, routing: string[], ports: string[], codes: string[], services: number): string {
  if (!isMeta) {
    return services > 0
      ? `${host} is not a MetaProtocol service: no port of the ${count(services, 'service')} defining it is a MetaProtocol port, so metamesh configures nothing for it.`
      : `No service defines ${host}: only a MetaRouter names it, so metamesh configures nothing for it.`;
  }
  const routed = list(routing);
  if (inEffect) return `${host} speaks ${list(ports)}, ${routed}; everything written for it takes effect as written.`;
  const unique = [...new Set(codes)];
  return `${host} speaks ${list(ports)}, ${routed}; but something written for it does not take effect as written (${list(unique)}; see below).`;
}

/** The ApplicationProtocols named in detection reasons (`…; codec x (ApplicationProtocol ns/name)`). */
function protocolSources(reasons: readonly string[]): string[] {
  return reasons.flatMap((r) => {
    const m = /\((ApplicationProtocol [^)]+)\)$/.exec(r);
    return m ? [m[1]!] : [];
  });
}
