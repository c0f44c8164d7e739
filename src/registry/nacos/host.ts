/**
 * Service hosts for Nacos services, compatible with dubbo2istio's naming so that meshes moving
 * from it keep their hosts: `interface[-group][-version with "." → "-"]`, then `.<nacos group>`
 * unless it is DEFAULT_GROUP, then `.<namespace id>` unless it is `public`, all in lower case.
 * Characters a DNS name cannot hold (Dubbo's `$` of inner classes, written `___` in Nacos, `_`,
 * `:`) become `-`, so every host is a valid ServiceEntry host.
 */
import { DEFAULT_GROUP, DEFAULT_NAMESPACE } from './read.js';

export interface HostParts {
  /** The interface, application or plain service name the host starts with. */
  readonly base: string;
  readonly dubboGroup?: string | undefined;
  readonly dubboVersion?: string | undefined;
  readonly nacosGroup: string;
  readonly namespace: string;
}

function dnsSafe(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/(^|\.)-+/g, '$1')
    .replace(/-+($|\.)/g, '$1');
}

export function nacosHost(p: HostParts): string {
  let name = p.base;
  if (p.dubboGroup) name += `-${p.dubboGroup}`;
  if (p.dubboVersion) name += `-${p.dubboVersion.replace(/\./g, '-')}`;
  if (p.nacosGroup && p.nacosGroup !== DEFAULT_GROUP) name += `.${p.nacosGroup}`;
  if (p.namespace && p.namespace !== DEFAULT_NAMESPACE) name += `.${p.namespace}`;
  return dnsSafe(name);
}
