/** Host names: Istio's short-name rule and validity checks. */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Istio's rule: a host without a dot is a short name, relative to the namespace of the resource
 * that names it (`foo` in `ns` → `foo.ns.svc.<domain>`). Anything else is taken as written.
 * Host names are case-insensitive; the result is lowercase.
 */
export function resolveHost(host: string, namespace: string, domain: string): string {
  const h = host.trim().toLowerCase();
  return h.includes('.') || h === '' ? h : `${h}.${namespace}.svc.${domain}`;
}

/** A DNS name of labels, 1..253 characters, whose last label is not all digits. */
export function isValidHost(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (!labels.every((l) => l.length <= 63 && LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

/** The IP of an address or CIDR (`10.0.0.1/32` → `10.0.0.1`). */
export function addressIp(address: string): string {
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}
