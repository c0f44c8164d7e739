/**
 * Virtual IPs for ServiceEntries that have MetaProtocol ports but no address: outbound patches
 * match Istio's `<vip>_<port>` listener, so such a service needs one. Pure and order-independent,
 * so two replicas that see the same objects compute the same addresses without talking.
 *
 * Two passes, each in sorted key order:
 *  1. **Keep**: a request that carries the address metamesh gave it before (`previous`, read back
 *     from the object itself, see src/serviceentry/address.ts) keeps it while it is still inside
 *     the block, not a `.0`/`.255`, not used by any other object, and not kept by a key that sorts
 *     first. An allocation therefore survives restarts, leader changes and the arrival of new
 *     services: it only moves when it has become invalid, and then says so (`moved`).
 *  2. **Allocate**: every other request gets its preferred slot, a hash of its key (namespace/name),
 *     or the next free one after it (wrapping), skipping addresses in use anywhere.
 * Without `previous` (a first run, or `metamesh generate` on files) pass 2 alone decides, as before.
 */
import { createHash } from 'node:crypto';
import { cmp } from '../model/diagnostics.js';
import { intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../util/ip.js';

export interface VipRequest {
  /** The ServiceEntry, `ServiceEntry <namespace>/<name>`. */
  readonly key: string;
  /** The address metamesh allocated to it earlier, if the object still carries it. */
  readonly previous?: string | undefined;
}

/** Why a previous allocation could not be kept. */
export type VipMoveReason = 'outside-block' | 'used-elsewhere' | 'kept-by-another';

export interface VipMove {
  readonly key: string;
  readonly previous: string;
  readonly reason: VipMoveReason;
  /** The key that keeps the address, for `kept-by-another`. */
  readonly keptBy?: string;
}

export interface VipResult {
  assigned: Map<string, string>;
  /** Keys that got no address because the block is full. */
  exhausted: string[];
  /** Previous allocations that could not be kept (each key got a new address, or is exhausted). */
  moved: VipMove[];
}

/**
 * `requests` are keys or {key, previous}; `used` are the addresses other objects hold (spec
 * addresses, cluster IPs, Istio's auto-allocated addresses), never handed out or kept.
 */
export function allocateVips(requests: Iterable<VipRequest | string>, used: ReadonlySet<string>, cidr: string): VipResult {
  const block = parseIpv4Cidr(cidr);
  if (!block) throw new Error(`bug: allocateVips given an invalid block ${cidr} (options are validated)`);
  const { base: baseInt, size } = block;
  const slotOf = (ip: string): number | undefined => {
    const n = ipv4ToInt(ip);
    return n !== undefined && n >= baseInt && n < baseInt + size ? n - baseInt : undefined;
  };
  // Skip .0 and .255, which some resolvers and tools treat as network/broadcast addresses.
  const usable = (slot: number) => {
    const last = (baseInt + slot) & 0xff;
    return last !== 0 && last !== 255;
  };
  const usedSlots = new Set<number>();
  for (const ip of used) {
    const s = slotOf(ip);
    if (s !== undefined) usedSlots.add(s);
  }
  const sorted = dedupe(requests);
  const assigned = new Map<string, string>();
  const moved: VipMove[] = [];
  /** Slot → the key that holds it. */
  const holder = new Map<number, string>();

  for (const r of sorted) {
    if (r.previous === undefined) continue;
    const slot = slotOf(r.previous);
    if (slot === undefined || !usable(slot)) moved.push({ key: r.key, previous: r.previous, reason: 'outside-block' });
    else if (usedSlots.has(slot)) moved.push({ key: r.key, previous: r.previous, reason: 'used-elsewhere' });
    else if (holder.has(slot)) moved.push({ key: r.key, previous: r.previous, reason: 'kept-by-another', keptBy: holder.get(slot)! });
    else {
      holder.set(slot, r.key);
      assigned.set(r.key, intToIpv4(baseInt + slot));
    }
  }

  const exhausted: string[] = [];
  for (const r of sorted) {
    if (assigned.has(r.key)) continue;
    const start = createHash('sha256').update(r.key).digest().readUInt32BE(0) % size;
    let found = -1;
    for (let i = 0; i < size; i++) {
      const slot = (start + i) % size;
      if (usedSlots.has(slot) || holder.has(slot) || !usable(slot)) continue;
      found = slot;
      break;
    }
    if (found < 0) {
      exhausted.push(r.key);
      continue;
    }
    holder.set(found, r.key);
    assigned.set(r.key, intToIpv4(baseInt + found));
  }
  return { assigned, exhausted, moved };
}

/** Requests sorted by key; a key given twice counts once (with the lowest previous address given). */
function dedupe(requests: Iterable<VipRequest | string>): VipRequest[] {
  const byKey = new Map<string, VipRequest>();
  for (const r of requests) {
    const req = typeof r === 'string' ? { key: r } : r;
    const seen = byKey.get(req.key);
    const better = req.previous !== undefined && (seen?.previous === undefined || cmp(req.previous, seen.previous) < 0);
    if (!seen || better) byKey.set(req.key, req);
  }
  return [...byKey.values()].sort((a, b) => cmp(a.key, b.key));
}
