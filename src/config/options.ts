/**
 * Options: decode a `MetameshOptions` spec (or flag overrides in the same shape) onto the defaults.
 * An invalid option keeps its default and yields MM_OPTIONS_INVALID.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { DEFAULT_OPTIONS, type Options } from '../model/options.js';
import { bool, int, map, num, object, oneOf, str, type DecodeContext } from '../util/decode.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const optionsSpec = object<DeepPartial<Options>>({
  rootNamespace: str,
  domain: str,
  proxySelector: map(str),
  vipCidr: str,
  xds: object({ clusterName: str, address: str, port: int(1, 65535), tls: oneOf('ISTIO_MUTUAL', 'DISABLE') }),
  mesh: object({
    accessLogFile: str,
    accessLogEncoding: oneOf('TEXT', 'JSON'),
    accessLogFormat: str,
    enableTracing: bool,
    tracingSampling: num,
  }),
});

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function resolveOptions(spec: unknown, object: string, diagnostics: Diagnostic[]): Options {
  const ctx: DecodeContext = { object, diagnostics };
  const given = (spec === undefined ? {} : optionsSpec(spec, 'spec', ctx)) ?? {};
  const o: Options = {
    ...DEFAULT_OPTIONS,
    ...pick(given, ['rootNamespace', 'domain', 'vipCidr']),
    proxySelector: (given.proxySelector as Record<string, string> | undefined) ?? DEFAULT_OPTIONS.proxySelector,
    xds: { ...DEFAULT_OPTIONS.xds, ...(given.xds ?? {}) },
    mesh: { ...DEFAULT_OPTIONS.mesh, ...(given.mesh ?? {}) },
  };
  const bad = (field: string, why: string, reset: () => void) => {
    diagnostics.push(diag('MM_OPTIONS_INVALID', object, `spec.${field} ${why}; the default was used.`));
    reset();
  };
  if (!DNS_LABEL.test(o.rootNamespace))
    bad('rootNamespace', 'must be a namespace name', () => (o.rootNamespace = DEFAULT_OPTIONS.rootNamespace));
  if (!DNS_NAME.test(o.domain)) bad('domain', 'must be a DNS name', () => (o.domain = DEFAULT_OPTIONS.domain));
  if (!validCidr(o.vipCidr))
    bad('vipCidr', 'must be an IPv4 block from /8 to /30, like 240.240.0.0/16', () => (o.vipCidr = DEFAULT_OPTIONS.vipCidr));
  if (!DNS_NAME.test(o.xds.address) && !/^\d{1,3}(\.\d{1,3}){3}$/.test(o.xds.address))
    bad('xds.address', 'must be a DNS name or an IPv4 address', () => (o.xds.address = DEFAULT_OPTIONS.xds.address));
  if (!/^[A-Za-z0-9_.|~-]{1,200}$/.test(o.xds.clusterName))
    bad('xds.clusterName', 'must be a plain Envoy cluster name', () => (o.xds.clusterName = DEFAULT_OPTIONS.xds.clusterName));
  if (!(o.mesh.tracingSampling >= 0 && o.mesh.tracingSampling <= 100))
    bad('mesh.tracingSampling', 'must be a percentage from 0 to 100', () => (o.mesh.tracingSampling = DEFAULT_OPTIONS.mesh.tracingSampling));
  if (o.mesh.accessLogEncoding === 'JSON' && o.mesh.accessLogFormat !== '' && !isJsonObject(o.mesh.accessLogFormat))
    bad('mesh.accessLogFormat', 'must be a JSON object when accessLogEncoding is JSON', () => (o.mesh.accessLogFormat = ''));
  // The default xDS address is metamesh's Service in the root namespace, under the cluster domain.
  if (given.xds?.address === undefined) o.xds.address = `metamesh.${o.rootNamespace}.svc.${o.domain}`;
  for (const [k, v] of Object.entries(o.proxySelector)) {
    if (v === '') bad('proxySelector', `has an empty value for ${k}`, () => (o.proxySelector = DEFAULT_OPTIONS.proxySelector));
  }
  return o;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function validCidr(s: string): boolean {
  const m = IPV4_CIDR.exec(s);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  return octets.every((o) => o <= 255) && bits >= 8 && bits <= 30;
}

function isJsonObject(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
