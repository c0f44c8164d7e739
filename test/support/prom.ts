/**
 * A small reader of the Prometheus text exposition format (0.0.4) for tests: every sample line
 * `name{label="value",…} number`, with HELP and TYPE kept per metric family, and lookups by name
 * and labels. Strict enough to fail on a malformed line.
 */
import assert from 'node:assert/strict';

export interface PromSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: PromSample[];
  readonly help: Map<string, string>;
  readonly type: Map<string, string>;
  /** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name` whose labels include `labels`. */
  all(name: string, labels?: Record<string, string>): PromSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

export function parseExposition(text: string): Exposition {
  const samples: PromSample[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : type).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      assert.ok(l, `bad labels in: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case.
    const raw = m[3]!.toLowerCase();
    const value = raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? NaN : Number(raw);
    assert.ok(!Number.isNaN(value) || raw === 'nan', `bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  const matches = (s: PromSample, name: string, labels: Record<string, string>) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    help,
    type,
    all: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)),
    value(name, labels = {}) {
      const found = samples.filter((s) => matches(s, name, labels));
      assert.ok(found.length <= 1, `${found.length} samples of ${name} ${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
      return found[0]?.value;
    },
  };
}

/** GETs `/metrics` of a server on loopback and parses it. */
export async function scrape(port: number): Promise<Exposition & { contentType: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return Object.assign(parseExposition(await res.text()), { contentType: res.headers.get('content-type') });
}
