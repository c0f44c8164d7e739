/** The version of metamesh, from its package.json. Effect: reads one file. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Looks upwards from this module (src/util/ under tsx, dist/src/util/ compiled) for metamesh's package.json. */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'metamesh' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here (or not readable): keep looking upwards
    }
    dir = path.dirname(dir);
  }
  throw new Error('bug: the package.json of metamesh was not found');
}
