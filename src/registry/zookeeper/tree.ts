/**
 * What the ZooKeeper parsers read: a node's children (sorted) and a node's data, from a ZkTree
 * (golden cases, one-shot reads) or from the watcher's mirror directly (ZkNodes), with node data
 * bounded before anything parses it.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import type { ZkTree } from '../../model/registry.js';
import { clip } from '../../util/clip.js';

/**
 * A readable ZooKeeper subtree. `childrenOf` returns the same array for a node as long as its
 * children do not change, so a reader may remember what it made of them and compare by identity.
 */
export interface ZkNodes {
  /** The names one level below `path`, sorted (code-unit order); empty when none. */
  childrenOf(path: string): readonly string[];
  /** The node's data ('' for directories and name-only nodes); undefined when the node is not there. */
  get(path: string): string | undefined;
  has(path: string): boolean;
}

/** A tree's nodes: children by parent path, computed once, so a 100,000-child directory costs one pass. */
export function treeNodes(tree: ZkTree): ZkNodes {
  const children = new Map<string, string[]>();
  // Every ancestor of a listed path is a directory, even when the tree lists only leaves.
  const known = new Set<string>();
  for (const p of tree.keys()) {
    let child = p;
    while (child.startsWith('/') && child.length > 1 && !known.has(child)) {
      known.add(child);
      const cut = child.lastIndexOf('/');
      const parent = cut === 0 ? '/' : child.slice(0, cut);
      const list = children.get(parent);
      if (list === undefined) children.set(parent, [child.slice(cut + 1)]);
      else list.push(child.slice(cut + 1));
      child = parent;
    }
  }
  for (const list of children.values()) list.sort();
  return {
    childrenOf: (path) => children.get(path) ?? NO_CHILDREN,
    get: (path) => tree.get(path),
    has: (path) => tree.has(path),
  };
}

export const NO_CHILDREN: readonly string[] = Object.freeze([]);

export class ZkIndex {
  constructor(
    readonly nodes: ZkNodes,
    readonly maxDataLength: number,
    readonly diagnostics: Diagnostic[],
  ) {}

  /** The same nodes with diagnostics going to `diagnostics` (to keep what one part of a read reported). */
  reportingTo(diagnostics: Diagnostic[]): ZkIndex {
    return new ZkIndex(this.nodes, this.maxDataLength, diagnostics);
  }

  /** The names one level below `path`, sorted. */
  childrenOf(path: string): readonly string[] {
    return this.nodes.childrenOf(path);
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** The node's data, or undefined when absent, or too long (reported, never parsed). */
  data(path: string): string | undefined {
    const d = this.nodes.get(path);
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
