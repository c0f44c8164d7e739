/**
 * Which ZooKeeper nodes the watcher reads, and how, so that the number of watches grows with
 * services and not with instances × consumers. Pure: a decision per node from its place in a root.
 */

/**
 * What a configured root holds:
 * - `dubbo`: Dubbo interface-level registrations (`/<root>/<interface>/providers/<url>`), plus the
 *   Dubbo 3 `mapping` and `metadata` children that share the root;
 * - `services`: Dubbo 3 application-level instances (Curator: `/<root>/<app>/<ip:port>`);
 * - `serverset`: Finagle/Aurora ServerSets anywhere below the root (`…/member_<seq>` JSON nodes).
 */
export type ZkRootKind = 'dubbo' | 'services' | 'serverset';

export interface ZkRoot {
  readonly path: string;
  readonly kind: ZkRootKind;
}

/**
 * - `children`: list the children and keep a one-shot children watch on the node;
 * - `data`: read the data and keep a data watch (it changes in place);
 * - `dataOnce`: read the data once, no watch (the node never changes while it exists; its parent's
 *   children watch sees it go);
 * - `name`: the node's name is all there is to know (no read, no watch);
 * - `skip`: not mirrored at all.
 */
export type NodeRead = 'children' | 'data' | 'dataOnce' | 'name' | 'skip';

/** Dubbo categories a service needs; `consumers` and `routers` are not services and are not read. */
const DUBBO_CATEGORIES = new Set(['providers', 'configurators']);
/** A Dubbo 3 metadata revision is the MD5 of the application's metadata, in lower-case hex. */
const REVISION = /^[0-9a-f]{32}$/;

/**
 * How to read the node `segments` below a root of `kind` (segments empty = the root itself).
 * Directories that must exist before anything below them can be read are `children`.
 */
export function nodeRead(kind: ZkRootKind, segments: readonly string[]): NodeRead {
  if (segments.length === 0) return 'children';
  switch (kind) {
    case 'dubbo':
      return dubboRead(segments);
    case 'services':
      // /<root>/<app> lists instances; an instance's data changes in place when its services change.
      return segments.length === 1 ? 'children' : segments.length === 2 ? 'data' : 'skip';
    case 'serverset':
      // A member node is ephemeral-sequential and written once; every other node is a directory.
      return segments[segments.length - 1]!.startsWith('member_') ? 'dataOnce' : 'children';
  }
}

function dubboRead(s: readonly string[]): NodeRead {
  const [first, second] = s;
  if (first === 'config') return 'skip';
  if (first === 'mapping') {
    // /mapping/<interface> holds a comma list of applications, appended in place.
    return s.length === 1 ? 'children' : s.length === 2 ? 'data' : 'skip';
  }
  if (first === 'metadata') {
    // Interfaces are dotted Java names; application names are taken to be the undotted ones.
    if (s.length === 1) return 'children';
    // /metadata/<interface>: the service definitions below it are read without watches (definition-sync.ts).
    if (second!.includes('.')) return s.length === 2 ? 'name' : 'skip';
    // /metadata/<app>/<revision>: remote metadata, immutable per revision.
    if (s.length === 2) return 'children';
    return s.length === 3 && REVISION.test(s[2]!) ? 'dataOnce' : 'skip';
  }
  // /<interface> itself is not watched: its category directories are watched directly (an
  // existence watch while one is missing), which keeps the count at two watches per interface.
  if (s.length === 1) return 'name';
  if (s.length === 2) return DUBBO_CATEGORIES.has(second!) ? 'children' : 'skip';
  // A provider or configurator URL is the node name; Dubbo's node data is only the writer's address.
  return s.length === 3 ? 'name' : 'skip';
}

/** The interface a Dubbo mapping node (`/<root>/mapping/<interface>`) is for; undefined for any other node. */
export function mappedInterface(kind: ZkRootKind, segments: readonly string[]): string | undefined {
  return kind === 'dubbo' && segments.length === 2 && segments[0] === 'mapping' ? segments[1] : undefined;
}

/** The children a `name` node is known to have without listing it (a Dubbo interface's categories). */
export function impliedChildren(kind: ZkRootKind, segments: readonly string[]): readonly string[] {
  if (kind === 'dubbo' && segments.length === 1 && nodeRead(kind, segments) === 'name') return [...DUBBO_CATEGORIES].sort();
  return [];
}

/**
 * The children of the node `segments` to mirror: the name-only leaves (a `name` node with no implied
 * children, such as a provider URL node: its name is all there is, so it needs no read at all, which
 * matters at 100,000 of them) and the others to read, as segments; `skip` children are neither.
 */
export function childReads(kind: ZkRootKind, segments: readonly string[], names: readonly string[]): { leaves: string[]; reads: string[][] } {
  const leaves: string[] = [];
  const reads: string[][] = [];
  for (const c of names) {
    const below = [...segments, c];
    const how = nodeRead(kind, below);
    if (how === 'skip') continue;
    if (how === 'name' && impliedChildren(kind, below).length === 0) leaves.push(c);
    else reads.push(below);
  }
  return { leaves, reads };
}
