/**
 * One raw Nacos host object (`/nacos/v1/ns/instance/list` → `hosts[]`) made into the fields a
 * RegistryInstance needs. Both servers' shapes are accepted (real Nacos and rnacos name a few
 * fields differently; the ones read here are common to both).
 */

export interface NacosHost {
  readonly address: string;
  readonly port: number;
  /** Nacos `weight` (a float, default 1.0) times the Dubbo `weight` metadata (default 100), rounded. */
  readonly weight: number;
  readonly healthy: boolean;
  readonly enabled: boolean;
  /** The string-valued metadata entries (Dubbo writes only strings), keys sorted. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Dubbo's default provider weight: what a Nacos weight of 1.0 stands for. */
const DUBBO_DEFAULT_WEIGHT = 100;

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export function validPort(x: unknown): number | undefined {
  const n = typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

function nonNegative(x: unknown, fallback: number): number {
  const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : x;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The host, or a sentence saying why it cannot be used. */
export function readHost(raw: unknown): NacosHost | string {
  if (!isObject(raw)) return 'the instance is not a JSON object';
  const address = typeof raw.ip === 'string' ? raw.ip.trim() : '';
  if (address === '') return 'the instance has no "ip"';
  const port = validPort(raw.port);
  if (port === undefined) return `the instance ${address} has no valid "port" (1-65535): ${JSON.stringify(raw.port)}`;
  // Keys in sorted order: the parser then uses this object as the labels it would sort it into.
  const metadata: Record<string, string> = {};
  if (isObject(raw.metadata)) {
    const m = raw.metadata;
    for (const k of Object.keys(m).sort()) if (typeof m[k] === 'string') metadata[k] = m[k];
  }
  const nacosWeight = nonNegative(raw.weight, 1);
  const dubboWeight = nonNegative(metadata.weight, DUBBO_DEFAULT_WEIGHT);
  return {
    address,
    port,
    weight: Math.round(nacosWeight * dubboWeight),
    healthy: raw.healthy !== false,
    // v1 registrations may say `enable` (the legacy spelling Nacos still accepts).
    enabled: raw.enabled !== false && raw.enable !== false,
    metadata,
  };
}

/** Dubbo 3 `dubbo.endpoints` metadata: `[{"port":20880,"protocol":"dubbo"}]`; undefined if unreadable. */
export function readEndpoints(text: string): { port: number; protocol: string }[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: { port: number; protocol: string }[] = [];
  for (const e of parsed) {
    const port = isObject(e) ? validPort(e.port) : undefined;
    if (port === undefined || !isObject(e) || typeof e.protocol !== 'string' || e.protocol === '') return undefined;
    out.push({ port, protocol: e.protocol });
  }
  return out;
}
