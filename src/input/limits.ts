/**
 * The limits that keep one pathological manifest file from stalling or crashing metamesh, and the
 * measure of a parsed YAML document against them. Pure.
 *
 * Each limit is per file, and a file over any of them contributes nothing (the other files are
 * read as usual):
 * - `maxFileBytes`: its size in bytes. Readers stop after `maxFileBytes + 1` bytes.
 * - `maxDocuments`: YAML documents in it (empty ones count: each costs parsing work). Parsing stops
 *   at the first document over the limit.
 * - `maxExpandedBytes`: the size its documents have once every alias is replaced by what it refers
 *   to, about the size of the documents written out as JSON. An alias costs nothing to parse but
 *   everything after parsing (decoding, hashing, encoding) walks the expanded tree, so a few
 *   hundred kilobytes of nested aliases can stand for gigabytes. An alias to a node that contains
 *   it expands without end and is always over the limit.
 * - `maxDepth`: nesting of mappings and sequences, aliases expanded. Later stages walk documents
 *   recursively; this bounds their stack.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { diag, type Diagnostic } from '../model/diagnostics.js';

export interface InputLimits {
  readonly maxFileBytes: number;
  readonly maxDocuments: number;
  readonly maxExpandedBytes: number;
  readonly maxDepth: number;
}

/**
 * Above any real manifest file (Kubernetes keeps each object under about 1.5 MB; 4 MiB hold
 * thousands of ServiceEntries) and low enough that the worst file within them is handled in a few
 * seconds: the YAML parser reads about 2 MB a second, and everything after it walks the expanded
 * documents.
 */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxFileBytes: 4 * 1024 * 1024,
  maxDocuments: 10_000,
  maxExpandedBytes: 16 * 1024 * 1024,
  maxDepth: 100,
};

/** What measuring found: nothing, or the first limit a document goes over. */
export type Excess = { readonly limit: 'maxExpandedBytes'; readonly circular: boolean } | { readonly limit: 'maxDepth' } | undefined;

interface Measure {
  size: number;
  depth: number;
}

/**
 * Measures the documents of one file in order, sharing one running total of the expanded size.
 * The walk follows the document as written (never through an alias), so its own recursion is at
 * most `maxDepth` deep and its work is linear in the written size: an alias adds the memoized
 * measure of its target.
 */
export class ExpansionMeter {
  private total = 0;

  constructor(private readonly limits: InputLimits) {}

  /** Adds `doc` to the file's total; returns the limit it goes over, if any. */
  measure(doc: Document): Excess {
    /** The measure of each collection and scalar walked; 'open' while its items are walked. */
    const memo = new Map<Node, Measure | 'open'>();
    /** The node each anchor names at this point of the walk (a later anchor of the name wins). */
    const anchors = new Map<string, Node>();
    let excess: Excess;
    const walk = (node: unknown, level: number): Measure => {
      if (excess) return { size: 0, depth: 0 };
      if (isAlias(node)) {
        // A node's size is counted where it is written; each alias to it counts it once more.
        const target = anchors.get(node.source);
        const known = target === undefined ? undefined : memo.get(target);
        if (known === 'open') {
          excess = { limit: 'maxExpandedBytes', circular: true };
          return { size: 0, depth: 0 };
        }
        const m = known ?? { size: node.source.length + 1, depth: 0 };
        if (level + m.depth > this.limits.maxDepth) excess = { limit: 'maxDepth' };
        return m;
      }
      if (isPair(node)) {
        const k = walk(node.key, level);
        const v = walk(node.value, level);
        return { size: k.size + v.size + 1, depth: Math.max(k.depth, v.depth) };
      }
      if (!isMap(node) && !isSeq(node) && !isScalar(node)) return { size: node == null ? 4 : 1, depth: 0 };
      if (node.anchor) anchors.set(node.anchor, node);
      if (isScalar(node)) {
        const r = node.range;
        const m = { size: (r ? r[1] - r[0] : String(node.value).length) + 2, depth: 0 };
        memo.set(node, m);
        return m;
      }
      if (level >= this.limits.maxDepth) {
        excess = { limit: 'maxDepth' };
        return { size: 0, depth: 0 };
      }
      memo.set(node, 'open');
      let size = 2;
      let depth = 0;
      for (const item of node.items as unknown[]) {
        const m = walk(item, level + 1);
        size += m.size + 1;
        depth = Math.max(depth, m.depth);
      }
      const m = { size, depth: depth + 1 };
      memo.set(node, m);
      return m;
    };
    const root = walk(doc.contents, 0);
    if (!excess) {
      this.total += root.size;
      if (this.total > this.limits.maxExpandedBytes) excess = { limit: 'maxExpandedBytes', circular: false };
    }
    return excess;
  }
}

/**
 * MM_INPUT_TOO_LARGE for `source`, of `size` bytes when known (a reader that stopped at the limit
 * does not know it). Shared by parseYaml and the file readers.
 */
export function tooLarge(source: string, limits: Pick<InputLimits, 'maxFileBytes'>, size?: number): Diagnostic {
  const what = size === undefined ? 'more than' : `${size} bytes, more than`;
  return diag('MM_INPUT_TOO_LARGE', source, `${source} is ${what} ${limits.maxFileBytes} bytes (the limit, --max-file-bytes); it was skipped. Split it into several files.`);
}
