/**
 * The engine's virtual-IP bookkeeping: which ServiceEntries hold an allocated address, and when the
 * allocation (src/serviceentry/vip.ts, pure) must run again. It runs again only when a service needs
 * a VIP or an address inside the block appears or disappears, so one edit elsewhere never moves a VIP.
 * An address metamesh allocated earlier and the object still carries (src/serviceentry/address.ts)
 * is kept, so allocations survive restarts and leader changes.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import type { Detected } from '../protocol/detect.js';
import { addressView, allocationOf } from '../serviceentry/address.js';
import { allocateVips, type VipMove } from '../serviceentry/vip.js';
import { addressIp } from '../util/hosts.js';
import { inIpv4Block, parseIpv4Cidr, type Ipv4Block } from '../util/ip.js';

export class VipState {
  /** ServiceEntry key → allocated address. */
  assigned = new Map<string, string>();
  /** The keys whose earlier allocation was kept. */
  kept = new Set<string>();
  diagnostics: Diagnostic[] = [];
  private dirty = false;
  /** The parsed vipCidr, kept while the option stays the same. */
  private block: { cidr: string; parsed: Ipv4Block | undefined } | undefined;

  /**
   * Every address a ServiceEntry or Service holds, MetaProtocol or not (VIPs must avoid them all):
   * its own addresses and Istio's auto-allocated ones, but not an address metamesh allocated to it
   * (that one is the allocation's to keep or move).
   */
  addressesOf(r: R.ServiceEntry | R.KubeService | undefined): string[] {
    if (!r) return [];
    if (r.kind === 'ServiceEntry') return [...(addressView(r).spec.addresses ?? []).map(addressIp), ...(r.status?.addresses ?? []).map((a) => a.value)];
    return r.spec.clusterIPs ?? [r.spec.clusterIP ?? ''];
  }

  /** The detection result with the allocated address, for a ServiceEntry that needs one. */
  withVip(key: string, d: Detected): Detected {
    const vip = this.assigned.get(key);
    if (!d.service || !d.needsVip || !vip) return d;
    return { ...d, service: { ...d.service, addresses: [vip] } };
  }

  /**
   * The allocation depends only on which keys need a VIP and which addresses are used. An edit that
   * changes neither (a registry ServiceEntry whose endpoints changed) leaves every VIP where it is,
   * so it schedules no allocation: at 10,000 such services one would cost more than the edit.
   */
  serviceChanged(old: Detected | undefined, now: Detected | undefined, before: readonly string[], after: readonly string[], cidr: string): void {
    if (this.dirty) return;
    if ((old?.needsVip === true) !== (now?.needsVip === true)) {
      this.dirty = true;
      return;
    }
    if (before.length === after.length && before.every((a, i) => a === after[i])) return;
    const block = this.blockOf(cidr);
    const inBlock = (ip: string) => block !== undefined && inIpv4Block(ip, block);
    if (before.some(inBlock) || after.some(inBlock)) this.dirty = true;
  }

  private blockOf(cidr: string): Ipv4Block | undefined {
    if (this.block?.cidr !== cidr) this.block = { cidr, parsed: parseIpv4Cidr(cidr) };
    return this.block.parsed;
  }

  /** The options changed: allocate again at the next flush. */
  invalidate(): void {
    this.dirty = true;
  }

  /**
   * Allocates again if needed; returns the ServiceEntries whose address moved (the engine re-detects
   * them, which must not schedule yet another allocation: hence `dirty` is cleared by the caller's
   * `settle()` afterwards).
   */
  reallocate(detected: ReadonlyMap<string, Detected>, serviceEntries: ReadonlyMap<string, R.ServiceEntry>, services: Iterable<R.KubeService>, cidr: string): string[] {
    if (!this.dirty) return [];
    const needing: { key: string; previous: string | undefined }[] = [];
    for (const [key, d] of detected) if (d.needsVip) needing.push({ key, previous: allocationOf(serviceEntries.get(key)!) });
    const used = new Set<string>();
    for (const r of [...serviceEntries.values(), ...services]) for (const a of this.addressesOf(r)) used.add(a);
    const { assigned, exhausted, moved } = allocateVips(needing, used, cidr);
    const before = this.assigned;
    this.assigned = assigned;
    this.kept = new Set(needing.filter((r) => r.previous !== undefined && assigned.get(r.key) === r.previous).map((r) => r.key));
    this.diagnostics = [
      ...exhausted.map((k) => diag('MM_SERVICE_VIP_EXHAUSTED', k, `no free address is left in ${cidr}; give the ServiceEntry spec.addresses or widen vipCidr.`)),
      ...moved.map((m) => movedDiagnostic(m, assigned.get(m.key), cidr)),
    ];
    return [...new Set([...before.keys(), ...assigned.keys()])].filter((k) => before.get(k) !== assigned.get(k));
  }

  settle(): void {
    this.dirty = false;
  }
}

function movedDiagnostic(m: VipMove, now: string | undefined, cidr: string): Diagnostic {
  const why =
    m.reason === 'outside-block' ? `is not a usable address of vipCidr ${cidr} (was vipCidr changed?)`
    : m.reason === 'used-elsewhere' ? 'is now used by another ServiceEntry or Service'
    : `is also claimed by ${m.keptBy}, which sorts first and keeps it`;
  const next = now === undefined ? 'no address is free, so it has none' : `it gets ${now} instead`;
  return diag('MM_SERVICE_VIP_REALLOCATED', m.key, `the address ${m.previous} metamesh allocated to it earlier ${why}; ${next}. Its outbound listener moves with the address.`);
}
