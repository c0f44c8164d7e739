/**
 * The flag groups of `serve` that map onto one options object each: the registries' outage policy
 * and the Kubernetes source. Pure: parsed values in, options or a usage reason out.
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
