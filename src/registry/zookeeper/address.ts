/**
 * The `zookeeper://` registry address: servers, chroot, digest credentials and the roots to mirror.
 * Pure. Form: `zookeeper://[user:password@]host:port[,host:port…][/chroot][?root=/dubbo&services=/services&serverset=/aurora]`.
 * `root=` names a Dubbo interface-level root, `services=` an application-level (Curator) root and
 * `serverset=` a subtree of ServerSets; each may repeat. With none given: `/dubbo` and `/services`.
 */
import type { ZkRoot, ZkRootKind } from './policy.js';

export interface ZkAddress {
  /** `host:port,host:port[/chroot]`, as node-zookeeper-client takes it. */
  readonly connect: string;
  /** `user:password` for the digest scheme, if given. */
  readonly digest?: string;
  readonly roots: readonly ZkRoot[];
}

const ROOT_PARAMS: Readonly<Record<string, ZkRootKind>> = { root: 'dubbo', services: 'services', serverset: 'serverset' };

/** Parses an address; returns an error sentence instead of throwing for a malformed one. */
export function parseZkAddress(text: string): ZkAddress | { readonly error: string } {
  const m = /^zookeeper:\/\/(?:([^@/?]*)@)?([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(text);
  if (!m) return { error: `"${text}" is not a ZooKeeper address; write zookeeper://host:port[/chroot][?root=/dubbo].` };
  const [, userInfo, hosts, chroot, query] = m;
  for (const h of hosts!.split(',')) {
    if (!/^[^:]+:\d{1,5}$/.test(h)) return { error: `"${h}" in ${text} is not host:port.` };
  }
  const roots: ZkRoot[] = [];
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    const kind = ROOT_PARAMS[key];
    if (!kind) return { error: `Unknown parameter "${key}" in ${text}; use root=, services= or serverset=.` };
    if (!value.startsWith('/')) return { error: `The ${key} "${value}" in ${text} must be an absolute path.` };
    roots.push({ path: value.length > 1 ? value.replace(/\/+$/, '') : value, kind });
  }
  if (roots.length === 0) roots.push({ path: '/dubbo', kind: 'dubbo' }, { path: '/services', kind: 'services' });
  const cleanChroot = chroot && chroot !== '/' ? chroot.replace(/\/+$/, '') : '';
  const address = { connect: hosts! + cleanChroot, roots };
  return userInfo ? { ...address, digest: decodeURIComponent(userInfo) } : address;
}
