/**
 * IP addresses and CIDR blocks, parsed the way Istio's validation does (Go's netip / net.ParseCIDR):
 * IPv4 in dotted decimal without leading zeros, IPv6 in any RFC 4291 text form (an IPv4 tail and
 * one `::` allowed), and `<ip>/<bits>` blocks; and IPv4 arithmetic on 32-bit integers (virtual-IP
 * blocks). One copy for validation, options, VIP allocation and the xDS cluster. Pure: no resolver,
 * no `node:net`.
 */

const DECIMAL_OCTET = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => DECIMAL_OCTET.test(p) && Number(p) <= 255);
}

/** IPv6 without a zone. `::` may stand for one or more zero groups, once. */
export function isIPv6(s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): number => {
    if (half === '') return 0;
    const parts = half.split(':');
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        if (!isIPv4(p)) return -1;
        n += 2;
      } else if (HEX_GROUP.test(p)) {
        n += 1;
      } else {
        return -1;
      }
    }
    return n;
  };
  if (halves.length === 1) return groups(s) === 8;
  // An IPv4 tail is only allowed at the very end, i.e. in the second half.
  if (halves[0]!.includes('.')) return false;
  const a = groups(halves[0]!);
  const b = groups(halves[1]!);
  return a >= 0 && b >= 0 && a + b < 8;
}

/** An IPv4 or IPv6 address; an IPv6 address may carry a `%zone`, as Go's netip accepts. */
export function isIpAddress(s: string): boolean {
  if (isIPv4(s)) return true;
  const pct = s.indexOf('%');
  if (pct < 0) return isIPv6(s);
  return pct < s.length - 1 && isIPv6(s.slice(0, pct));
}

/** `<ip>/<bits>` with bits within the address family's width (host bits may be set, as in Go). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0 || s.indexOf('/', slash + 1) >= 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  return isIPv6(ip) && Number(bits) <= 128;
}

/** An IPv4 address as an unsigned 32-bit integer, or undefined if `ip` is not one. */
export function ipv4ToInt(ip: string): number | undefined {
  return isIPv4(ip) ? ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) : undefined;
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Ipv4Block {
  /** The block's address as written (host bits as given). */
  readonly base: number;
  readonly bits: number;
  /** Number of addresses in the block. */
  readonly size: number;
}

/** An IPv4 `a.b.c.d/n` block, or undefined if `s` is not one. */
export function parseIpv4Cidr(s: string): Ipv4Block | undefined {
  if (!isCidr(s)) return undefined;
  const slash = s.indexOf('/');
  const base = ipv4ToInt(s.slice(0, slash));
  if (base === undefined) return undefined;
  const bits = Number(s.slice(slash + 1));
  return { base, bits, size: 2 ** (32 - bits) };
}

export function inIpv4Block(ip: string, block: Ipv4Block): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >= block.base && n < block.base + block.size;
}
