/** IPv4 addresses and CIDR blocks as 32-bit integers. One copy for options, VIPs and the xDS cluster. */

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit integer, or undefined if it is not a dotted-quad IPv4 address. */
export function ipv4ToInt(ip: string): number | undefined {
  const m = DOTTED.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

export function isIpv4(s: string): boolean {
  return ipv4ToInt(s) !== undefined;
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  /** First address of the block (the given address with host bits as written). */
  readonly base: number;
  readonly bits: number;
  /** Number of addresses in the block. */
  readonly size: number;
}

/** `a.b.c.d/n`, or undefined if malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const base = ipv4ToInt(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (base === undefined || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  return { base, bits, size: 2 ** (32 - bits) };
}

export function inCidr(ip: string, cidr: Cidr): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >= cidr.base && n < cidr.base + cidr.size;
}
