/**
 * Per-resource last known good: which version of each resource `metamesh serve` keeps in effect.
 * Stateful (it remembers the last valid version of every resource), no effects: the store feeds it
 * the documents it read and the files it could not fully read.
 *
 * The rule, for a resource (kind, namespace, name) that had a valid version:
 * - a new valid version replaces it;
 * - a new version that is invalid (the input stage rejected it: a schema error such as an unknown
 *   field, a wrong type, a failed Istio validation; or a MetaRouter's semantic check failed) leaves
 *   the previous version in effect;
 * - if its document is missing from a file that did not read cleanly (the file is empty, or holds a
 *   document that is not a readable resource: a truncated or corrupted document), the previous
 *   version stays in effect too;
 * - it is removed only when its document is gone from a file that read cleanly, or its file is
 *   gone from a directory that was listed successfully.
 * Each version kept this way gets an MM_RESOURCE_LAST_GOOD warning naming the revision served (a
 * hash of the document's content) and where it was read from. A resource that never had a valid
 * version has nothing to keep: the input stage's diagnostics say why it is absent.
 */
import { createHash } from 'node:crypto';
import { cmp, diag, type Diagnostic } from '../model/diagnostics.js';
import { readResources, type ReadResult, type SourceDocument } from '../input/read.js';
import { canonicalJson } from '../util/canonical.js';
import { cachedRe2Check } from '../util/regex.js';
import { validateMetaRouter } from '../validate/metarouter.js';
import { objKey } from '../pipeline/types.js';

interface Valid {
  readonly document: SourceDocument;
  readonly file: string;
  readonly revision: string;
}

interface Checked {
  readonly canonical: string;
  /** The findings, when some are errors. */
  readonly errors: Diagnostic[] | undefined;
}

export type KeptReason = 'invalid' | 'unreadable';

export interface LedgerResult {
  /** What to serve: the new documents, with the kept versions in place of their rejected ones. */
  readonly read: ReadResult;
  /** The resources whose previous version is kept, with why. */
  readonly kept: ReadonlyMap<string, KeptReason>;
}

export class LastKnownGood {
  private valid = new Map<string, Valid>();
  private readonly checkRegex = cachedRe2Check();
  /** The last semantic check of each MetaRouter, so an unchanged one is not checked again. */
  private checkedRouters = new Map<string, Checked>();

  /**
   * `fileOf` gives the file of every input document; `incomplete` the files that did not read
   * cleanly (empty ones); files holding an unidentified document are added here. `optionDefaults`:
   * see readResources.
   */
  resolve(
    documents: readonly SourceDocument[],
    fileOf: ReadonlyMap<SourceDocument, string>,
    incomplete: ReadonlySet<string>,
    optionDefaults?: Readonly<Record<string, unknown>>,
  ): LedgerResult {
    const first = readResources(documents, undefined, optionDefaults);
    const unclean = new Set(incomplete);
    for (const d of first.unidentified) {
      const f = fileOf.get(d);
      if (f !== undefined) unclean.add(f);
    }
    const semantic = this.semanticErrors(first);
    const rejected = new Set([...first.rejected, ...semantic.keys()]);
    // A MetaRouter's domain-dependent check uses the options just read; a change of domain is
    // rare enough that checking against the new one only is the simple, predictable choice.
    const kept = new Map<string, KeptReason>();
    for (const [key, v] of [...this.valid].sort(([a], [b]) => cmp(a, b))) {
      if (rejected.has(key)) kept.set(key, 'invalid');
      else if (!first.read.has(key) && unclean.has(v.file)) kept.set(key, 'unreadable');
    }
    const pinned = new Map([...kept.keys()].map((k) => [k, this.valid.get(k)!.document]));
    const read = pinned.size === 0 ? first : readResources(documents, pinned, optionDefaults);

    const next = new Map<string, Valid>();
    for (const [key, r] of first.read) {
      if (semantic.has(key)) continue;
      const file = fileOf.get(r.origin) ?? r.origin.source;
      next.set(key, { document: r.document, file, revision: revisionOf(r.document) });
    }
    for (const key of kept.keys()) next.set(key, this.valid.get(key)!);
    this.valid = next;

    // The engine sees only the kept version, so the findings on the new one are reported here.
    for (const key of kept.keys()) read.diagnostics.push(...(semantic.get(key) ?? []));
    for (const [key, reason] of kept) read.diagnostics.push(keptDiagnostic(key, reason, this.valid.get(key)!));
    return { read, kept };
  }

  /**
   * The MetaRouters read whose semantic check (the one the engine runs) fails, with its findings.
   * Such a MetaRouter is not a valid version: it never replaces one, and is never kept.
   */
  private semanticErrors(first: ReadResult): Map<string, Diagnostic[]> {
    const out = new Map<string, Diagnostic[]>();
    const checked = new Map<string, Checked>();
    for (const mr of first.config.metaRouters) {
      const key = objKey(mr.kind, mr.metadata.namespace, mr.metadata.name);
      // The check depends on the domain option too: a change of domain checks every router again.
      const canonical = `${first.config.options.domain}\n${canonicalJson(mr)}`;
      let c = this.checkedRouters.get(key);
      if (c?.canonical !== canonical) {
        const found = validateMetaRouter(mr, first.config.options.domain, this.checkRegex);
        c = { canonical, errors: found.some((d) => d.severity === 'error') ? found : undefined };
      }
      checked.set(key, c);
      if (c.errors) out.set(key, c.errors);
    }
    this.checkedRouters = checked;
    return out;
  }
}

/** A short content hash of a document: the revision named in diagnostics and on /readyz. */
export function revisionOf(document: SourceDocument): string {
  return createHash('sha256').update(canonicalJson(document.value)).digest('hex').slice(0, 12);
}

function keptDiagnostic(key: string, reason: KeptReason, v: Valid): Diagnostic {
  const served = `the last valid version stays in effect (revision ${v.revision}, read from ${v.document.source})`;
  return reason === 'invalid'
    ? diag('MM_RESOURCE_LAST_GOOD', key, `its new version is invalid (see the errors reported on it), so ${served}. Fix the new version; to remove the resource, delete its document.`)
    : diag('MM_RESOURCE_LAST_GOOD', key, `its document is missing from ${v.file}, which did not read cleanly (it is empty, or holds a document that is not a readable resource), so ${served}. Fix the file; a resource is removed only when its document is gone from a file that reads cleanly.`);
}
