/**
 * The "gateways" facts: which gateway ports carry a MetaRouter for a host, with their EnvoyFilters,
 * the VirtualService that opens the port, and the gateway route table as served. Pure.
 */
import type { Fact } from '../model/explanation.js';
import type { GatewayListenerModel } from '../model/host.js';
import type { GatewayView } from '../model/pipeline-state.js';
import { SOURCE_ANNOTATION } from '../model/output.js';
import { envoyFilterSentence } from './envoyfilters.js';
import { listenerTable } from './lookup.js';
import { routeSentences, tableSentence } from './routes.js';
import { labels, objectRef } from './words.js';

type Json = { readonly [k: string]: unknown };

export function gatewayFacts(listeners: readonly GatewayListenerModel[], gateway: GatewayView, rootNamespace: string): Fact[] {
  const facts: Fact[] = [];
  const told = new Set<string>();
  for (const l of listeners) {
    const gw = `Gateway ${l.gateway.namespace}/${l.gateway.name}`;
    const table = listenerTable(l);
    const fact = (sentence: string, object = gw) => facts.push({ section: 'gateways', object, sentence });
    fact(`${gw} port ${l.port} (${l.protocol.name}, on the gateway workloads labelled ${labels(l.gateway.selector)}) carries ${l.router.ref} for ${l.host}; a destination without a port goes to port ${l.defaultPort}.`);
    for (const ef of gateway.envoyFilters) {
      if (ef.metadata.namespace !== l.gateway.namespace || !servesGateway(ef.spec, table, ef.metadata.annotations?.[SOURCE_ANNOTATION], gw)) continue;
      if (told.has(objectRef(ef))) continue;
      told.add(objectRef(ef));
      fact(envoyFilterSentence(ef, rootNamespace), objectRef(ef));
    }
    for (const vs of gateway.virtualServices) {
      const spec = vs.spec as { gateways?: string[]; tcp?: { match?: { port?: number }[] }[] };
      if (!spec.gateways?.includes(`${l.gateway.namespace}/${l.gateway.name}`) || !spec.tcp?.some((t) => t.match?.some((m) => m.port === l.port))) continue;
      fact(`${objectRef(vs)} makes Istio open TCP port ${l.port} on ${gw} (the MetaProtocol Proxy then replaces its TCP proxy).`, objectRef(vs));
    }
    const wire = gateway.routes.find((t) => t.name === table);
    if (wire) {
      fact(tableSentence(wire, `served to ${gw} port ${l.port}`));
      for (const s of routeSentences(wire)) fact(s);
    }
  }
  return facts;
}

/** The gateway patch whose RDS table is `table`, or the xDS-cluster patch of the same gateway. */
function servesGateway(spec: Json, table: string, source: string | undefined, gw: string): boolean {
  const patches = Array.isArray(spec.configPatches) ? (spec.configPatches as Json[]) : [];
  return patches.some((p) => {
    const proxy = ((((p.patch as Json | undefined)?.value as Json | undefined)?.typed_config as Json | undefined)?.value as Json | undefined) ?? {};
    const rds = (proxy.rds as Json | undefined)?.routeConfigName;
    if (rds !== undefined) return rds === table;
    return p.applyTo === 'CLUSTER' && source === gw;
  });
}
