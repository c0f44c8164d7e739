/**
 * The flag groups of `serve` that map onto one options object each: the registries' outage policy,
 * the Kubernetes source, and what serve writes to the Kubernetes API. Pure: parsed values in, options or a usage reason out.
 */
import type { CatalogOptions } from '../catalog/model.js';
import { DEFAULT_MESH_CONFIG } from '../store/kubernetes/kinds.js';
import { parseDuration } from '../util/duration.js';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;
type Values = FlagValues;

export interface KubeFlags {
  /** --kubeconfig; undefined: $KUBECONFIG, the pod's service account, ~/.kube/config (in this order). */
  readonly kubeconfig: string | undefined;
  /** --mesh-config; undefined for `none`. */
  readonly meshConfig: { readonly namespace: string; readonly name: string } | undefined;
  /** --kube-sync-timeout, when given. */
  readonly syncTimeoutMs: number | undefined;
}

/** What `serve` writes to the Kubernetes API (--apply, --status, --leader-elect and their options). */
export interface WriteFlags {
  readonly apply: boolean;
  readonly status: boolean;
  /** --leader-elect: the Lease; undefined without it. */
  readonly leaderElection: { readonly namespace: string; readonly name: string } | undefined;
  readonly fieldManager: string;
  readonly instance: string;
  /** --allow-mass-deletion: the apply sink's guard against withdrawing most of its objects is off. */
  readonly allowMassDeletion: boolean;
}

/** The Lease's namespace without --lease-namespace: the pod's ($POD_NAMESPACE), else istio-system. */
export function defaultLeaseNamespace(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.POD_NAMESPACE || 'istio-system';
}

/** A label value of at most 63 characters. */
const INSTANCE = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A field manager: printable ASCII, at most 128 characters (the API server's limit). */
const FIELD_MANAGER_NAME = /^[\x21-\x7e]{1,128}$/;

/** The write flags of serve, or a usage reason; undefined when nothing is written. */
export function writeFlags(values: Values, kubeOn: boolean, env: Readonly<Record<string, string | undefined>> = process.env): WriteFlags | undefined | string {
  const apply = values.apply === true;
  const status = values.status === true;
  const elect = values['leader-elect'] === true;
  const leaseNs = values['lease-namespace'] as string | undefined;
  const leaseName = values['lease-name'] as string | undefined;
  const manager = values['field-manager'] as string | undefined;
  const instance = values.instance as string | undefined;
  const allowMassDeletion = values['allow-mass-deletion'] === true;
  if (allowMassDeletion && !apply) return '--allow-mass-deletion needs --apply';
  if (!apply && !status && !elect) {
    for (const [flag, v] of [['lease-namespace', leaseNs], ['lease-name', leaseName], ['field-manager', manager], ['instance', instance]] as const) {
      if (v !== undefined) return `--${flag} needs --apply, --status or --leader-elect`;
    }
    return undefined;
  }
  if (!kubeOn) return `${apply ? '--apply' : status ? '--status' : '--leader-elect'} needs --kubernetes or --kubeconfig`;
  if ((leaseNs !== undefined || leaseName !== undefined) && !elect) return `--${leaseNs !== undefined ? 'lease-namespace' : 'lease-name'} needs --leader-elect`;
  for (const [flag, v] of [['lease-namespace', leaseNs], ['lease-name', leaseName]] as const) {
    if (v !== undefined && !(NAME.test(v) && v.length <= 253)) return `--${flag} must be a Kubernetes object name (lowercase letters, digits, '-' and '.'), not ${JSON.stringify(v)}`;
  }
  if (manager !== undefined && !FIELD_MANAGER_NAME.test(manager)) return `--field-manager must be 1 to 128 printable ASCII characters without spaces, not ${JSON.stringify(manager)}`;
  if (instance !== undefined && !INSTANCE.test(instance)) return `--instance must be a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), not ${JSON.stringify(instance)}`;
  return {
    apply,
    status,
    leaderElection: elect ? { namespace: leaseNs ?? defaultLeaseNamespace(env), name: leaseName ?? 'metamesh' } : undefined,
    fieldManager: manager ?? 'metamesh',
    instance: instance ?? 'metamesh',
    allowMassDeletion,
  };
}

/** The longest removal grace or protection hold: a day (an outage policy is about minutes). */
const MAX_POLICY_SECONDS = 86_400;

/** The outage-policy flags given, or a usage reason. */
export function catalogFlags(values: Values): Partial<CatalogOptions> | string {
  const out: { -readonly [K in keyof CatalogOptions]?: CatalogOptions[K] } = {};
  for (const [flag, key] of [['registry-removal-grace', 'removalGraceMs'], ['registry-protection-hold', 'protectionHoldMs']] as const) {
    const v = values[flag] as string | undefined;
    if (v === undefined) continue;
    const seconds = parseDuration(v);
    if (seconds === undefined || seconds > MAX_POLICY_SECONDS) return `--${flag} must be a duration from 0s to 24h such as 30s or 5m, not ${JSON.stringify(v)}`;
    out[key] = Math.round(seconds * 1000);
  }
  const t = values['registry-protection-threshold'] as string | undefined;
  if (t !== undefined) {
    if (!/^(0(\.\d{1,6})?|1(\.0{1,6})?)$/.test(t)) return `--registry-protection-threshold must be a fraction from 0 to 1 such as 0.5, not ${JSON.stringify(t)}`;
    out.protectionThreshold = Number(t);
  }
  return out;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The Kubernetes flags of serve, or a usage reason. */
export function kubeFlags(values: Values): KubeFlags | undefined | string {
  const kubeconfig = values.kubeconfig as string | undefined;
  const on = values.kubernetes === true || kubeconfig !== undefined;
  const mesh = values['mesh-config'] as string | undefined;
  const sync = values['kube-sync-timeout'] as string | undefined;
  if (!on) {
    if (mesh !== undefined) return '--mesh-config needs --kubernetes or --kubeconfig';
    if (sync !== undefined) return '--kube-sync-timeout needs --kubernetes or --kubeconfig';
    return undefined;
  }
  if (kubeconfig === '') return '--kubeconfig needs a file';
  let meshConfig: KubeFlags['meshConfig'] = DEFAULT_MESH_CONFIG;
  if (mesh === 'none') meshConfig = undefined;
  else if (mesh !== undefined) {
    const [namespace, name, ...more] = mesh.split('/');
    if (more.length > 0 || !namespace || !name || !NAME.test(namespace) || !NAME.test(name)) return `--mesh-config must be <namespace>/<name> of a ConfigMap, or none, not ${JSON.stringify(mesh)}`;
    meshConfig = { namespace, name };
  }
  let syncTimeoutMs: number | undefined;
  if (sync !== undefined) {
    const seconds = parseDuration(sync);
    if (seconds === undefined || seconds > 3600) return `--kube-sync-timeout must be a duration up to 1h such as 30s or 0s, not ${JSON.stringify(sync)}`;
    syncTimeoutMs = Math.round(seconds * 1000);
  }
  return { kubeconfig, meshConfig, syncTimeoutMs };
}

const HOST_PORT = /^(\[[^\]]*\]|[^:]*):\d+$/;

export interface WebhookFlags {
  /** --webhook-address. */
  readonly address: string;
  /** --webhook-tls-cert, --webhook-tls-key: the API server only calls webhooks over HTTPS. */
  readonly cert: string;
  readonly key: string;
}

/** The admission webhook's flags: all three or none, or a usage reason. */
export function webhookFlags(values: Values): WebhookFlags | undefined | string {
  const address = values['webhook-address'] as string | undefined;
  const cert = values['webhook-tls-cert'] as string | undefined;
  const key = values['webhook-tls-key'] as string | undefined;
  if (address === undefined) {
    if (cert !== undefined || key !== undefined) return '--webhook-tls-cert and --webhook-tls-key need --webhook-address';
    return undefined;
  }
  if (!HOST_PORT.test(address)) return `--webhook-address must be host:port, not ${JSON.stringify(address)}`;
  if (cert === undefined || key === undefined) return '--webhook-address needs --webhook-tls-cert and --webhook-tls-key: the Kubernetes API server calls admission webhooks over HTTPS only';
  return { address, cert, key };
}

export interface McpFlags {
  /** --mcp-revision. */
  readonly revision: string | undefined;
  /** --mcp-address: MCP on its own listener (and not on the xDS port); undefined: on the xDS port. */
  readonly address: string | undefined;
  /** --mcp-plaintext: the MCP listener without TLS even when --tls-cert is given. */
  readonly plaintext: boolean;
}

/** A Kubernetes label value (non-empty: an empty revision would be no revision). */
const LABEL_VALUE = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * The MCP sink's flags, or a usage reason. istiod connects with server TLS at most (tlsSettings
 * SIMPLE; MUTUAL and ISTIO_MUTUAL fall back to plaintext) and presents no client certificate, so
 * with --tls-ca (sidecars must present one) istiod needs a listener of its own: --mcp-address.
 */
