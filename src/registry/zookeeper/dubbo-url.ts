/**
 * A Dubbo registry URL (`dubbo://10.0.0.12:20880/com.foo.Bar?group=g1&version=1.0.0&…`) as Dubbo
 * parses it: every parameter is kept, in a plain record.
 */
import { javaUrlDecode } from './java-url.js';

export interface DubboUrl {
  /** The scheme, lower case: `dubbo`, `tri`, `override`, `consumer`, `empty`… */
  readonly scheme: string;
  /** Host or IP ('' when absent); an IPv6 literal without its brackets. */
  readonly host: string;
  /** 0 when the URL has no port. */
  readonly port: number;
  /** The path without its leading `/` (the interface name, for providers). */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
}

export type UrlResult = { readonly url: DubboUrl } | { readonly error: string; readonly badEncoding?: true };

/**
 * Parses a child of a Dubbo category directory (`providers`, `configurators`…). Dubbo writes the
 * whole URL encoded once with java.net.URLEncoder, so the encoded scheme separator `%3A%2F%2F` marks
 * an encoded name; Dubbo 3 also accepts a name holding a raw URL (`://`), so do we.
 */
export function parseNodeName(name: string): UrlResult {
  let text: string;
  if (/%3A%2F%2F/i.test(name)) {
    const decoded = javaUrlDecode(name);
    if (decoded === undefined) return { error: 'is not valid URL encoding (a lone or malformed %XX escape, or bytes that are not UTF-8)', badEncoding: true };
    text = decoded;
  } else if (name.includes('://')) {
    text = name;
  } else {
    return { error: 'is not a URL (no encoded scheme separator %3A%2F%2F)' };
  }
  return parseUrl(text);
}

/**
 * Parses a decoded URL. The query is split on `&` and `;`, each pair at its first `=`, as Dubbo's
 * URLStrParser does: values were never escaped one by one, so a value holding `&` is ambiguous and
 * read the way Dubbo reads it. A `default.`-prefixed key (Dubbo 2.6) also sets the plain key when absent.
 */
export function parseUrl(text: string): UrlResult {
  const sep = text.indexOf('://');
  if (sep <= 0) return { error: 'has no scheme' };
  const scheme = text.slice(0, sep).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return { error: `has an invalid scheme "${scheme.slice(0, 40)}"` };
  const q = text.indexOf('?', sep + 3);
  let body = q < 0 ? text.slice(sep + 3) : text.slice(sep + 3, q);
  const hash = body.indexOf('#');
  if (hash >= 0) body = body.slice(0, hash);
  const slash = body.indexOf('/');
  let authority = slash < 0 ? body : body.slice(0, slash);
  const path = slash < 0 ? '' : body.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  const hostPort = splitHostPort(authority);
  if (typeof hostPort === 'string') return { error: hostPort };
  return { url: { scheme, host: hostPort.host, port: hostPort.port, path, params: parseQuery(q < 0 ? '' : text.slice(q + 1)) } };
}

function splitHostPort(authority: string): { host: string; port: number } | string {
  let host = authority;
  let portText = '';
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return 'has an unterminated IPv6 address';
    host = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest !== '') return 'has text after its IPv6 address';
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') === colon) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
  }
  if (portText === '') return { host, port: 0 };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `has an invalid port "${portText.slice(0, 20)}"`;
  return { host, port: Number(portText) };
}

function parseQuery(query: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of query.split(/[&;]/)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    if (key === '') continue;
    params[key] = eq < 0 ? '' : pair.slice(eq + 1).trim();
  }
  for (const key of Object.keys(params)) {
    if (!key.startsWith('default.')) continue;
    const plain = key.slice('default.'.length);
    if (plain !== '' && !(plain in params)) params[plain] = params[key]!;
  }
  return sortedRecord(params);
}

/** A plain object with the keys in ascending order (deterministic output, no prototype keys). */
export function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) {
    // A plain assignment is the same own property (and much faster), but for `__proto__`, which it would not create.
    if (k === '__proto__') Object.defineProperty(out, k, { value: r[k], enumerable: true, writable: true, configurable: true });
    else out[k] = r[k]!;
  }
  return out;
}
