/**
 * MetaRouter validation: everything Aeraki's admission webhook checks, and more (empty matchers,
 * RE2 syntax, null attributes, an empty global rate-limit match, unreachable routes, duration
 * formats, gateway-only MetaRouters).
 * Pure and context-free, so the CLI, the server and the admission webhook share it. Checks that
 * need the service (attributes of its protocol, subsets) are made by the route stage.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Destination, MetaRoute, MetaRouteMatch, MetaRouter, TokenBucket } from '../model/resources.js';
import { attributeMatches } from '../route/build.js';
import { parseDuration } from '../util/duration.js';
import { isDnsLabel, isValidHost, resolveHost } from '../util/hosts.js';
import { re2Problem, type RegexCheck } from '../util/regex.js';
import { canonicalJson } from '../util/canonical.js';

/** The data plane refuses local rate-limit fill intervals below 50 ms. */
const MIN_FILL_INTERVAL_S = 0.05;
const MAX_MUTATION_BYTES = 16384;

export function validateMetaRouter(mr: MetaRouter, domain: string, checkRegex: RegexCheck = re2Problem): Diagnostic[] {
  const ref = `MetaRouter ${mr.metadata.namespace}/${mr.metadata.name}`;
  const out: Diagnostic[] = [];
  const err = (code: Parameters<typeof diag>[0], message: string) => out.push(diag(code, ref, message));
  const ns = mr.metadata.namespace;
  const spec = mr.spec;

  const hosts = spec.hosts ?? [];
  if (hosts.length !== 1) {
    err('MM_ROUTER_HOSTS', `spec.hosts must list exactly one host (it lists ${hosts.length}); write one MetaRouter per service.`);
  } else if (!isValidHost(resolveHost(hosts[0]!, ns, domain))) {
    err('MM_ROUTER_HOSTS', `spec.hosts[0] ${JSON.stringify(hosts[0])} is not a valid DNS name (no wildcards, no IP addresses).`);
  }
  const routes = spec.routes ?? [];
  if (routes.length === 0 && !spec.localRateLimit && !spec.globalRateLimit) {
    err('MM_ROUTER_EMPTY', 'has no routes, no localRateLimit and no globalRateLimit, so it would do nothing; add one of them.');
  }

  const seenMatches = new Map<string, number>();
  routes.forEach((r, i) => {
    const at = `spec.routes[${i}]${r.name ? ` (${r.name})` : ''}`;
    checkMatch(r.match, `${at}.match`, 'MM_ROUTER_MATCH', err, checkRegex);
    checkRoute(r, at, ns, domain, err);
    const key = matchKey(r.match);
    const earlier = seenMatches.get(key);
    if (earlier !== undefined) {
      err('MM_ROUTER_UNREACHABLE_ROUTE', `${at} has the same match as spec.routes[${earlier}], so it can never be used; remove or change one of them.`);
    } else if (i < routes.length - 1 && key === CATCH_ALL) {
      err('MM_ROUTER_UNREACHABLE_ROUTE', `${at} matches every request, so the ${routes.length - 1 - i} route(s) after it can never be used; move it last.`);
    }
    if (!seenMatches.has(key)) seenMatches.set(key, i);
  });

  checkExportTo(spec.exportTo ?? [], err);
  const gateways = spec.gateways ?? [];
  if (gateways.length > 0 && !gateways.includes('mesh')) {
    const limits = spec.localRateLimit || spec.globalRateLimit ? ', and its rate limits are not applied' : '';
    err('MM_ROUTER_GATEWAY_ONLY', `spec.gateways lists gateways but not "mesh", so this MetaRouter configures only those gateways: sidecars calling ${hosts[0] ?? 'its host'} keep the default route (or another MetaRouter for the host)${limits}. Aeraki applied such a MetaRouter to sidecars too; to keep sidecar routing, add "mesh" to spec.gateways.`);
  }
  gateways.forEach((g, i) => {
    const parts = g.split('/');
    const ok = g === 'mesh' || (parts.length === 1 && isDnsLabel(parts[0]!)) || (parts.length === 2 && isDnsLabel(parts[0]!) && isDnsLabel(parts[1]!));
    if (!ok) err('MM_ROUTER_GATEWAYS', `spec.gateways[${i}] ${JSON.stringify(g)} must be "mesh", "<gateway>" or "<namespace>/<gateway>".`);
  });
  if (new Set(gateways).size !== gateways.length) {
    err('MM_ROUTER_GATEWAYS', 'spec.gateways lists a gateway twice.');
  }

  const lrl = spec.localRateLimit;
  if (lrl) {
    const conditions = lrl.conditions ?? [];
    if (!lrl.tokenBucket && conditions.length === 0) {
      err('MM_RATELIMIT_LOCAL', 'spec.localRateLimit needs a tokenBucket, conditions, or both.');
    }
    if (lrl.tokenBucket) checkBucket(lrl.tokenBucket, 'spec.localRateLimit.tokenBucket', err);
    conditions.forEach((c, i) => {
      const at = `spec.localRateLimit.conditions[${i}]`;
      checkMatch(c.match, `${at}.match`, 'MM_RATELIMIT_LOCAL', err, checkRegex);
      if (attributeMatches(c.match).length === 0) {
        err('MM_RATELIMIT_LOCAL', `${at}.match must name at least one attribute with a matcher${onlyNulls(c.match) ? ' (null attributes are ignored)' : ''}.`);
      }
      if (!c.tokenBucket) err('MM_RATELIMIT_LOCAL', `${at}.tokenBucket is required.`);
      else checkBucket(c.tokenBucket, `${at}.tokenBucket`, err);
    });
  }

  const grl = spec.globalRateLimit;
  if (grl) {
    const at = 'spec.globalRateLimit';
    if (!grl.domain) err('MM_RATELIMIT_GLOBAL', `${at}.domain is required: the rate-limit service's domain.`);
    if (!grl.rateLimitService) {
      err('MM_RATELIMIT_GLOBAL', `${at}.rateLimitService is required: the Envoy cluster of the rate-limit service, e.g. outbound|8081||rate-limit.svc.cluster.local.`);
    }
    const descriptors = grl.descriptors ?? [];
    if (descriptors.length === 0) err('MM_RATELIMIT_GLOBAL', `${at}.descriptors needs at least one {property, descriptorKey}.`);
    descriptors.forEach((d, i) => {
      if (!d.property || !d.descriptorKey) err('MM_RATELIMIT_GLOBAL', `${at}.descriptors[${i}] needs both property and descriptorKey.`);
    });
    checkMatch(grl.match, `${at}.match`, 'MM_RATELIMIT_GLOBAL', err, checkRegex);
    if (attributeMatches(grl.match).length === 0) {
      err('MM_RATELIMIT_GLOBAL', `${at}.match must name at least one attribute with a matcher${onlyNulls(grl.match) ? ' (null attributes are ignored)' : ''}: with an empty match the data plane never limits anything.`);
    }
    if (grl.requestTimeout === undefined) {
      out.push(diag('MM_RATELIMIT_NO_TIMEOUT', ref, `${at}.requestTimeout is not set; the data plane's default (20ms) applies.`));
    } else {
      const s = parseDuration(grl.requestTimeout);
      if (s === undefined || s <= 0) err('MM_RATELIMIT_GLOBAL', `${at}.requestTimeout ${JSON.stringify(grl.requestTimeout)} must be a positive duration such as "100ms" or "1s".`);
    }
  }
  return out;
}

