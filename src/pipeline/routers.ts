/**
 * What the engine keeps per MetaRouter: its validation result (a MetaRouter with an error is not
 * applied, MM_ROUTER_NOT_APPLIED) and the hosts its name may mean, under which it is indexed.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import type { RouterEntry } from '../resolve/host.js';
import { candidateHosts, serviceHost } from '../resolve/names.js';
import type { RegexCheck } from '../util/regex.js';
import { validateMetaRouter } from '../validate/metarouter.js';

export interface RouterState {
  readonly entry: RouterEntry;
  /** The hosts its single spec.hosts entry may mean (names.ts); empty if it has not exactly one. */
  readonly candidates: readonly string[];
  readonly valid: boolean;
  readonly hasGateways: boolean;
  readonly diagnostics: Diagnostic[];
}

export function routerState(key: string, mr: R.MetaRouter, domain: string, checkRegex: RegexCheck): RouterState {
  const diagnostics = validateMetaRouter(mr, domain, checkRegex);
  const valid = !diagnostics.some((d) => d.severity === 'error');
  if (!valid) {
    diagnostics.push(diag('MM_ROUTER_NOT_APPLIED', key, 'was not applied because of the errors reported on it; its host keeps its default route (or the next MetaRouter for it). Fix them and re-apply.'));
  }
  const hosts = mr.spec.hosts ?? [];
  return {
    entry: { router: mr, ref: key, creationTimestamp: mr.metadata.creationTimestamp ?? '' },
    candidates: hosts.length === 1 ? candidateHosts(hosts[0]!, mr.metadata.namespace, domain) : [],
    valid,
    hasGateways: valid && (mr.spec.gateways ?? []).some((g) => g !== 'mesh'),
    diagnostics,
  };
}

/** The valid MetaRouters among `keys` (indexed under `host`) whose name means `host` now. */
export function routersMeaning(host: string, keys: Iterable<string>, states: ReadonlyMap<string, RouterState>, domain: string, isServiceHost: (h: string) => boolean): RouterEntry[] {
  return [...keys]
    .map((k) => states.get(k)!.entry)
    .filter((e) => serviceHost(e.router.spec.hosts![0]!, e.router.metadata.namespace, domain, isServiceHost) === host);
}
