/**
 * Bounds on what the ZooKeeper watcher reads, and the diagnostics for nodes past them. Pure: the
 * watcher sizes a node from its Stat before reading it, so an oversized node is never read whole.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';

export interface ZkLimits {
  /**
   * Node data larger than this is not read. The default is ZooKeeper's own default packet limit
   * (`jute.maxbuffer`, 1 MiB - 1): only a server with a raised limit can hold a larger node, and
   * Java clients of the same registry could not read it either.
   */
  readonly maxDataBytes: number;
  /** A node with more children than this is not listed (one reply holds every child name). */
  readonly maxChildren: number;
}

export const DEFAULT_ZK_LIMITS: ZkLimits = { maxDataBytes: 1024 * 1024 - 1, maxChildren: 100_000 };

/** The object a ZooKeeper diagnostic is about: the registry and the node path. */
export function zkObject(registry: string, path: string): string {
  return `ZooKeeper ${registry} ${path}`;
}

/** A diagnostic if a node of `dataLength` bytes is too large to read, else undefined. */
export function dataTooLarge(registry: string, path: string, dataLength: number, limits: ZkLimits): Diagnostic | undefined {
  if (dataLength <= limits.maxDataBytes) return undefined;
  return diag(
    'MM_ZK_NODE_TOO_LARGE',
    zkObject(registry, path),
    `The node holds ${dataLength} bytes, more than the ${limits.maxDataBytes} metamesh reads from one node, so it was not read; ` +
      'shrink what is written there, or remove the node if it is not a registration.',
  );
}

/** A diagnostic if a node with `numChildren` children is too large to list, else undefined. */
export function tooManyChildren(registry: string, path: string, numChildren: number, limits: ZkLimits): Diagnostic | undefined {
  if (numChildren <= limits.maxChildren) return undefined;
  return diag(
    'MM_ZK_TOO_MANY_CHILDREN',
    zkObject(registry, path),
    `The node has ${numChildren} children, more than the ${limits.maxChildren} metamesh lists under one node, so nothing below it was read; ` +
      'remove stale children (for example leftover persistent registrations) or split the registrations across nodes.',
  );
}
