/**
 * Service keys and heads (what a service is, before its instances): unique within a registry and
 * stable across reads. Dubbo interfaces use Dubbo's colon key (`interface:version:group`, both colons
 * always) reordered as `dubbo:<interface>:<group>:<version>`; applications `dubbo-app:<app>`.
 */
import type { ServiceHead } from './collect.js';
import { applicationHost, dubboHost } from './naming.js';

export function dubboServiceKey(iface: string, group: string | undefined, version: string | undefined): string {
  return `dubbo:${iface}:${group ?? ''}:${version ?? ''}`;
}

export function interfaceHead(iface: string, group: string | undefined, version: string | undefined): ServiceHead {
  return { key: dubboServiceKey(iface, group, version), host: dubboHost(iface, group, version), interface: iface, ...(group ? { group } : {}), ...(version ? { version } : {}) };
}

export function applicationHead(app: string): ServiceHead {
  return { key: `dubbo-app:${app}`, host: applicationHost(app), application: app };
}
