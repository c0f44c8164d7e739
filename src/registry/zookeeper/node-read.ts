/**
 * How the ZooKeeper watcher reads one node into its mirror, as policy.ts says, re-arming the node's
 * watch; a directory's new children are read in turn. Effectful (ZooKeeper reads), used by watch.ts.
 */
import type { Event } from 'node-zookeeper-client';
import type { DefinitionSync } from './definition-sync.js';
import { dataTooLarge, tooManyChildren, type ZkLimits } from './limits.js';
import type { ZkMirror } from './mirror.js';
import type { ZkOps } from './ops.js';
import { join } from './paths.js';
import { childReads, impliedChildren, mappedInterface, nodeRead, type ZkRoot } from './policy.js';

export interface NodeReadContext {
  readonly registry: string;
  readonly limits: ZkLimits;
  readonly mirror: ZkMirror;
  readonly definitions: DefinitionSync;
  /** The current client's reads. */
  ops(): ZkOps;
  /** The current client's generation: reads of an older one apply nothing. */
  generation(): number;
  /** The watch function of generation `gen`. */
  watcherFor(gen: number): (e: Event) => void;
}

/**
 * Reads one node and mirrors it. `full` re-reads known children too (after a reconnection or in a
 * new session); otherwise only children not seen before are read, since the known ones keep their
 * own watches.
 */
export async function readNode(c: NodeReadContext, gen: number, root: ZkRoot, segments: readonly string[], full: boolean): Promise<void> {
  const how = nodeRead(root.kind, segments);
  const path = join(root.path, segments);
  const mirror = c.mirror;
  if (how === 'skip' || gen !== c.generation()) return;
  const ops = c.ops();
  const watcher = c.watcherFor(gen);
  if (how === 'name') {
    mirror.put(path, '');
    await Promise.all(impliedChildren(root.kind, segments).map((x) => readNode(c, gen, root, [...segments, x], full)));
    return;
  }
  let stat = await ops.exists(path);
  if (!stat && needsExistenceWatch(root, segments)) stat = await ops.exists(path, watcher);
  if (gen !== c.generation()) return;
  if (!stat) return mirror.drop(path);
  if (how === 'children') {
    const tooMany = tooManyChildren(c.registry, path, stat.numChildren, c.limits);
    if (tooMany) {
      // What is known below it stays; the next full read looks at it again.
      mirror.skip(path, tooMany);
      return;
    }
    const children = await ops.getChildren(path, watcher);
    if (gen !== c.generation()) return;
    if (!children) return mirror.drop(path);
    const fresh = mirror.setChildren(path, children);
    const { leaves, reads } = childReads(root.kind, segments, full ? children : fresh);
    for (const x of leaves) mirror.putLeaf(path, x);
    await Promise.all(reads.map((below) => readNode(c, gen, root, below, full)));
    return;
  }
  if (how === 'dataOnce' && !full && mirror.has(path)) return;
  const tooLarge = dataTooLarge(c.registry, path, stat.dataLength, c.limits);
  if (tooLarge) {
    if (how === 'data') await ops.exists(path, watcher); // to hear it shrink or go
    mirror.skip(path, tooLarge);
    return;
  }
  const data = await ops.getData(path, how === 'data' ? watcher : undefined);
  if (gen !== c.generation()) return;
  if (data === undefined) return mirror.drop(path);
  const text = data.toString('utf8');
  const iface = mappedInterface(root.kind, segments);
  // A mapping that changed: the definitions of the applications it names go in first, so a newly
  // mapped application is never reported without its group and version (a full read reads them all
  // at its end).
  if (iface !== undefined && !full && mirror.get(path) !== text) await c.definitions.beforeMapping(root.path, iface, text);
  if (gen !== c.generation()) return;
  mirror.put(path, text);
  // An instance that appeared or changed: its application's definitions may have been written meanwhile.
  if (root.kind === 'services' && segments.length === 2 && !full) c.definitions.appChanged(segments[0]!);
}

/** A node without a watched parent gets an existence watch while it is missing, to see it come. */
export function needsExistenceWatch(root: ZkRoot, segments: readonly string[]): boolean {
  return segments.length === 0 || nodeRead(root.kind, segments.slice(0, -1)) === 'name';
}
