/**
 * Input stage: YAML text → typed resources (a ConfigSet). Pure: the caller reads the files.
 *
 * Every document is checked on its own; a bad one yields diagnostics and never affects the others.
 * Duplicates (same kind, namespace and name) are resolved by content, not by position, so the same
 * set of documents in any order gives the same ConfigSet.
 */
import { Composer, LineCounter, Parser } from 'yaml';
import { cmp, diag, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import type { Options } from '../model/options.js';
import { resolveOptions } from '../config/options.js';
import { isPlainObject, type DecodeContext } from '../util/decode.js';
import { objectMeta, SPEC_DECODERS } from './schemas.js';
import { canonicalJson } from '../util/canonical.js';
import { validateDestinationRule } from '../validate/destinationrule.js';
import { validateServiceEntry } from '../validate/serviceentry.js';
import { DEFAULT_INPUT_LIMITS, ExpansionMeter, tooLarge, type InputLimits } from './limits.js';

export interface SourceDocument {
  /** Where it came from, e.g. `examples/dubbo.yaml#2`; only used in messages. */
  readonly source: string;
  readonly value: unknown;
}

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

/**
 * Splits one file's text into documents. Never throws. A file over one of `limits` (see
 * src/input/limits.ts) gives one diagnostic naming the file and the limit, and no documents: its
 * other documents are not used either, since a half-read file is not what its author wrote.
 * Parsing is incremental, so a file with too many documents costs only the documents up to the
 * limit.
 */
export function parseYaml(text: string, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const documents: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const overLimit = (d: Diagnostic) => ({ documents: [], diagnostics: [d] });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxFileBytes) return overLimit(tooLarge(source, limits, bytes));
  const meter = new ExpansionMeter(limits);
  const lines = new LineCounter();
  let i = 0;
  try {
    for (const doc of new Composer({ uniqueKeys: true }).compose(new Parser(lines.addNewLine).parse(text))) {
      i++;
      if (i > limits.maxDocuments) {
        return overLimit(diag('MM_INPUT_TOO_MANY_DOCUMENTS', source, `${source} has more than ${limits.maxDocuments} YAML documents (the limit, --max-documents); the whole file was skipped. Split it into several files.`));
      }
      const where = `${source}#${i}`;
      if (doc.errors.length > 0) {
        const first = doc.errors[0]!;
        const at = first.pos[0] >= 0 ? lines.linePos(first.pos[0]) : undefined;
        const position = at ? ` at line ${at.line}, column ${at.col}` : '';
        diagnostics.push(diag('MM_INPUT_YAML_SYNTAX', where, `${where}: ${first.message.split('\n')[0]}${position}; the document was skipped.`));
        continue;
      }
      const excess = meter.measure(doc);
      if (excess?.limit === 'maxDepth') {
        return overLimit(diag('MM_INPUT_TOO_DEEP', where, `${where} nests mappings and sequences more than ${limits.maxDepth} levels deep (the limit, --max-depth), counting what its aliases stand for; the whole file ${source} was skipped.`));
      }
      if (excess) {
        const what = excess.circular ? 'has an alias to a node that contains it, which expands without end' : `expands its aliases to more than ${limits.maxExpandedBytes} bytes together with the documents before it (the limit, --max-expanded-bytes)`;
        return overLimit(diag('MM_INPUT_ALIAS_EXPANSION', where, `${where} ${what}; the whole file ${source} was skipped. Write the repeated parts out, or use fewer aliases.`));
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: -1 });
      } catch (e) {
        diagnostics.push(diag('MM_INPUT_YAML_SYNTAX', where, `${where}: ${(e as Error).message}; the document was skipped.`));
        continue;
      }
      if (value === null || value === undefined) continue; // an empty document, e.g. a trailing `---`
      documents.push({ source: where, value });
    }
  } catch (e) {
    // The parser has no known way to throw; should it (a stack overflow on some input), the file is
    // one syntax error, never a crash.
    return overLimit(diag('MM_INPUT_YAML_SYNTAX', source, `${source} could not be read as YAML: ${(e as Error).message}`));
  }
  if (documents.length === 0 && diagnostics.length === 0) {
    diagnostics.push(diag('MM_INPUT_EMPTY', source, `${source} has no YAML documents (it is empty, or only comments and separators); add the resources or leave the file out.`));
  }
  return { documents, diagnostics };
}

interface Decoded {
  kind: string;
  key: string;
  resource: R.Resource<string, unknown>;
  canonical: string;
  source: string;
}

