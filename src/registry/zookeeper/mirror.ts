/**
 * The watcher's copy of the tree: node path → data, an index of each node's children (so a removed
 * node takes its subtree with it without scanning the tree), and the nodes left unread by a limit.
 * `version` counts changes, so an unchanged tree is not reported twice.
 *
 * Leaves known by name only (a Dubbo provider's URL node: its name is all there is, its data is
 * ignored) are kept in their parent's list of children alone, not as a path with empty data: at
 * 100,000 providers the paths would double the memory and the work. They read as nodes with data ''.
 *
 * It is itself readable by the parsers (ZkNodes): a node's sorted children are kept as one array
 * until they change, so a parser can tell an unchanged directory by identity.
 */
import type { Diagnostic } from '../../model/diagnostics.js';
import { cmp } from '../../model/diagnostics.js';
import type { ZkTree } from '../../model/registry.js';
import { NO_CHILDREN, type ZkNodes } from './tree.js';

export class ZkMirror implements ZkNodes {
  private readonly nodes = new Map<string, string>();
  /** Children by parent path: nodes (in `nodes` too) and name-only leaves (only here). */
  private readonly kids = new Map<string, Set<string>>();
  /** Sorted children, made on demand and dropped when they change. */
  private readonly sortedKids = new Map<string, readonly string[]>();
  private readonly skipped = new Map<string, Diagnostic>();
  /** Paths whose data or children changed since takeChanges(); undefined before the first take. */
  private changes: Set<string> | undefined;
  version = 0;

  /**
   * The paths whose data or list of children changed since the previous call (a node created or
   * removed counts for itself and its parent, a name-only leaf for its parent); undefined at the
   * first call, when everything is new.
   */
  takeChanges(): ReadonlySet<string> | undefined {
    const c = this.changes;
    this.changes = new Set();
    return c;
  }

  has(path: string): boolean {
    return this.nodes.has(path) || this.isLeaf(path);
  }

  get(path: string): string | undefined {
    const d = this.nodes.get(path);
    return d !== undefined ? d : this.isLeaf(path) ? '' : undefined;
  }

  childrenOf(path: string): readonly string[] {
    let sorted = this.sortedKids.get(path);
    if (sorted === undefined) {
      const set = this.kids.get(path);
      if (set === undefined || set.size === 0) return NO_CHILDREN;
      sorted = Object.freeze([...set].sort());
      this.sortedKids.set(path, sorted);
    }
    return sorted;
  }

  put(path: string, data: string): void {
    if (this.skipped.delete(path)) this.version++;
    if (this.nodes.get(path) === data) return;
    this.nodes.set(path, data);
    this.changes?.add(path);
    const [parent, name] = split(path);
    this.addKid(parent, name);
    this.version++;
  }

  /** A child of `parent` known by its name only (a leaf: no data read, no children). */
  putLeaf(parent: string, name: string): void {
    if (this.addKid(parent, name)) this.version++;
  }

  private addKid(parent: string, name: string): boolean {
    let set = this.kids.get(parent);
    if (!set) this.kids.set(parent, (set = new Set()));
    if (set.has(name)) return false;
    set.add(name);
    this.sortedKids.delete(parent);
    this.changes?.add(parent);
    return true;
  }

  /**
   * Records a node's children as listed: known children that are gone are dropped with their
   * subtrees. Returns the names not known before (the caller reads them); known children keep
   * whatever was read for them.
   */
  setChildren(path: string, children: readonly string[]): string[] {
    if (!this.nodes.has(path)) this.put(path, '');
    if (this.skipped.delete(path)) this.version++;
    const known = this.kids.get(path) ?? new Set<string>();
    const listed = new Set(children);
    for (const k of [...known]) if (!listed.has(k)) this.drop(child(path, k));
    return children.filter((c) => !known.has(c));
  }

  /** Marks a node unread for a limit; what is known of it and below it stays. */
  skip(path: string, d: Diagnostic): void {
    const had = this.skipped.get(path);
    if (had && had.message === d.message) return;
    this.skipped.set(path, d);
    this.version++;
  }

  drop(path: string): void {
    for (const k of this.kids.get(path) ?? []) this.drop(child(path, k));
    this.kids.delete(path);
    this.sortedKids.delete(path);
    if (this.skipped.delete(path)) this.version++;
    const wasNode = this.nodes.delete(path);
    if (wasNode) this.changes?.add(path);
    const [parent, name] = split(path);
    // A node, or a name-only leaf: either way it leaves its parent's children.
    if (this.kids.get(parent)?.delete(name)) {
      this.sortedKids.delete(parent);
      this.changes?.add(parent);
      this.version++;
    } else if (wasNode) this.version++;
  }

  /** A copy sorted by path, so equal trees are equal snapshots. */
  tree(): ZkTree {
    const all: [string, string][] = [...this.nodes];
    for (const [parent, set] of this.kids) for (const name of set) if (!this.nodes.has(child(parent, name))) all.push([child(parent, name), '']);
    return new Map(all.sort((a, b) => cmp(a[0], b[0])));
  }

  diagnostics(): Diagnostic[] {
    return [...this.skipped.values()];
  }

  private isLeaf(path: string): boolean {
    if (path === '/' || this.nodes.has(path)) return false;
    const [parent, name] = split(path);
    return this.kids.get(parent)?.has(name) === true;
  }
}

function split(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return [i === 0 ? '/' : path.slice(0, i), path.slice(i + 1)];
}

function child(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
