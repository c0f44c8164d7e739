/**
 * The admission decision for one MetaRouter or ApplicationProtocol: the same checks `metamesh
 * validate` and the pipeline make, on that one object. Pure.
 *
 * Reused, not repeated: the object goes through the input stage (readResources: field types, the
 * closed schemas of Aeraki's kinds), a MetaRouter through the pipeline's own per-router check
 * (routerState → validateMetaRouter, with the RE2 check), an ApplicationProtocol through the
 * protocol table (buildProtocolTable, which checks its protocol and codec names).
 *
 * The rule is `metamesh validate`'s exit rule (model/verdict.ts, without --strict): an object is
 * refused when it has an error, or a warning whose code means that something written would not
 * take effect (MM_ROUTER_UNREACHABLE_ROUTE, MM_ROUTER_NULL_MATCH …). Other warnings are returned
 * as admission warnings (kubectl prints them); notes are dropped.
 *
 * Context-free on purpose: what depends on other objects (two MetaRouters for one host, a host no
 * service defines, a subset no DestinationRule defines, two ApplicationProtocols for one protocol)
 * is not decided here, since the order in which objects are created would then decide what is
 * accepted; the pipeline reports those (diagnostics, status, /debug/explain).
 */
import { compareDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import { verdict } from '../model/verdict.js';
import { readResources } from '../input/read.js';
import { routerState } from '../pipeline/routers.js';
import { buildProtocolTable, type ProtocolDescriptor } from '../protocol/table.js';
import type { RegexCheck } from '../util/regex.js';

/** The kinds the webhook decides on: (group, kind) as the AdmissionReview names them. */
export const ADMITTED_KINDS: Readonly<Record<string, { readonly group: string }>> = {
  MetaRouter: { group: 'metaprotocol.aeraki.io' },
  ApplicationProtocol: { group: 'metaprotocol.aeraki.io' },
};

export interface AdmissionContext {
  /** The cluster DNS domain (options.domain), for expanding short hosts like the pipeline does. */
  readonly domain: string;
  readonly builtins: readonly ProtocolDescriptor[];
  readonly checkRegex: RegexCheck;
}

export interface AdmissionDecision {
  /** `Kind namespace/name`, as diagnostics name it. */
  readonly object: string;
  readonly allowed: boolean;
  /** Every diagnostic about the object, sorted (the refusal names the deciding ones). */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Decides on `object` (the object of a CREATE or UPDATE, already past the CRD's schema) of
 * `kind`, in `namespace` (the request's, used when the object does not carry one).
 */
export function admit(kind: string, object: unknown, namespace: string, context: AdmissionContext): AdmissionDecision {
  const doc = withNamespace(object, namespace);
  const ref = `${kind} ${namespaceOf(doc, namespace)}/${nameOf(doc)}`;
  const read = readResources([{ source: ref, value: doc }]);
  const diagnostics = [...read.diagnostics.filter((d) => d.code !== 'MM_OPTIONS_INVALID')];
  if (kind === 'MetaRouter') {
    for (const mr of read.config.metaRouters) diagnostics.push(...routerState(key(mr), mr, context.domain, context.checkRegex).diagnostics);
  } else if (kind === 'ApplicationProtocol') {
    const found = buildProtocolTable(context.builtins, read.config.applicationProtocols).diagnostics;
    diagnostics.push(...found.filter((d) => d.code === 'MM_PROTOCOL_INVALID'));
  }
  diagnostics.sort(compareDiagnostics);
  return { object: ref, allowed: verdict(diagnostics).exitCode === 0, diagnostics };
}

/** The diagnostics that decided a refusal: errors and "not in effect" warnings. */
export function deciding(d: AdmissionDecision): Diagnostic[] {
  return d.diagnostics.filter((x) => verdict([x]).exitCode === 1);
}

function key(r: R.Resource<string, unknown>): string {
  return `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
}

/**
 * The object with metadata.namespace (the API server sets it on namespaced objects; a request
 * without it is answered for the request's namespace) and a name: an object created with
 * generateName has none yet, and the input stage skips nameless objects.
 */
function withNamespace(object: unknown, namespace: string): unknown {
  if (!isMapping(object) || !isMapping(object.metadata)) return object;
  const meta = object.metadata;
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : namespace;
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : `${typeof meta.generateName === 'string' ? meta.generateName : ''}(generated)`;
  // Only what the checks read: the API server validates metadata itself, and a field it leaves
  // null before storing (creationTimestamp on CREATE) must not read as a type error.
  const kept: Record<string, unknown> = { name, namespace: ns };
  for (const k of ['labels', 'annotations'] as const) if (isMapping(meta[k])) kept[k] = meta[k];
  return { ...object, metadata: kept };
}

function namespaceOf(object: unknown, fallback: string): string {
  return isMapping(object) && isMapping(object.metadata) && typeof object.metadata.namespace === 'string' ? object.metadata.namespace : fallback;
}

function nameOf(object: unknown): string {
  return isMapping(object) && isMapping(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(no name)';
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
