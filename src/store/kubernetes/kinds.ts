/**
 * The kinds metamesh reads from the Kubernetes API, as data: group, the versions to try in order
 * of preference, and the collection path. Pure.
 *
 * Istio serves networking.istio.io at v1 since 1.22, and v1beta1 and v1alpha3 before and beside
 * it; the CRDs of a cluster decide. A reflector lists at the first version and moves to the next
 * only when the API server answers 404 for it, so an older Istio works without a flag. Every
 * version holds the same objects (the API server converts), so which one is read changes nothing.
 */

export interface WatchedKind {
  readonly kind: string;
  /** '' for the core API group. */
  readonly group: string;
  /** Versions to try, most preferred first. */
  readonly versions: readonly string[];
  readonly plural: string;
  /** Only this one object (Istio's mesh config ConfigMap), instead of the kind in every namespace. */
  readonly only?: ObjectName;
  /** Only objects with these labels (`key=value,…`): the apply sink's own objects. */
  readonly labelSelector?: string;
}

export interface ObjectName {
  readonly namespace: string;
  readonly name: string;
}

const ISTIO_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];

/** The kinds the pipeline reads (src/input/read.ts's GROUPS), in a stable order. */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'ServiceEntry', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'serviceentries' },
  { kind: 'DestinationRule', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'destinationrules' },
  { kind: 'Gateway', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'gateways' },
  { kind: 'Service', group: '', versions: ['v1'], plural: 'services' },
  { kind: 'MetaRouter', group: 'metaprotocol.aeraki.io', versions: ['v1alpha1'], plural: 'metarouters' },
  { kind: 'ApplicationProtocol', group: 'metaprotocol.aeraki.io', versions: ['v1alpha1'], plural: 'applicationprotocols' },
];

/** Istio's mesh config: the ConfigMap `istio` in Istio's namespace (its `mesh` key). */
export const DEFAULT_MESH_CONFIG: ObjectName = { namespace: 'istio-system', name: 'istio' };

export function meshConfigKind(at: ObjectName): WatchedKind {
  return { kind: 'ConfigMap', group: '', versions: ['v1'], plural: 'configmaps', only: at };
}

export function apiVersionOf(k: WatchedKind, version: string): string {
  return k.group === '' ? version : `${k.group}/${version}`;
}

/** The collection to list and watch: every namespace, or the namespace of `only`. */
export function collectionPath(k: WatchedKind, version: string): string {
  const base = k.group === '' ? `/api/${version}` : `/apis/${k.group}/${version}`;
  return k.only ? `${base}/namespaces/${encodeURIComponent(k.only.namespace)}/${k.plural}` : `${base}/${k.plural}`;
}

/** Query parameters every list and watch of `k` carries (the field selector of `only`). */
export function selectorOf(k: WatchedKind): Record<string, string> {
  return {
    ...(k.only ? { fieldSelector: `metadata.name=${k.only.name}` } : {}),
    ...(k.labelSelector ? { labelSelector: k.labelSelector } : {}),
  };
}

/** How a kind is named in logs, /readyz and diagnostics: `kubernetes networking.istio.io/v1 serviceentries`. */
export function kindSource(k: WatchedKind, version: string): string {
  const what = k.only ? `${k.plural} ${k.only.namespace}/${k.only.name}` : k.plural;
  return `kubernetes ${apiVersionOf(k, version)} ${what}`;
}
