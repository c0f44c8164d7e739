/**
 * Where an object metamesh writes lives in the API: the REST path of one object (and of its status
 * subresource), from its apiVersion, kind, namespace and name. Pure. Only the kinds metamesh writes
 * are known; any other is refused (undefined), never guessed.
 */

/** The plural (resource) name of each kind metamesh writes or writes the status of. */
const PLURALS: Readonly<Record<string, string>> = {
  ServiceEntry: 'serviceentries',
  EnvoyFilter: 'envoyfilters',
  VirtualService: 'virtualservices',
  DestinationRule: 'destinationrules',
  MetaRouter: 'metarouters',
  ApplicationProtocol: 'applicationprotocols',
  Lease: 'leases',
};

export interface ObjectCoordinates {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** `/apis/<group>/<version>/namespaces/<ns>/<plural>` (or `/api/v1/...` for the core group). */
export function collectionPathOf(o: Omit<ObjectCoordinates, 'name'>): string | undefined {
  const plural = PLURALS[o.kind];
  if (plural === undefined || o.apiVersion === '') return undefined;
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return o.namespace ? `${base}/namespaces/${encodeURIComponent(o.namespace)}/${plural}` : `${base}/${plural}`;
}

/** The path of one object; undefined for a kind metamesh does not write. */
export function objectPathOf(o: ObjectCoordinates): string | undefined {
  const c = collectionPathOf(o);
  return c === undefined ? undefined : `${c}/${encodeURIComponent(o.name)}`;
}

/** The content type of a server-side apply (the body is JSON, which is YAML). */
export const APPLY_PATCH = 'application/apply-patch+yaml';
