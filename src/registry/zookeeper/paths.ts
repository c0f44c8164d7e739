/** Paths below the configured roots. Pure. */
import type { ZkRoot } from './policy.js';

/** The path of the node `segments` below `rootPath`. */
export function join(rootPath: string, segments: readonly string[]): string {
  if (segments.length === 0) return rootPath;
  return (rootPath === '/' ? '' : rootPath) + '/' + segments.join('/');
}

/** The segments of `path` below `rootPath` (which contains it). */
export function relative(rootPath: string, path: string): string[] {
  return path.slice(rootPath === '/' ? 0 : rootPath.length).split('/').filter((s) => s !== '');
}

/** The longest of `roots` that contains `path`, if any. */
export function rootOf(roots: readonly ZkRoot[], path: string): ZkRoot | undefined {
  let best: ZkRoot | undefined;
  for (const r of roots) {
    const inside = path === r.path || path.startsWith(r.path === '/' ? '/' : `${r.path}/`);
    if (inside && (!best || r.path.length > best.path.length)) best = r;
  }
  return best;
}
