/**
 * What the ZooKeeper watcher connects to and mirrors: servers (with the chroot), digest credentials
 * and the roots. Built from a `--registry zookeeper://…` value by src/registry/config.ts.
 */
import type { ZkRoot } from './policy.js';

export interface ZkAddress {
  /** `host:port,host:port[/chroot]`, as node-zookeeper-client takes it. */
  readonly connect: string;
  /** `user:password` for the digest scheme, if given. */
  readonly digest?: string;
  readonly roots: readonly ZkRoot[];
}
