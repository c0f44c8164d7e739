/**
 * Which Kubernetes namespace each generated ServiceEntry goes to, from the command line and the
 * registry URLs. Pure: flag values and registry configs in, the ServiceEntry options
 * (src/serviceentry/generate.ts) or a sentence saying what is wrong out.
 *
 * The order of choice, first that applies:
 *   1. the namespace a service asks for itself (`aeraki_meta_app_namespace` in its Dubbo URL);
 *   2. the first `--registry-namespace-rule` matching the service, in the order given;
 *   3. the `namespace=` of the registry URL the service comes from (ZooKeeper);
 *   4. `--registry-namespace` (default `default`).
 */
import { DEFAULT_SERVICEENTRY_OPTIONS, type NamespaceRule, type ServiceEntryOptions } from '../serviceentry/generate.js';
import type { RegistryConfig } from './config.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** At most this many rules: each is tried for each service. */
export const MAX_NAMESPACE_RULES = 256;

/**
 * One `--registry-namespace-rule`: `<namespace>=<field>:<value>[,<field>:<value>]`, the fields
 * `application` (exactly this application) and `interface` (an interface starting with this).
 */
export function parseNamespaceRule(value: string): NamespaceRule | { readonly error: string } {
  const eq = value.indexOf('=');
  const bad = (why: string) => ({ error: `--registry-namespace-rule ${JSON.stringify(value)}: ${why}; write <namespace>=application:<app> or <namespace>=interface:<prefix> (both, comma-separated, must both match)` });
  if (eq < 0) return bad('there is no "="');
  const namespace = value.slice(0, eq);
  if (!DNS_LABEL.test(namespace)) return bad(`${JSON.stringify(namespace)} is not a namespace name (a DNS label)`);
  let application: string | undefined;
  let interfacePrefix: string | undefined;
  for (const part of value.slice(eq + 1).split(',')) {
    const colon = part.indexOf(':');
    const field = colon < 0 ? part : part.slice(0, colon);
    const v = colon < 0 ? '' : part.slice(colon + 1);
    if (v === '') return bad(`${JSON.stringify(part)} has no value`);
    if (field === 'application' && application === undefined) application = v;
    else if (field === 'interface' && interfacePrefix === undefined) interfacePrefix = v;
    else return bad(`${JSON.stringify(field)} is not application or interface, or is given twice`);
  }
  return { namespace, ...(application === undefined ? {} : { application }), ...(interfacePrefix === undefined ? {} : { interfacePrefix }) };
}

/** The ServiceEntry options of the flags and registries given. */
export function serviceEntryOptions(defaultNamespace: string | undefined, ruleValues: readonly string[], registries: readonly RegistryConfig[]): ServiceEntryOptions | { readonly error: string } {
  if (defaultNamespace !== undefined && !DNS_LABEL.test(defaultNamespace)) {
    return { error: `--registry-namespace must be a namespace name (a DNS label: lower-case letters, digits and "-", at most 63), not ${JSON.stringify(defaultNamespace)}` };
  }
  if (ruleValues.length > MAX_NAMESPACE_RULES) return { error: `--registry-namespace-rule is given ${ruleValues.length} times: at most ${MAX_NAMESPACE_RULES}` };
  const rules: NamespaceRule[] = [];
  for (const v of ruleValues) {
    const r = parseNamespaceRule(v);
    if ('error' in r) return r;
    rules.push(r);
  }
  for (const c of registries) if (c.kind === 'zookeeper' && c.namespace !== undefined) rules.push({ registry: c.name, namespace: c.namespace });
  return { defaultNamespace: defaultNamespace ?? DEFAULT_SERVICEENTRY_OPTIONS.defaultNamespace, namespaceRules: rules };
}
