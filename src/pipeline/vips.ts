/**
 * The engine's virtual-IP bookkeeping: which ServiceEntries hold an allocated address, and when the
 * allocation (src/serviceentry/vip.ts, pure) must run again. It runs again only when a service needs
 * a VIP or an address inside the block appears or disappears, so one edit elsewhere never moves a VIP.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type * as R from '../model/resources.js';
import type { Detected } from '../protocol/detect.js';
import { allocateVips } from '../serviceentry/vip.js';
import { addressIp } from '../util/hosts.js';
import { inIpv4Block, parseIpv4Cidr, type Ipv4Block } from '../util/ip.js';

export class VipState {
  /** ServiceEntry key → allocated address. */
  assigned = new Map<string, string>();
  diagnostics: Diagnostic[] = [];
  private dirty = false;
  /** The parsed vipCidr, kept while the option stays the same. */
  private block: { cidr: string; parsed: Ipv4Block | undefined } | undefined;

  /** Every address a ServiceEntry or Service holds, MetaProtocol or not (VIPs must avoid them all). */
  addressesOf(r: R.ServiceEntry | R.KubeService | undefined): string[] {
    if (!r) return [];
    if (r.kind === 'ServiceEntry') return (r.spec.addresses ?? []).map(addressIp);
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
  reallocate(detected: ReadonlyMap<string, Detected>, serviceEntries: Iterable<R.ServiceEntry>, services: Iterable<R.KubeService>, cidr: string): string[] {
    if (!this.dirty) return [];
    const needing: string[] = [];
    for (const [key, d] of detected) if (d.needsVip) needing.push(key);
    const used = new Set<string>();
    for (const r of [...serviceEntries, ...services]) for (const a of this.addressesOf(r)) used.add(a);
    const { assigned, exhausted } = allocateVips(needing, used, cidr);
    const before = this.assigned;
    this.assigned = assigned;
    this.diagnostics = exhausted.map((k) => diag('MM_SERVICE_VIP_EXHAUSTED', k, `no free address is left in ${cidr}; give the ServiceEntry spec.addresses or widen vipCidr.`));
    return [...new Set([...before.keys(), ...assigned.keys()])].filter((k) => before.get(k) !== assigned.get(k));
  }

  settle(): void {
    this.dirty = false;
  }
}
