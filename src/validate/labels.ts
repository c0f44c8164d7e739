/**
 * Label checks shared by the ServiceEntry and DestinationRule validators, as Istio makes them.
 * Each function returns sentences naming what is wrong (empty when Istio accepts the labels).
 */

// Kubernetes label syntax as Istio's labels.Instance.Validate checks it: an optional DNS-name
// prefix and `/`, then a name of alphanumerics, `-`, `_` and `.` that starts and ends alphanumeric.
const DNS_PREFIX = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (!DNS_PREFIX.test(prefix) || prefix.length > 253)) {
    return `label key ${JSON.stringify(key)} has an invalid prefix (a DNS name of at most 253 characters before the "/")`;
  }
  if (!QUALIFIED_NAME.test(name) || name.length > 63) {
    return `label key ${JSON.stringify(key)} is not a label name (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Label keys and values (endpoint labels, subset labels). An empty value is allowed. */
export function labelProblems(labels: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const kp = keyProblem(k);
    if (kp) out.push(kp);
    if (v !== '' && !QUALIFIED_NAME.test(v)) {
      out.push(`label value ${JSON.stringify(v)} of ${JSON.stringify(k)} is not a label value (letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`);
    }
  }
  return out;
}

/**
 * A workload selector's labels (ServiceEntry `workloadSelector.labels`): istiod refuses an empty
 * key and any `*`; the CRD caps values at 63 characters. An empty value is allowed.
 */
export function selectorProblems(labels: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') out.push(`has an empty label key (value ${JSON.stringify(v)})`);
    if (k.includes('*') || v.includes('*')) out.push(`has a wildcard in ${JSON.stringify(`${k}=${v}`)}, and selectors match exact labels only`);
    if (v.length > 63) out.push(`has a value of ${v.length} characters for ${JSON.stringify(k)} (at most 63)`);
  }
  return out;
}
