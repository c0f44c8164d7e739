/**
 * Reading a ZkTree: children by parent path (computed once, so a 100,000-child directory costs one
 * pass), and node data bounded before anything parses it.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import type { ZkTree } from '../../model/registry.js';
import { clip } from '../../util/clip.js';

export class ZkIndex {
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly tree: ZkTree,
    private readonly maxDataLength: number,
    readonly diagnostics: Diagnostic[],
  ) {
    // Every ancestor of a listed path is a directory, even when the tree lists only leaves.
    const known = new Set<string>();
    for (const p of tree.keys()) {
      let child = p;
      while (child.startsWith('/') && child.length > 1 && !known.has(child)) {
        known.add(child);
        const cut = child.lastIndexOf('/');
        const parent = cut === 0 ? '/' : child.slice(0, cut);
        const list = this.children.get(parent);
        if (list === undefined) this.children.set(parent, [child.slice(cut + 1)]);
        else list.push(child.slice(cut + 1));
        child = parent;
      }
    }
    for (const list of this.children.values()) list.sort();
  }

  /** The names one level below `path`, sorted. */
  childrenOf(path: string): readonly string[] {
    return this.children.get(path) ?? [];
  }

  /** The node's data, or undefined when absent, or too long (reported, never parsed). */
  data(path: string): string | undefined {
    const d = this.tree.get(path);
    if (d === undefined) return undefined;
    if (d.length > this.maxDataLength) {
      this.diagnostics.push(
        diag('MM_REGISTRY_OVERSIZED', zkObject(path), `The node data is ${d.length} characters, over the limit of ${this.maxDataLength}; it was ignored. Keep registry records small, or raise the limit.`),
      );
      return undefined;
    }
    return d;
  }
}

/** A diagnostic's object for a ZooKeeper node (long Dubbo node names clipped). */
export function zkObject(path: string): string {
  return `ZooKeeper ${clip(path)}`;
}
