/**
 * Virtual IPs for ServiceEntries that have MetaProtocol ports but no address: outbound patches
 * match Istio's `<vip>_<port>` listener, so such a service needs one. Pure and order-independent:
 * each ServiceEntry's preferred slot is a hash of its namespace/name; collisions are resolved in
 * sorted key order; addresses already in use anywhere are never handed out.
 */
import { createHash } from 'node:crypto';
import { cmp } from '../model/diagnostics.js';

export interface VipResult {
  assigned: Map<string, string>;
  /** Keys that got no address because the block is full. */
  exhausted: string[];
}

export function allocateVips(keys: Iterable<string>, used: ReadonlySet<string>, cidr: string): VipResult {
  const [base, bitsStr] = cidr.split('/');
  const baseInt = ipToInt(base!);
  const size = 2 ** (32 - Number(bitsStr));
  const taken = new Set<number>();
  for (const ip of used) {
    const n = ipToInt(ip);
    if (!Number.isNaN(n) && n >= baseInt && n < baseInt + size) taken.add(n - baseInt);
  }
  const assigned = new Map<string, string>();
  const exhausted: string[] = [];
  for (const key of [...keys].sort(cmp)) {
    const start = createHash('sha256').update(key).digest().readUInt32BE(0) % size;
    let found = -1;
    for (let i = 0; i < size; i++) {
      const slot = (start + i) % size;
      const last = (baseInt + slot) & 0xff;
      // Skip .0 and .255, which some resolvers and tools treat as network/broadcast addresses.
      if (taken.has(slot) || last === 0 || last === 255) continue;
      found = slot;
      break;
    }
    if (found < 0) {
      exhausted.push(key);
      continue;
    }
    taken.add(found);
    assigned.set(key, intToIp(baseInt + found));
  }
  return { assigned, exhausted };
}

function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return NaN;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
