/**
 * Virtual IPs for ServiceEntries that have MetaProtocol ports but no address: outbound patches
 * match Istio's `<vip>_<port>` listener, so such a service needs one. Pure and order-independent:
 * each ServiceEntry's preferred slot is a hash of its namespace/name; collisions are resolved in
 * sorted key order; addresses already in use anywhere are never handed out.
 */
import { createHash } from 'node:crypto';
import { cmp } from '../model/diagnostics.js';
import { intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../util/ip.js';

export interface VipResult {
  assigned: Map<string, string>;
  /** Keys that got no address because the block is full. */
  exhausted: string[];
}

export function allocateVips(keys: Iterable<string>, used: ReadonlySet<string>, cidr: string): VipResult {
  const block = parseIpv4Cidr(cidr);
  if (!block) throw new Error(`bug: allocateVips given an invalid block ${cidr} (options are validated)`);
  const { base: baseInt, size } = block;
  const taken = new Set<number>();
  for (const ip of used) {
    const n = ipv4ToInt(ip);
    if (n !== undefined && n >= baseInt && n < baseInt + size) taken.add(n - baseInt);
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
    assigned.set(key, intToIpv4(baseInt + found));
  }
  return { assigned, exhausted };
}
