/**
 * DestinationRule validation with Istio's own rules, for the fields metamesh reads: the host, the
 * subsets (names, labels), the traffic policy's load balancer (a consistent-hash key becomes the
 * route's hash policy) and exportTo. A DestinationRule with an error here does not exist in a real
 * cluster (the API server or istiod refuses it), so the input stage treats it as absent.
 *
 * Pure and context-free: it needs only the resource itself.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { ConsistentHash, DestinationRule, TrafficPolicy } from '../model/resources.js';
import { isIstioLabel, istioWildcardDomainProblem } from '../util/hosts.js';
import { exportToProblems } from './export-to.js';
import { labelProblems } from './labels.js';
import { metadataProblems } from './metadata.js';

/** Appended to every error: what happens to the object. */
export const DESTINATIONRULE_DROPPED = 'Istio rejects such a DestinationRule, so metamesh treats it as absent and generates nothing for it.';

/** A traffic policy must set at least one of these (istiod's validateTrafficPolicy). */
const POLICY_FIELDS = ['outlierDetection', 'connectionPool', 'loadBalancer', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'];
const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'];
/** The hash key of a consistent hash: at most one of them (a proto oneof). */
const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'];
/** Envoy's limit on the Maglev table size (it must also be prime). */
const MAGLEV_MAX_TABLE = 5000011;

type Report = (field: string, text: string) => void;

export function validateDestinationRule(dr: DestinationRule): Diagnostic[] {
  const ref = { kind: 'DestinationRule', namespace: dr.metadata.namespace, name: dr.metadata.name };
  const out: Diagnostic[] = [];
  const error: Report = (field, text) => out.push(diag('MM_DESTINATIONRULE_INVALID', ref, `${field} ${text}. ${DESTINATIONRULE_DROPPED}`));
  const spec = dr.spec;

  for (const p of metadataProblems(dr.metadata)) error(p.field, p.text);
  if (spec.host === undefined || spec.host === '') {
    error('spec.host', 'is missing; Istio requires the host the rule applies to. Add the service\'s host name');
  } else {
    const problem = istioWildcardDomainProblem(spec.host);
    if (problem) error('spec.host', `${JSON.stringify(spec.host)} is not a host Istio accepts: ${problem}. Use the service's DNS name or short name`);
  }
  checkTrafficPolicy(spec.trafficPolicy, 'spec.trafficPolicy', error);

  const names = new Set<string>();
  (spec.subsets ?? []).forEach((s, i) => {
    const field = `spec.subsets[${i}]`;
    if (s.name === undefined || s.name === '') {
      error(`${field}.name`, 'is missing; Istio requires every subset to have a name. Name it, e.g. v1');
    } else if (!isIstioLabel(s.name)) {
      error(`${field}.name`, `${JSON.stringify(s.name)} is not a DNS label (letters, digits and inner hyphens, at most 63); rename the subset`);
    } else if (names.has(s.name)) {
      error(`${field}.name`, `${JSON.stringify(s.name)} is used by an earlier subset; Istio requires unique subset names. Rename or merge them`);
    }
    names.add(s.name);
    for (const p of labelProblems(s.labels ?? {})) error(`${field}.labels`, `${p}; fix the label`);
    checkTrafficPolicy(s.trafficPolicy, `${field}.trafficPolicy`, error);
  });

  for (const p of exportToProblems(spec.exportTo ?? [], dr.metadata.namespace, false)) {
    error('spec.exportTo', `${p}; use ".", "*" alone, or namespace names`);
  }
  return out;
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function checkTrafficPolicy(policy: TrafficPolicy | undefined, field: string, error: Report): void {
  if (policy === undefined) return;
  if (!POLICY_FIELDS.some((k) => isSet(policy[k]))) {
    error(field, `sets none of ${POLICY_FIELDS.join(', ')}; Istio requires at least one. Remove the empty trafficPolicy or fill it in`);
  }
  if (isSet(policy.tunnel) && isSet(policy.proxyProtocol)) {
    error(field, 'sets both tunnel and proxyProtocol, which Istio does not allow together; keep one');
  }
  const lb = policy.loadBalancer;
  if (lb === undefined) return;
  const at = `${field}.loadBalancer`;
  if (isSet(lb.simple) && isSet(lb.consistentHash)) {
    error(at, 'sets both simple and consistentHash; Istio allows one load-balancing kind. Keep consistentHash for hashing, or simple');
  }
  if (isSet(lb.simple) && !SIMPLE_LB.includes(lb.simple as string)) {
    error(`${at}.simple`, `${JSON.stringify(lb.simple)} is not one of ${SIMPLE_LB.join(', ')}`);
  }
  if (lb.consistentHash !== undefined) checkConsistentHash(lb.consistentHash, `${at}.consistentHash`, error);
}

function checkConsistentHash(ch: ConsistentHash, field: string, error: Report): void {
  const keys = HASH_KEYS.filter((k) => isSet(ch[k]));
  if (keys.length > 1) {
    error(field, `sets ${keys.join(' and ')}; Istio allows one hash key (httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName). Keep one`);
  }
  if (ch.httpHeaderName === '') {
    error(`${field}.httpHeaderName`, 'is empty; the proxy needs the name of the header (for MetaProtocol, the attribute) to hash on. Name it, e.g. userId');
  }
  if (isSet(ch.httpCookie)) {
    const cookie = ch.httpCookie as { name?: unknown };
    if (typeof cookie !== 'object' || typeof cookie.name !== 'string' || cookie.name === '') {
      error(`${field}.httpCookie.name`, 'is missing; Istio requires the name of the cookie to hash on');
    }
  }
  if (isSet(ch.ringHash) && isSet(ch.maglev)) {
    error(field, 'sets both ringHash and maglev; Istio allows one hash algorithm. Keep one');
  }
  if (isSet(ch.minimumRingSize) && ch.minimumRingSize !== 0 && (isSet(ch.ringHash) || isSet(ch.maglev))) {
    error(`${field}.minimumRingSize`, 'is set next to ringHash or maglev; Istio allows only one of them. Move the size into ringHash.minimumRingSize');
  }
  if (isSet(ch.maglev)) {
    const size = (ch.maglev as { tableSize?: unknown }).tableSize;
    if (typeof size !== 'number' || size === 0) {
      error(`${field}.maglev.tableSize`, 'is missing; Istio requires a prime table size below 5000011, e.g. 65537');
    } else if (size >= MAGLEV_MAX_TABLE || !isPrime(size)) {
      error(`${field}.maglev.tableSize`, `${size} must be a prime number below ${MAGLEV_MAX_TABLE}, e.g. 65537`);
    }
  }
}

/** Envoy's (and so Istio's) primality test, which counts 1 as prime. */
function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 1) return false;
  if (n < 4) return true;
  if (n % 2 === 0) return false;
  for (let f = 3; f * f <= n; f += 2) if (n % f === 0) return false;
  return true;
}
