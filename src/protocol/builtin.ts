/**
 * Loads the built-in protocol descriptors from the protocols/ folder. This is an effect (file
 * reads) and runs once at start-up; the table itself is built by the pure buildProtocolTable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ProtocolDescriptor } from './table.js';
import { CODEC_NAME, PROTOCOL_NAME } from './table.js';

/** protocols/ at the package root, both from src/ (tsx) and from dist/src/ (compiled). */
export function defaultProtocolsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'protocols');
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('bug: the protocols/ folder of the metamesh package was not found');
}

export function loadBuiltinProtocols(dir = defaultProtocolsDir()): ProtocolDescriptor[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const raw = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Partial<ProtocolDescriptor>;
      // The files ship with metamesh: a malformed one is a packaging bug, not user input.
      if (!raw.name || !PROTOCOL_NAME.test(raw.name) || !raw.codec || !CODEC_NAME.test(raw.codec) || !Array.isArray(raw.attributes)) {
        throw new Error(`bug: protocols/${f} is not a valid protocol descriptor`);
      }
      return {
        name: raw.name,
        codec: raw.codec,
        description: raw.description,
        typicalPort: raw.typicalPort,
        attributes: raw.attributes,
        openAttributes: raw.openAttributes === true,
        mutations: raw.mutations !== false,
        source: 'builtin',
      };
    });
}
