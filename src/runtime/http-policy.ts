/**
 * Who may ask the HTTP server what, as pure functions of the bound address, the request's Host
 * header and its Authorization header. The server (http.ts) applies them to every request.
 *
 * - Host check (against DNS rebinding: a web page whose name resolves to this server must not be
 *   able to read it from a browser): a Host that is an IP address is accepted when it is the
 *   address bound, or any address when bound to a wildcard (0.0.0.0, ::), since a rebinding attack
 *   always carries the attacker's name. A name is accepted when it is `localhost` (bound to a
 *   loopback or wildcard address) or one of the configured names. The port of the Host is not
 *   compared: a port-forward may reach the server under another port.
 * - Debug endpoints: open on a loopback address without a token; with a token, they require it
 *   wherever the server is bound; on any other address without a token they are disabled, because
 *   they show the whole configuration, endpoint addresses, file paths and node ids.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export type DebugAccess = 'open' | 'token' | 'disabled';

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback; names never are (the bound address is an IP). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

export function debugAccess(boundAddress: string, hasToken: boolean): DebugAccess {
  if (hasToken) return 'token';
  return isLoopback(boundAddress) ? 'open' : 'disabled';
}

/** The host part of a Host header (`name`, `name:port`, `[v6]:port`), lower-cased; undefined if malformed. */
export function hostOf(header: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::\d{1,5})?$/.exec(header.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
}

export function hostAllowed(header: string | undefined, boundAddress: string, names: ReadonlySet<string>): boolean {
  if (header === undefined) return false;
  const host = hostOf(header);
  if (host === undefined) return false;
  if (isIP(host) !== 0) return isWildcard(boundAddress) || sameAddress(host, boundAddress);
  if (host === 'localhost') return isLoopback(boundAddress) || isWildcard(boundAddress);
  return names.has(host);
}

function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.toLowerCase().replace(/^::ffff:/, '');
  return norm(a) === norm(b);
}

/**
 * Whether an Authorization header carries `Bearer <token>`. Both sides are hashed first so the
 * comparison is constant-time whatever their lengths.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const given = createHash('sha256').update(m ? m[1]! : '').digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && m !== null;
}

/** What the server knows when it decides whether to answer a request at all. */
export interface AccessContext {
  /** The address the server is bound to, as an IP (after name resolution). */
  readonly boundAddress: string;
  /** Extra host names clients may use (`--http-host`), lower-case. */
  readonly hostNames: ReadonlySet<string>;
  readonly token: string | undefined;
}

export interface Refusal {
  readonly status: number;
  readonly text: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Undefined when the request may go on to its endpoint; otherwise the answer that refuses it. The
 * Host check comes first and applies to every endpoint; the token and the disabled state apply
 * only to debug endpoints (health endpoints stay open to probes).
 */
export function refusal(req: { readonly host: string | undefined; readonly authorization: string | undefined }, debug: boolean, ctx: AccessContext): Refusal | undefined {
  if (req.host === undefined) return { status: 400, text: 'a Host header is required' };
  if (!hostAllowed(req.host, ctx.boundAddress, ctx.hostNames)) {
    return { status: 421, text: `this server does not answer for host ${JSON.stringify(req.host.slice(0, 100))}; name it with --http-host if it is this server` };
  }
  if (!debug) return undefined;
  switch (debugAccess(ctx.boundAddress, ctx.token !== undefined)) {
    case 'open':
      return undefined;
    case 'disabled':
      return { status: 403, text: 'the debug endpoints are disabled on a non-loopback address without a token; start metamesh serve with --http-token-file' };
    case 'token':
      return bearerMatches(req.authorization, ctx.token!)
        ? undefined
        : { status: 401, text: 'a bearer token is required: send "Authorization: Bearer <the token of --http-token-file>"', headers: { 'www-authenticate': 'Bearer realm="metamesh"' } };
  }
}

/** The log line that says how the debug endpoints are guarded, once the HTTP server listens. */
export const DEBUG_ACCESS_LOG: Record<DebugAccess, string> = {
  open: 'HTTP listening on a loopback address; the debug endpoints and the dashboard API are open to local clients',
  token: 'HTTP listening; the debug endpoints and the dashboard API require the bearer token of --http-token-file',
  disabled: 'HTTP listening on a non-loopback address without --http-token-file; the debug endpoints and the dashboard API are disabled (the health endpoints answer)',
};
