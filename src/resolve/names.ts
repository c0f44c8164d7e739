/**
 * What service host a name written in a MetaRouter means.
 *
 * Istio takes a ServiceEntry's hosts literally, so a ServiceEntry may define a short host such as
 * `brpc-echo-server`. Aeraki matched MetaRouter hosts by exact string equality, so Aeraki users name
 * such a service exactly as the ServiceEntry does. Otherwise a name without a dot is a short name
 * relative to the MetaRouter's namespace, as for Istio's VirtualServices
 * (`foo` in `ns` → `foo.ns.svc.<domain>`). Hence: a short name that is itself a service host means
 * that host; any other short name is expanded.
 */
import { resolveHost } from '../util/hosts.js';

/** The host names a MetaRouter's `name` could mean: the literal one first, then the expansion. */
export function candidateHosts(name: string, namespace: string, domain: string): string[] {
  const literal = name.trim().toLowerCase();
  const expanded = resolveHost(name, namespace, domain);
  return literal === expanded ? [literal] : [literal, expanded];
}

/** The service host `name` means, given which hosts are service hosts. */
export function serviceHost(name: string, namespace: string, domain: string, isServiceHost: (host: string) => boolean): string {
  const [first, second] = candidateHosts(name, namespace, domain);
  return second === undefined || isServiceHost(first!) ? first! : second;
}
