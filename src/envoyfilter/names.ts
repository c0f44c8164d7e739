/** DNS-1123 subdomain names for emitted objects: readable when possible, hashed when too long. */
import { createHash } from 'node:crypto';

const MAX = 253;

export function objectName(...parts: (string | number)[]): string {
  const raw = parts
    .map(String)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/\.\.+/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '');
  if (raw.length <= MAX) return raw;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 10);
  return `${raw.slice(0, MAX - 11).replace(/[-.]+$/, '')}-${hash}`;
}
