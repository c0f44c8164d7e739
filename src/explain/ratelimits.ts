/** A MetaRouter's rate limits in sentences. Pure. */
import type { GlobalRateLimit, LocalRateLimit, MetaRouteMatch, TokenBucket } from '../model/resources.js';
import { list } from './words.js';

export function localLimitSentence(l: LocalRateLimit, from: string, enforced: boolean): string {
  const parts: string[] = [];
  if (l.tokenBucket) parts.push(`every request: ${bucket(l.tokenBucket)}`);
  for (const c of l.conditions ?? []) if (c.tokenBucket) parts.push(`when ${matchWords(c.match)}: ${bucket(c.tokenBucket)}`);
  return `Local rate limit of ${from}, enforced by each server-side sidecar${enforced ? '' : ', but no inbound patch exists, so it is not enforced anywhere'}: ${parts.join('; ')}.`;
}

export function globalLimitSentence(g: GlobalRateLimit, from: string, enforced: boolean): string {
  const descriptors = (g.descriptors ?? []).map((d) => `${d.property ?? ''} as ${d.descriptorKey ?? ''}`);
  const details = [
    `domain ${g.domain ?? ''}`,
    g.requestTimeout ? `timeout ${g.requestTimeout}` : 'the data plane\'s default timeout',
    g.denyOnFail ? 'requests denied when the service fails' : 'requests allowed when the service fails',
  ];
  return `Global rate limit of ${from}${enforced ? '' : ' (no inbound patch exists, so it is not enforced anywhere)'}: requests where ${matchWords(g.match)} ask rate-limit service ${g.rateLimitService ?? ''} (${details.join(', ')}), sending ${list(descriptors) || 'no descriptors'}.`;
}

function bucket(b: TokenBucket): string {
  return `at most ${b.maxTokens ?? 0} tokens, ${b.tokensPerFill ?? 1} added every ${b.fillInterval ?? '?'}`;
}

function matchWords(m: MetaRouteMatch | undefined): string {
  const attrs = Object.entries(m?.attributes ?? {}).filter(([, v]) => v !== null && v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (attrs.length === 0) return 'any request';
  return list(
    attrs.map(([name, sm]) => {
      if (sm!.regex === '*') return `${name} is present`;
      if (sm!.exact !== undefined) return `${name} is "${sm!.exact}"`;
      if (sm!.prefix !== undefined) return `${name} starts with "${sm!.prefix}"`;
      return `${name} matches the regex "${sm!.regex ?? ''}"`;
    }),
  );
}