type Report = (code: Parameters<typeof diag>[0], message: string) => void;

/** What a match really checks: null attributes give no matcher, and `regex: "*"` is presence. */
const CATCH_ALL = '[]';
function matchKey(m: MetaRouteMatch | undefined): string {
  return canonicalJson(attributeMatches(m));
}

function onlyNulls(m: MetaRouteMatch | undefined): boolean {
  const values = Object.values(m?.attributes ?? {});
  return values.length > 0 && values.every((sm) => sm === null);
}

function checkMatch(m: MetaRouteMatch | undefined, at: string, code: Parameters<typeof diag>[0], err: Report, checkRegex: RegexCheck): void {
  for (const [name, sm] of Object.entries(m?.attributes ?? {})) {
    if (name.trim() === '') err(code, `${at}.attributes has an empty attribute name.`);
    if (sm === null) {
      err('MM_ROUTER_NULL_MATCH', `${at}.attributes.${name} is null, so it was ignored (as Aeraki does): this attribute is not checked at all. To require that the attribute is present, write ${name}: {regex: "*"}.`);
      continue;
    }
    const set = (['exact', 'prefix', 'regex'] as const).filter((k) => sm[k] !== undefined);
    if (set.length === 0) {
      err(code, `${at}.attributes.${name} has no matcher; give exact, prefix or regex (regex "*" requires only the attribute's presence).`);
    } else if (set.length > 1) {
      err(code, `${at}.attributes.${name} sets ${set.join(' and ')}; give exactly one.`);
    } else if (sm.regex === '') {
      err(code, `${at}.attributes.${name}.regex is empty; give an RE2 regular expression, or "*" for presence.`);
    } else if (sm.regex !== undefined && sm.regex !== '*') {
      const problem = checkRegex(sm.regex);
      if (problem) err(code, `${at}.attributes.${name}.regex ${JSON.stringify(sm.regex)} is not valid RE2, which the data plane uses (${problem}).`);
    }
  }
}