export function mcpFlags(values: Values): McpFlags | undefined | string {
  const on = values.mcp === true;
  const revision = values['mcp-revision'] as string | undefined;
  const address = values['mcp-address'] as string | undefined;
  const plaintext = values['mcp-plaintext'] === true;
  for (const [flag, given] of [['--mcp-revision', revision !== undefined], ['--mcp-address', address !== undefined], ['--mcp-plaintext', plaintext]] as const) {
    if (given && !on) return `${flag} needs --mcp`;
  }
  if (!on) return undefined;
  if (revision !== undefined && !LABEL_VALUE.test(revision)) return `--mcp-revision must be a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), not ${JSON.stringify(revision)}`;
  if (address !== undefined && !HOST_PORT.test(address)) return `--mcp-address must be host:port, not ${JSON.stringify(address)}`;
  if (plaintext && address === undefined) return '--mcp-plaintext needs --mcp-address (the xDS port keeps its own TLS)';
  if (values['tls-ca'] !== undefined && address === undefined) {
    return '--mcp with --tls-ca needs --mcp-address: istiod presents no client certificate (only server TLS, tlsSettings mode SIMPLE, works), so it gets a listener of its own with server TLS (or --mcp-plaintext) while sidecars keep mutual TLS on --xds-address';
  }
  return { revision, address, plaintext };
}

/** SPIFFE trust domains are DNS-name-like (Istio's trustDomain). */
const TRUST_DOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** --tls-client-trust-domain (repeatable; needs --tls-ca), or a usage reason. */
export function clientTrustDomains(values: Values): string[] | string {
  const given = (values['tls-client-trust-domain'] as string[] | undefined) ?? [];
  if (given.length > 0 && values['tls-ca'] === undefined) return '--tls-client-trust-domain needs --tls-ca: without client certificates there is no client identity to check';
  const bad = given.find((d) => !TRUST_DOMAIN.test(d));
  if (bad !== undefined) return `--tls-client-trust-domain must be a trust domain such as cluster.local, not ${JSON.stringify(bad)}`;
  return [...new Set(given)].sort();
}
