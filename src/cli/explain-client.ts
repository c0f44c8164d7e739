/**
 * `metamesh explain --server`: asks a running `metamesh serve` for an explanation over HTTP
 * (`GET /debug/explain?q=`, with the bearer token when one is given). Effects: reads the token file,
 * one HTTP request with a deadline. Never throws: every failure is a sentence.
 */
import type { Explanation } from '../model/explanation.js';
import { readTokenFile } from '../runtime/http.js';

/** How long to wait for the server's answer. */
export const SERVER_TIMEOUT_MS = 10_000;

export async function askServer(server: string, query: string, tokenFile: string | undefined): Promise<{ explanation: Explanation } | { error: string }> {
  let token: string | undefined;
  try {
    token = tokenFile === undefined ? undefined : readTokenFile(tokenFile);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const url = `${server}/debug/explain?q=${encodeURIComponent(query)}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(SERVER_TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    return { error: `cannot ask ${server}: ${cause}; is metamesh serve running there?` };
  }
  const body = await res.text().catch(() => '');
  if (res.status !== 200) {
    return { error: `${server} answered ${res.status}: ${body.trim().slice(0, 500)}${res.status === 404 ? ' (a metamesh serve without /debug/explain?)' : ''}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: `${server} did not answer with JSON; is it metamesh serve?` };
  }
  return isExplanation(parsed) ? { explanation: parsed } : { error: `${server} answered something that is not an explanation; is it metamesh serve?` };
}

function isExplanation(x: unknown): x is Explanation {
  if (x === null || typeof x !== 'object') return false;
  const e = x as Record<string, unknown>;
  const strings = (list: unknown, keys: string[]) => Array.isArray(list) && list.every((i) => i !== null && typeof i === 'object' && keys.every((k) => typeof (i as Record<string, unknown>)[k] === 'string'));
  return (
    typeof e.query === 'string' &&
    typeof e.summary === 'string' &&
    typeof e.inEffect === 'boolean' &&
    strings(e.facts, ['section', 'sentence']) &&
    strings(e.diagnostics, ['code', 'severity', 'object', 'message', 'doc']) &&
    typeof e.subject === 'object' &&
    e.subject !== null
  );
}
