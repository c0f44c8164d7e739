/**
 * Options: decode a `MetameshOptions` spec (or flag overrides in the same shape) onto the defaults.
 * An invalid option keeps its default and yields MM_OPTIONS_INVALID.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { DEFAULT_OPTIONS, spiffeId, type Options } from '../model/options.js';
import { bool, int, list, map, num, object, oneOf, str, type DecodeContext } from '../util/decode.js';
import { isIPv4, parseIpv4Cidr } from '../util/ip.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const optionsSpec = object<DeepPartial<Options>>({
  rootNamespace: str,
  domain: str,
  trustDomain: str,
  proxySelector: map(str),
  vipCidr: str,
  xds: object({
    clusterName: str,
    address: str,
    port: int(1, 65535),
    tls: oneOf('ISTIO_MUTUAL', 'DISABLE'),
    namespace: str,
    serviceAccount: str,
    subjectAltNames: list(str),
  }),
  mesh: object({
    accessLogFile: str,
    accessLogEncoding: oneOf('TEXT', 'JSON'),
    accessLogFormat: str,
    enableTracing: bool,
    tracingSampling: num,
  }),
});

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function resolveOptions(spec: unknown, object: string, diagnostics: Diagnostic[]): Options {
  const ctx: DecodeContext = { object, diagnostics };
  const given = (spec === undefined ? {} : optionsSpec(spec, 'spec', ctx)) ?? {};
  const o: Options = {
    ...DEFAULT_OPTIONS,
    ...pick(given, ['rootNamespace', 'domain', 'trustDomain', 'vipCidr']),
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
  if (!DNS_NAME.test(o.trustDomain)) bad('trustDomain', 'must be a DNS name, like cluster.local', () => (o.trustDomain = DEFAULT_OPTIONS.trustDomain));
  if (!validCidr(o.vipCidr))
    bad('vipCidr', 'must be an IPv4 block from /8 to /30, like 240.240.0.0/16', () => (o.vipCidr = DEFAULT_OPTIONS.vipCidr));
  if (!DNS_NAME.test(o.xds.address) && !isIPv4(o.xds.address))
    bad('xds.address', 'must be a DNS name or an IPv4 address', () => (o.xds.address = DEFAULT_OPTIONS.xds.address));
  if (!/^[A-Za-z0-9_.|~-]{1,200}$/.test(o.xds.clusterName))
    bad('xds.clusterName', 'must be a plain Envoy cluster name', () => (o.xds.clusterName = DEFAULT_OPTIONS.xds.clusterName));
  if (!(o.mesh.tracingSampling >= 0 && o.mesh.tracingSampling <= 100))
    bad('mesh.tracingSampling', 'must be a percentage from 0 to 100', () => (o.mesh.tracingSampling = DEFAULT_OPTIONS.mesh.tracingSampling));
  if (o.mesh.accessLogEncoding === 'JSON' && o.mesh.accessLogFormat !== '' && !isJsonObject(o.mesh.accessLogFormat))
    bad('mesh.accessLogFormat', 'must be a JSON object when accessLogEncoding is JSON', () => (o.mesh.accessLogFormat = ''));
  // The default xDS address is metamesh's Service in the root namespace, under the cluster domain.
  if (given.xds?.address === undefined) o.xds.address = `metamesh.${o.rootNamespace}.svc.${o.domain}`;
  // metamesh's identity: by default it runs in the root namespace, next to its default address.
  if (given.xds?.namespace === undefined) o.xds.namespace = o.rootNamespace;
  else if (!DNS_LABEL.test(o.xds.namespace) || o.xds.namespace.length > 63)
    bad('xds.namespace', 'must be a namespace name', () => (o.xds.namespace = o.rootNamespace));
  if (!DNS_NAME.test(o.xds.serviceAccount))
    bad('xds.serviceAccount', 'must be a service account name (a DNS subdomain)', () => (o.xds.serviceAccount = DEFAULT_OPTIONS.xds.serviceAccount));
  // The SANs sidecars require of the xDS server: metamesh's SPIFFE id unless given explicitly.
  const sans = given.xds?.subjectAltNames;
  o.xds.subjectAltNames = [spiffeId(o.trustDomain, o.xds.namespace, o.xds.serviceAccount)];
  if (sans !== undefined && sans.length > 0 && sans.every((s) => s !== '')) o.xds.subjectAltNames = [...sans];
  else if (sans !== undefined) bad('xds.subjectAltNames', 'must list one or more non-empty subject alternative names', () => undefined);
  for (const [k, v] of Object.entries(o.proxySelector)) {
    if (v === '') bad('proxySelector', `has an empty value for ${k}`, () => (o.proxySelector = DEFAULT_OPTIONS.proxySelector));
  }
  return o;
}

/**
 * `over` laid on `base`, field by field: mappings merge (recursively), anything else in `over`
 * replaces what `base` has. Either may be undefined or not a mapping (then `over` wins as is, so
 * the decoder reports what is wrong with it).
 */
export function layerSpecs(base: unknown, over: unknown): unknown {
  if (base === undefined) return over;
  if (over === undefined) return base;
  if (!isMapping(base) || !isMapping(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = layerSpecs(base[k], v);
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function validCidr(s: string): boolean {
  const block = parseIpv4Cidr(s);
  return block !== undefined && block.bits >= 8 && block.bits <= 30;
}

function isJsonObject(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
