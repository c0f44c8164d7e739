/**
 * Input stage: documents (parse.ts) → typed resources (a ConfigSet). Pure: the caller reads the files.
 *
 * Every document is checked on its own; a bad one yields diagnostics and never affects the others.
 * Duplicates (same kind, namespace and name) are resolved by content, not by position, so the same
 * set of documents in any order gives the same ConfigSet.
 */
import { cmp, diag, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import type { Options } from '../model/options.js';
import { resolveOptions } from '../config/options.js';
import { isPlainObject, type DecodeContext } from '../util/decode.js';
import { objectMeta, serviceEntryStatus, SPEC_DECODERS } from './schemas.js';
import { canonicalJson } from '../util/canonical.js';
import { validateDestinationRule } from '../validate/destinationrule.js';
import { validateServiceEntry } from '../validate/serviceentry.js';
import type { SourceDocument } from './parse.js';

export { parseYaml, type SourceDocument } from './parse.js';

export interface ConfigSet {
  serviceEntries: R.ServiceEntry[];
  services: R.KubeService[];
  destinationRules: R.DestinationRule[];
  gateways: R.Gateway[];
  metaRouters: R.MetaRouter[];
  applicationProtocols: R.ApplicationProtocol[];
  options: Options;
}

export const OPTIONS_KIND = 'MetameshOptions';

/** Kinds read, with the API groups accepted for each (any version). */
const GROUPS: Record<string, string[]> = {
  ServiceEntry: ['networking.istio.io'],
  DestinationRule: ['networking.istio.io'],
  Gateway: ['networking.istio.io'],
  Service: [''],
  MetaRouter: ['metaprotocol.aeraki.io'],
  ApplicationProtocol: ['metaprotocol.aeraki.io'],
  [OPTIONS_KIND]: ['metamesh.io'],
};

/**
 * Kind names that other APIs use too (the Gateway API's Gateway, Knative's Service): under a group
 * outside Istio, Aeraki and metamesh they are someone else's kind, not a mistake. Every other kind
 * of GROUPS exists only in those projects, so any other group is a wrong apiVersion.
 */
const SHARED_KIND_NAMES = new Set(['Gateway', 'Service']);
const OUR_GROUP_SUFFIXES = ['istio.io', 'aeraki.io', 'metamesh.io'];

/**
 * Istio's own validation for the Istio kinds whose content metamesh uses. An object that fails it
 * would not exist in a cluster (the API server refuses it, istiod drops it), so it is dropped here,
 * before any stage sees it.
 */
const ISTIO_VALIDATION: Record<string, { code: 'MM_SERVICEENTRY_INVALID' | 'MM_DESTINATIONRULE_INVALID'; validate: (r: R.Resource<string, unknown>) => Diagnostic[] }> = {
  ServiceEntry: { code: 'MM_SERVICEENTRY_INVALID', validate: (r) => validateServiceEntry(r as R.ServiceEntry) },
  DestinationRule: { code: 'MM_DESTINATIONRULE_INVALID', validate: (r) => validateDestinationRule(r as R.DestinationRule) },
};

/** Kinds commonly found next to ours in a manifest directory: ignored without a warning. */
const QUIET_KINDS = new Set(['EnvoyFilter', 'VirtualService', 'Deployment', 'ConfigMap', 'Namespace', 'ServiceAccount', 'Sidecar', 'PeerAuthentication', 'AuthorizationPolicy', 'CustomResourceDefinition']);

interface Decoded {
  kind: string;
  key: string;
  resource: R.Resource<string, unknown>;
  canonical: string;
  source: string;
  document: SourceDocument;
  origin: SourceDocument;
}

/**
 * What the input stage made of the documents, including what it dropped, so that a stateful caller
 * (the store of `metamesh serve`) can decide what stays served. `rejected`: keys (`Kind ns/name`)
 * of resources identified but invalid, so nothing was read for them (an unknown field in a
 * MetaRouter, a failed Istio validation, an invalid MetameshOptions value …). `unidentified`: input
 * documents (before `kind: List` expansion) with a part not attributable to any resource (not a
 * mapping, no name, a wrong API group).
 */
export interface ReadResult {
  config: ConfigSet;
  diagnostics: Diagnostic[];
  /** Each resource read, by key: the document it was read from, and the input document that held it. */
  read: Map<string, { document: SourceDocument; origin: SourceDocument }>;
  rejected: string[];
  unidentified: SourceDocument[];
}

/**
 * `pinned` maps keys to the documents to read for them instead of whatever `documents` hold for
 * those keys: the caller's last valid versions. The documents of `documents` for a pinned key are
 * still decoded, so their diagnostics are reported, but they are not used.
 */
export function readResources(documents: readonly SourceDocument[], pinned: ReadonlyMap<string, SourceDocument> = new Map()): ReadResult {
  const diagnostics: Diagnostic[] = [];
  const byKey = new Map<string, Decoded[]>();
  const rejected = new Set<string>();
  const unidentified = new Set<SourceDocument>();
  const add = (d: Decoded) => {
    const same = byKey.get(d.key);
    if (same) same.push(d);
    else byKey.set(d.key, [d]);
  };
  for (const [origin, doc] of flattenLists(documents)) {
    const d = decodeDocument(doc, origin, diagnostics);
    if (typeof d === 'object') {
      if (!pinned.has(d.key)) add(d);
    } else if (d === UNIDENTIFIED) unidentified.add(origin);
    else if (d !== IGNORED) rejected.add(d);
  }
  for (const doc of pinned.values()) {
    // A pinned document was valid when it was pinned; what it said then was reported then.
    const d = decodeDocument(doc, doc, []);
    if (typeof d === 'object') add(d);
  }
  const config: ConfigSet = {
    serviceEntries: [],
    services: [],
    destinationRules: [],
    gateways: [],
    metaRouters: [],
    applicationProtocols: [],
    options: resolveOptions(undefined, OPTIONS_KIND, diagnostics),
  };
  const optionDocs: Decoded[] = [];
  const read = new Map<string, { document: SourceDocument; origin: SourceDocument }>();
  for (const key of [...byKey.keys()].sort(cmp)) {
    const group = byKey.get(key)!.sort((a, b) => cmp(a.canonical, b.canonical));
    const kept = group[0]!;
    for (const other of group.slice(1)) {
      if (other.canonical === kept.canonical) continue; // the same object twice is harmless
      diagnostics.push(
        diag('MM_INPUT_DUPLICATE', key, `${key} is defined more than once with different contents (${[kept.source, other.source].sort(cmp).join(', ')}); the one at ${kept.source} was used. Keep one definition.`),
      );
    }
    if (kept.kind === OPTIONS_KIND) optionDocs.push(kept);
    else push(config, kept.resource);
    read.set(key, { document: kept.document, origin: kept.origin });
  }
  if (optionDocs.length > 1) {
    diagnostics.push(diag('MM_OPTIONS_DUPLICATE', OPTIONS_KIND, `${optionDocs.length} MetameshOptions documents were given (${optionDocs.map((d) => d.key).join(', ')}); only ${optionDocs[0]!.key} was used.`));
  }
  if (optionDocs.length > 0) {
    const errorsBefore = countErrors(diagnostics);
    config.options = resolveOptions(optionDocs[0]!.resource.spec, optionDocs[0]!.key, diagnostics);
    if (countErrors(diagnostics) > errorsBefore && !pinned.has(optionDocs[0]!.key)) {
      rejected.add(optionDocs[0]!.key);
      read.delete(optionDocs[0]!.key);
    }
  }
  for (const d of optionDocs.slice(1)) read.delete(d.key);
  return { config, diagnostics, read, rejected: [...rejected].filter((k) => !read.has(k)).sort(cmp), unidentified: [...unidentified] };
}

/** `kind: List` documents (what `kubectl get -o yaml` prints) are expanded into their items, each with its List. */
function* flattenLists(documents: readonly SourceDocument[]): Generator<[SourceDocument, SourceDocument]> {
  for (const doc of documents) {
    const v = doc.value;
    if (isPlainObject(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (let i = 0; i < v.items.length; i++) yield [doc, { source: `${doc.source} items[${i}]`, value: v.items[i] }];
    } else {
      yield [doc, doc];
    }
  }
}

/** A document dropped before it could be attributed to a resource (an error was reported). */
const UNIDENTIFIED = Symbol('unidentified');
/** A document of a kind metamesh does not read (another API's object): nothing of ours. */
const IGNORED = Symbol('ignored');

/** The decoded resource, or the key of a resource that was rejected, or why nothing was decoded. */
function decodeDocument(doc: SourceDocument, origin: SourceDocument, diagnostics: Diagnostic[]): Decoded | string | typeof UNIDENTIFIED | typeof IGNORED {
  const v = doc.value;
  if (!isPlainObject(v) || typeof v.kind !== 'string' || typeof v.apiVersion !== 'string' || !isPlainObject(v.metadata)) {
    diagnostics.push(diag('MM_INPUT_NOT_OBJECT', doc.source, `${doc.source} is not a Kubernetes resource (a mapping with apiVersion, kind and metadata); it was skipped.`));
    return UNIDENTIFIED;
  }
  const kind = v.kind;
  const group = v.apiVersion.includes('/') ? v.apiVersion.slice(0, v.apiVersion.lastIndexOf('/')) : '';
  const groups = GROUPS[kind];
  if (groups && !groups.includes(group) && isOurs(kind, group)) {
    const right = groups[0] === '' ? 'the core API group (apiVersion: v1)' : groups[0]!;
    diagnostics.push(diag('MM_INPUT_WRONG_GROUP', doc.source, `${doc.source}: ${kind} belongs to ${right}, not ${group || 'the core API group'} (apiVersion: ${v.apiVersion}); it was ignored. Fix the apiVersion.`));
    return UNIDENTIFIED;
  }
  if (!groups || !groups.includes(group)) {
    if (!QUIET_KINDS.has(kind)) {
      diagnostics.push(diag('MM_INPUT_UNKNOWN_KIND', doc.source, `${doc.source}: ${v.apiVersion} ${kind} is not read by metamesh; it was ignored.`));
    }
    return IGNORED;
  }
  const rawName = v.metadata.name;
  if (typeof rawName !== 'string' || rawName === '') {
    diagnostics.push(diag('MM_INPUT_NO_NAME', doc.source, `${doc.source}: the ${kind} has no metadata.name; it was skipped.`));
    return UNIDENTIFIED;
  }
  const rawNs = v.metadata.namespace;
  const namespace = kind === OPTIONS_KIND ? '' : typeof rawNs === 'string' && rawNs !== '' ? rawNs : 'default';
  const key = namespace ? `${kind} ${namespace}/${rawName}` : `${kind} ${rawName}`;
  const ctx: DecodeContext = { object: key, diagnostics };
  const metadata = objectMeta(v.metadata, 'metadata', ctx) ?? { name: rawName, namespace };
  metadata.name = rawName;
  metadata.namespace = namespace;
  const decodeSpec = SPEC_DECODERS[kind];
  const rawSpec = v.spec ?? {};
  const errorsBefore = countErrors(diagnostics);
  const spec = decodeSpec ? decodeSpec(rawSpec, 'spec', ctx) : rawSpec;
  const istio = ISTIO_VALIDATION[kind];
  if (spec === undefined) return key;
  // A MetaRouter or ApplicationProtocol with a typo or a mistyped field is not half-applied.
  if (countErrors(diagnostics) > errorsBefore) {
    if (kind === 'MetaRouter') {
      diagnostics.push(diag('MM_ROUTER_NOT_APPLIED', key, 'was not applied because of the errors reported on it; its host keeps its default route (or the next MetaRouter for it). Fix them and re-apply.'));
      return key;
    }
    if (kind === 'ApplicationProtocol') {
      diagnostics.push(diag('MM_PROTOCOL_INVALID', key, 'was ignored because of the errors reported on it.'));
      return key;
    }
    if (istio) {
      diagnostics.push(diag(istio.code, key, `has fields of the wrong type (each reported as MM_INPUT_FIELD_TYPE), which the Kubernetes API server rejects; metamesh treats this ${kind} as absent and generates nothing for it. Fix the fields and re-apply.`));
      return key;
    }
  }
  const resource = { apiVersion: v.apiVersion, kind, metadata, spec } as R.Resource<string, unknown> & { status?: unknown };
  // Istio's auto-allocated addresses (src/serviceentry/address.ts); no other status is read.
  const status = kind === 'ServiceEntry' ? serviceEntryStatus(v.status) : undefined;
  if (status) resource.status = status;
  if (istio) {
    const found = istio.validate(resource);
    diagnostics.push(...found);
    if (found.some((d) => d.severity === 'error')) return key;
  }
  return { kind, key, resource, canonical: canonicalJson(v), source: doc.source, document: doc, origin };
}

/** Whether `kind` under `group` (not one of its accepted groups) can only be a mistaken apiVersion. */
function isOurs(kind: string, group: string): boolean {
  return !SHARED_KIND_NAMES.has(kind) || OUR_GROUP_SUFFIXES.some((s) => group === s || group.endsWith(`.${s}`));
}

function countErrors(list: readonly Diagnostic[]): number {
  let n = 0;
  for (const d of list) if (d.severity === 'error') n++;
  return n;
}

function push(config: ConfigSet, r: R.Resource<string, unknown>): void {
  switch (r.kind) {
    case 'ServiceEntry': config.serviceEntries.push(r as R.ServiceEntry); break;
    case 'Service': config.services.push(r as R.KubeService); break;
    case 'DestinationRule': config.destinationRules.push(r as R.DestinationRule); break;
    case 'Gateway': config.gateways.push(r as R.Gateway); break;
    case 'MetaRouter': config.metaRouters.push(r as R.MetaRouter); break;
    case 'ApplicationProtocol': config.applicationProtocols.push(r as R.ApplicationProtocol); break;
    default: throw new Error(`bug: no slot for kind ${r.kind}`);
  }
}
