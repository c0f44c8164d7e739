/**
 * The service definitions Dubbo providers publish for an interface,
 * `/<root>/metadata/<encoded interface>[/<version>][/<group>]/provider/<app>`, read WITHOUT watches:
 * they are the only place an instance-mode provider with local metadata says which group and
 * version it exports an interface with, but watching their three to four directory levels would cost
 * more watches per interface than everything else together. definition-sync.ts decides when they
 * are read; this reads one interface's definitions and puts them into the mirror in one step.
 *
 * Dubbo creates these nodes one level at a time (and writes them asynchronously, possibly after the
 * mapping and the instance), so a read may see a partial tree: a directory whose `provider` child
 * does not exist yet. What it saw is still true; the definitions are persistent and Dubbo never
 * removes them, so a later read only adds to it. A read that fails applies nothing.
 */
import type { Diagnostic } from '../../model/diagnostics.js';
import { dataTooLarge, tooManyChildren, type ZkLimits } from './limits.js';
import type { ZkMirror } from './mirror.js';
import type { ZkOps } from './ops.js';
import { joinPath } from './options.js';

/** What one read of an interface's definitions found, as plain data, applied by applyDefinitions. */
export interface DefinitionRead {
  /** Directories listed, parents first, with the children that matter (no `consumer` ones). */
  readonly dirs: ReadonlyArray<readonly [string, readonly string[]]>;
  /** Definition nodes whose data was read. */
  readonly data: ReadonlyArray<readonly [string, string]>;
  /** Nodes left unread because of a limit. */
  readonly skipped: ReadonlyArray<readonly [string, Diagnostic]>;
  /** Every application with a `provider/<app>` definition for the interface (read now or before). */
  readonly providers: ReadonlySet<string>;
}

export interface DefinitionReadContext {
  readonly ops: ZkOps;
  readonly registry: string;
  readonly limits: ZkLimits;
  /** Whether the mirror already holds a node (a known definition's data is not read again unless `full`). */
  readonly known: (path: string) => boolean;
  readonly full: boolean;
}

/** Version and group are at most two levels between the interface and `provider` (empty ones omitted). */
const MAX_DEPTH = 2;

/**
 * Reads the definitions below each of `bases` (the interface's directories under `metadata`; more
 * than one only when differently encoded names decode to the same interface).
 */
export async function readDefinitions(c: DefinitionReadContext, bases: readonly string[]): Promise<DefinitionRead> {
  const dirs: (readonly [string, readonly string[]])[] = [];
  const data: (readonly [string, string])[] = [];
  const skipped: (readonly [string, Diagnostic])[] = [];
  const providers = new Set<string>();

  const list = async (path: string): Promise<string[] | undefined> => {
    const stat = await c.ops.exists(path);
    if (!stat) return undefined;
    const tooMany = tooManyChildren(c.registry, path, stat.numChildren, c.limits);
    if (tooMany) {
      skipped.push([path, tooMany]);
      return undefined;
    }
    return c.ops.getChildren(path);
  };

  const readDefinition = async (path: string, app: string): Promise<void> => {
    if (!c.full && c.known(path)) {
      providers.add(app);
      return;
    }
    const stat = await c.ops.exists(path);
    if (!stat) return;
    const tooLarge = dataTooLarge(c.registry, path, stat.dataLength, c.limits);
    if (tooLarge) return void skipped.push([path, tooLarge]);
    const d = await c.ops.getData(path);
    if (d === undefined) return;
    data.push([path, d.toString('utf8')]);
    providers.add(app);
  };

  const walk = async (dir: string, depth: number): Promise<void> => {
    const children = await list(dir);
    if (children === undefined) return;
    const kept = children.filter((n) => n !== 'consumer' && (n === 'provider' || depth < MAX_DEPTH)).sort();
    dirs.push([dir, kept]);
    await Promise.all(
      kept.map(async (n) => {
        const below = joinPath(dir, n);
        if (n !== 'provider') return walk(below, depth + 1);
        const apps = await list(below);
        if (apps === undefined) return;
        const sorted = [...apps].sort();
        dirs.push([below, sorted]);
        await Promise.all(sorted.map((app) => readDefinition(joinPath(below, app), app)));
      }),
    );
  };

  await Promise.all(bases.map((b) => walk(b, 0)));
  // Parents before children, whatever order the reads answered in.
  dirs.sort((a, b) => a[0].split('/').length - b[0].split('/').length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { dirs, data, skipped, providers };
}

/**
 * Puts a read into the mirror, synchronously (no snapshot can be taken half-way): each listed
 * directory's children become the listed ones (a child that is gone goes, with its subtree), and the
 * definitions read are stored. Returns whether the mirror changed.
 */
export function applyDefinitions(mirror: ZkMirror, read: DefinitionRead): boolean {
  const before = mirror.version;
  // A listed child that exists is listed itself further on (setChildren makes it a node of its parent).
  for (const [dir, children] of read.dirs) mirror.setChildren(dir, children);
  for (const [path, d] of read.data) mirror.put(path, d);
  for (const [path, d] of read.skipped) mirror.skip(path, d);
  return mirror.version !== before;
}
