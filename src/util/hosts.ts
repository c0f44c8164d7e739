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

// --- Istio's own host rules (pkg/config/validation: ValidateFQDN, ValidateWildcardDomain) ---------
// Istio is more lenient than isValidHost: letters of either case, up to 255 characters, a trailing
// dot, and (for wildcard domains) a `*`, `*foo` or `*-foo` first label. Each function returns why
// a name is invalid, or undefined when Istio accepts it.

const ISTIO_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const ISTIO_WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/** A DNS-1123 label as Istio checks it (port names, subset names, namespaces in exportTo). */
export function isIstioLabel(s: string): boolean {
  return s.length <= 63 && ISTIO_LABEL.test(s);
}

function lengthProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 255) return `it is ${name.length} characters long (at most 255)`;
  return undefined;
}

function labelsProblem(name: string): string | undefined {
  const labels = name.split('.');
  const tld = labels[labels.length - 1]!;
  if (/^\d+$/.test(tld)) return `its last label ${JSON.stringify(tld)} is all digits (an IP address is not a host name)`;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i === labels.length - 1 && l === '') return undefined; // a trailing dot: `istio.io.`
    if (!isIstioLabel(l)) return `its label ${JSON.stringify(l)} is not a DNS label (letters, digits and inner hyphens, at most 63)`;
  }
  return undefined;
}

/** Istio's ValidateFQDN: a DNS name (short names are fine; no wildcard). */
export function istioFqdnProblem(name: string): string | undefined {
  return lengthProblem(name) ?? labelsProblem(name);
}

/** Istio's ValidateWildcardDomain: a DNS name whose first label may be a wildcard. */
export function istioWildcardDomainProblem(name: string): string | undefined {
  const problem = lengthProblem(name);
  if (problem) return problem;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  if (first.length > 63 || !ISTIO_WILDCARD_LABEL.test(first)) {
    return `its first label ${JSON.stringify(first)} is neither a DNS label nor a wildcard ("*", "*foo" or "*-foo")`;
  }
  return dot < 0 ? undefined : labelsProblem(name.slice(dot + 1));
}
