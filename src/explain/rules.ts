/**
 * The "metarouter" and "destinationrules" facts of a host: which MetaRouter applies to its sidecars
 * and why the others do not, and which DestinationRules (subsets, hash keys) apply. Pure.
 */
import type { Fact } from '../model/explanation.js';
import type { DestinationRuleModel, HostModel } from '../model/host.js';
import type { DestinationRuleView, RouterView } from '../model/pipeline-state.js';
import { count, labels, list } from './words.js';
import { precedenceReason } from './lookup.js';

export function routerFacts(host: string, model: HostModel | undefined, routers: readonly RouterView[]): Fact[] {
  const facts: Fact[] = [];
  const fact = (sentence: string, object?: string) => facts.push({ section: 'metarouter', ...(object ? { object } : {}), sentence });
  const applied = model?.router?.ref;
  const winner = routers.find((r) => r.ref === applied);
  const competing = routers.filter((r) => r.valid && r.mesh);
  if (winner) {
    const why = competing.length > 1 ? `; it is the oldest of the ${count(competing.length, 'valid MetaRouter')} for this host (then first by namespace/name)` : '';
    fact(`${winner.ref} applies to the sidecars calling ${host}${why}.`, winner.ref);
  } else if (model && model.ports.length > 0) {
    fact(`No MetaRouter applies to the sidecars calling ${host}, so each of its route tables holds one default route to the service.`);
  }
  for (const r of routers) {
    if (r === winner) continue;
    if (!r.valid) fact(`${r.ref} names ${host} but is not applied anywhere: it has errors (see the diagnostics below).`, r.ref);
    else if (!r.mesh) fact(`${r.ref} lists only gateways (${list(r.spec.gateways ?? [])}), not "mesh", so sidecars calling ${host} do not get it.`, r.ref);
    else if (winner) fact(`${r.ref} also targets ${host} but is shadowed by ${winner.ref}, which ${precedenceReason(winner, r)}; it is not applied to sidecars. Merge the two.`, r.ref);
    else fact(`${r.ref} targets ${host}, but no MetaProtocol service defines that host, so it applies nowhere.`, r.ref);
  }
  return facts;
}

export function ruleFacts(host: string, model: HostModel | undefined, rules: readonly DestinationRuleView[]): Fact[] {
  const facts: Fact[] = [];
  const applied = model?.destinationRules ?? {};
  for (const [h, dr] of Object.entries(applied)) {
    const role = h === host ? `applies to ${host}` : `applies to ${h}, which a route of the MetaRouter sends to`;
    facts.push({ section: 'destinationrules', object: dr.ref, sentence: `${dr.ref} ${role}: ${subsetWords(dr)}.` });
  }
  const winner = applied[host];
  for (const r of rules) {
    if (r.applies || r.ref === winner?.ref) continue;
    const w = rules.find((x) => x.applies);
    const why = w ? `${w.ref} ${precedenceReason(w, r)} and is used instead` : 'another DestinationRule is used instead';
    facts.push({ section: 'destinationrules', object: r.ref, sentence: `${r.ref} also targets ${host} but is not used: ${why}; its subsets and hash keys do not reach MetaProtocol routes.` });
  }
  if (!winner && model && model.ports.length > 0) {
    facts.push({ section: 'destinationrules', sentence: `No DestinationRule targets ${host}: it has no subsets, and requests are balanced without a hash key.` });
  }
  return facts;
}

function subsetWords(dr: DestinationRuleModel): string {
  const hash = (lb: { consistentHash?: { httpHeaderName?: string } } | undefined) => lb?.consistentHash?.httpHeaderName;
  const top = hash(dr.spec.trafficPolicy?.loadBalancer);
  const subsets = (dr.spec.subsets ?? []).map((s) => {
    const h = hash(s.trafficPolicy?.loadBalancer);
    return `${s.name} (${labels(s.labels)}${h ? `; consistent hash on ${h}` : ''})`;
  });
  const parts = [subsets.length > 0 ? `${subsets.length === 1 ? 'subset' : 'subsets'} ${list(subsets)}` : 'no subsets'];
  if (top) parts.push(`consistent hash on ${top} for the whole host`);
  return parts.join('; ');
}