function checkDestination(d: Destination, at: string, ns: string, domain: string, code: Parameters<typeof diag>[0], err: Report): void {
  if (!d.host) {
    err(code, `${at}.host is required.`);
  } else if (!isValidHost(resolveHost(d.host, ns, domain))) {
    err(code, `${at}.host ${JSON.stringify(d.host)} is not a valid DNS name.`);
  }
  if (d.subset !== undefined && !isDnsLabel(d.subset)) {
    err(code, `${at}.subset ${JSON.stringify(d.subset)} must be a DNS label (lowercase letters, digits, '-').`);
  }
  const port = d.port?.number;
  if (port !== undefined && (port < 1 || port > 65535)) err(code, `${at}.port.number must be from 1 to 65535.`);
}

function checkRoute(r: MetaRoute, at: string, ns: string, domain: string, err: Report): void {
  const dests = r.route ?? [];
  if (dests.length === 0) err('MM_ROUTER_DESTINATION', `${at}.route needs at least one destination.`);
  dests.forEach((d, j) => {
    if (!d.destination) {
      err('MM_ROUTER_DESTINATION', `${at}.route[${j}].destination is required.`);
      return;
    }
    checkDestination(d.destination, `${at}.route[${j}].destination`, ns, domain, 'MM_ROUTER_DESTINATION', err);
    if ((d.weight ?? 0) > 100) err('MM_ROUTER_DESTINATION', `${at}.route[${j}].weight must be at most 100.`);
  });
  if (dests.length > 1) {
    const sum = dests.reduce((s, d) => s + (d.weight ?? 0), 0);
    if (sum !== 100) err('MM_ROUTER_WEIGHTS', `${at}.route has ${dests.length} destinations whose weights sum to ${sum}; they must sum to 100.`);
  }
  if (r.mirrorPercentage !== undefined) {
    const v = r.mirrorPercentage.value;
    if (!r.mirror) err('MM_ROUTER_MIRROR', `${at}.mirrorPercentage is set without mirror; add a mirror destination or remove it.`);
    if (v === undefined || !(v > 0 && v <= 100)) err('MM_ROUTER_MIRROR', `${at}.mirrorPercentage.value must be greater than 0 and at most 100.`);
  }
  if (r.mirror) checkDestination(r.mirror, `${at}.mirror`, ns, domain, 'MM_ROUTER_MIRROR', err);
  for (const kind of ['requestMutation', 'responseMutation'] as const) {
    (r[kind] ?? []).forEach((kv, j) => {
      if (!kv.key || !kv.value) err('MM_ROUTER_MUTATION', `${at}.${kind}[${j}] needs a non-empty key and value.`);
      else if (Buffer.byteLength(kv.key) > MAX_MUTATION_BYTES || Buffer.byteLength(kv.value) > MAX_MUTATION_BYTES)
        err('MM_ROUTER_MUTATION', `${at}.${kind}[${j}] is longer than ${MAX_MUTATION_BYTES} bytes.`);
    });
  }
}

function checkBucket(b: TokenBucket, at: string, err: Report): void {
  if (!b.maxTokens || b.maxTokens < 1) err('MM_RATELIMIT_LOCAL', `${at}.maxTokens must be at least 1.`);
  if (b.tokensPerFill !== undefined && b.tokensPerFill !== null && b.tokensPerFill < 1) {
    err('MM_RATELIMIT_LOCAL', `${at}.tokensPerFill must be at least 1 (leave it out for 1).`);
  }
  if (!b.fillInterval) {
    err('MM_RATELIMIT_LOCAL', `${at}.fillInterval is required, e.g. "1s" or "60s".`);
  } else {
    const s = parseDuration(b.fillInterval);
    if (s === undefined) err('MM_RATELIMIT_LOCAL', `${at}.fillInterval ${JSON.stringify(b.fillInterval)} is not a duration such as "500ms", "1s" or "1m".`);
    else if (s < MIN_FILL_INTERVAL_S) err('MM_RATELIMIT_LOCAL', `${at}.fillInterval must be at least 50ms; the data plane rejects shorter intervals.`);
  }
}

function checkExportTo(list: readonly string[], err: Report): void {
  if (new Set(list).size !== list.length) err('MM_ROUTER_EXPORT_TO', 'spec.exportTo lists a namespace twice.');
  if (list.includes('*') && list.length > 1) err('MM_ROUTER_EXPORT_TO', 'spec.exportTo has "*" next to other entries; "*" must stand alone.');
  for (const e of list) {
    if (e !== '.' && e !== '*' && !isDnsLabel(e)) err('MM_ROUTER_EXPORT_TO', `spec.exportTo entry ${JSON.stringify(e)} must be ".", "*" or a namespace name.`);
  }
}