export function readResources(documents: readonly SourceDocument[]): { config: ConfigSet; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byKey = new Map<string, Decoded[]>();
  for (const doc of flattenLists(documents)) {
    const d = decodeDocument(doc, diagnostics);
    if (!d) continue;
    const same = byKey.get(d.key);
    if (same) same.push(d);
    else byKey.set(d.key, [d]);
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
  }
  if (optionDocs.length > 1) {
    diagnostics.push(diag('MM_OPTIONS_DUPLICATE', OPTIONS_KIND, `${optionDocs.length} MetameshOptions documents were given (${optionDocs.map((d) => d.key).join(', ')}); only ${optionDocs[0]!.key} was used.`));
  }
  if (optionDocs.length > 0) {
    config.options = resolveOptions(optionDocs[0]!.resource.spec, optionDocs[0]!.key, diagnostics);
  }
  return { config, diagnostics };
}

/** `kind: List` documents (what `kubectl get -o yaml` prints) are expanded into their items. */
function* flattenLists(documents: readonly SourceDocument[]): Generator<SourceDocument> {
  for (const doc of documents) {
    const v = doc.value;
    if (isPlainObject(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (let i = 0; i < v.items.length; i++) yield { source: `${doc.source} items[${i}]`, value: v.items[i] };
    } else {
      yield doc;
    }
  }
}

function decodeDocument(doc: SourceDocument, diagnostics: Diagnostic[]): Decoded | undefined {
  const v = doc.value;
  if (!isPlainObject(v) || typeof v.kind !== 'string' || typeof v.apiVersion !== 'string' || !isPlainObject(v.metadata)) {
    diagnostics.push(diag('MM_INPUT_NOT_OBJECT', doc.source, `${doc.source} is not a Kubernetes resource (a mapping with apiVersion, kind and metadata); it was skipped.`));
    return undefined;
  }
  const kind = v.kind;
  const group = v.apiVersion.includes('/') ? v.apiVersion.slice(0, v.apiVersion.lastIndexOf('/')) : '';
  const groups = GROUPS[kind];
  if (groups && !groups.includes(group) && isOurs(kind, group)) {
    const right = groups[0] === '' ? 'the core API group (apiVersion: v1)' : groups[0]!;
    diagnostics.push(diag('MM_INPUT_WRONG_GROUP', doc.source, `${doc.source}: ${kind} belongs to ${right}, not ${group || 'the core API group'} (apiVersion: ${v.apiVersion}); it was ignored. Fix the apiVersion.`));
    return undefined;
  }
  if (!groups || !groups.includes(group)) {
    if (!QUIET_KINDS.has(kind)) {
      diagnostics.push(diag('MM_INPUT_UNKNOWN_KIND', doc.source, `${doc.source}: ${v.apiVersion} ${kind} is not read by metamesh; it was ignored.`));
    }
    return undefined;
  }
  const rawName = v.metadata.name;
  if (typeof rawName !== 'string' || rawName === '') {
    diagnostics.push(diag('MM_INPUT_NO_NAME', doc.source, `${doc.source}: the ${kind} has no metadata.name; it was skipped.`));
    return undefined;
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
  if (spec === undefined) return undefined;
  // A MetaRouter or ApplicationProtocol with a typo or a mistyped field is not half-applied.
  if (countErrors(diagnostics) > errorsBefore) {
    if (kind === 'MetaRouter') {
      diagnostics.push(diag('MM_ROUTER_NOT_APPLIED', key, 'was not applied because of the errors reported on it; its host keeps its default route (or the next MetaRouter for it). Fix them and re-apply.'));
      return undefined;
    }
    if (kind === 'ApplicationProtocol') {
      diagnostics.push(diag('MM_PROTOCOL_INVALID', key, 'was ignored because of the errors reported on it.'));
      return undefined;
    }
    if (istio) {
      diagnostics.push(diag(istio.code, key, `has fields of the wrong type (each reported as MM_INPUT_FIELD_TYPE), which the Kubernetes API server rejects; metamesh treats this ${kind} as absent and generates nothing for it. Fix the fields and re-apply.`));
      return undefined;
    }
  }
  const resource = { apiVersion: v.apiVersion, kind, metadata, spec } as R.Resource<string, unknown>;
  if (istio) {
    const found = istio.validate(resource);
    diagnostics.push(...found);
    if (found.some((d) => d.severity === 'error')) return undefined;
  }
  return { kind, key, resource, canonical: canonicalJson(v), source: doc.source };
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
