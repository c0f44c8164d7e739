/**
 * Dubbo override URLs (`override://<ip:port | 0.0.0.0>/<interface>?category=configurators&weight=50`,
 * `…&disabled=true`) under `/<root>/<interface>/configurators`, applied to provider parameters the way
 * Dubbo's consumers apply them (AbstractConfigurator): any `empty://` clears them all; `enabled=false`
 * turns one off; `application`, `side` and `~key` must match the provider; group and version must
 * equal the service's (absent equals absent), as the registry's subscription match requires; a
 * specific `ip:port` beats `0.0.0.0`, then higher `priority` wins; `absent://` only fills parameters
 * the provider lacks. An override with a host but no port targets consumers, not providers.
 */
import { cmp } from '../../model/diagnostics.js';
import type { DubboUrl } from './dubbo-url.js';

export interface Override {
  readonly url: DubboUrl;
  /** The node name, the last tie-breaker (deterministic order). */
  readonly name: string;
}

/** Keys that select what an override applies to; they are never applied as values. */
const CONDITION_KEYS = new Set(['category', 'check', 'dynamic', 'enabled', 'group', 'version', 'application', 'side', 'configVersion', 'compatible_config', 'interfaces', 'anyhost', 'priority']);

/** The overrides that can apply at all, in the order they are applied (the last one wins). */
export function activeOverrides(all: readonly Override[]): Override[] {
  if (all.some((o) => o.url.scheme === 'empty')) return [];
  return all
    .filter((o) => (o.url.scheme === 'override' || o.url.scheme === 'absent') && o.url.host !== '' && o.url.params.enabled !== 'false')
    .sort((a, b) => specificity(a) - specificity(b) || priority(a) - priority(b) || cmp(a.name, b.name));
}

/** The provider's parameters after the overrides that match it. */
export function applyOverrides(overrides: readonly Override[], provider: DubboUrl): Record<string, string> {
  const params: Record<string, string> = { ...provider.params };
  for (const o of overrides) {
    if (!matches(o.url, provider)) continue;
    for (const [k, v] of Object.entries(o.url.params)) {
      if (CONDITION_KEYS.has(k) || k.startsWith('~')) continue;
      if (o.url.scheme === 'absent' && k in provider.params) continue;
      // defineProperty: a key named __proto__ is a parameter like any other, never a prototype.
      Object.defineProperty(params, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return params;
}

function matches(o: DubboUrl, p: DubboUrl): boolean {
  const anyHost = o.host === '0.0.0.0';
  if (o.port === 0 ? !anyHost : o.port !== p.port || (!anyHost && o.host !== p.host)) return false;
  if ((o.params.group ?? '') !== (p.params.group ?? '') || (o.params.version ?? '') !== (p.params.version ?? '')) return false;
  for (const [k, v] of Object.entries(o.params)) {
    const tilde = k.startsWith('~');
    if (!tilde && k !== 'application' && k !== 'side') continue;
    if (v !== '*' && v !== '' && v !== p.params[tilde ? k.slice(1) : k]) return false;
  }
  return true;
}

function specificity(o: Override): number {
  return o.url.host === '0.0.0.0' ? 0 : 1;
}

function priority(o: Override): number {
  const n = Number(o.url.params.priority ?? '0');
  return Number.isFinite(n) ? n : 0;
}
