/**
 * Registry labels made valid Kubernetes labels, as endpoint labels of a generated ServiceEntry.
 * A key is an optional DNS-name prefix and `/`, then a name; a name or value is at most 63
 * letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (a value may be
 * empty). Registry values such as `methods=a,b` or a URL do not fit: each run of other characters
 * becomes `-`, the ends are trimmed and the result cut to 63 characters; what is left empty (of a
 * key) is dropped.
 */

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME = 63;
const MAX_PREFIX = 253;

/** The nearest label name or value: invalid runs to `-`, trimmed, at most 63 characters. */
export function fixLabelText(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_NAME)
    .replace(/[^A-Za-z0-9]+$/, '');
}

function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key) && key.length <= MAX_NAME;
  const prefix = key.slice(0, slash);
  const name = key.slice(slash + 1);
  return PREFIX.test(prefix) && prefix.length <= MAX_PREFIX && NAME.test(name) && name.length <= MAX_NAME;
}

function fixKey(key: string): string {
  const slash = key.indexOf('/');
  if (slash < 0) return fixLabelText(key);
  const prefix = key
    .slice(0, slash)
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const name = fixLabelText(key.slice(slash + 1));
  if (name === '') return '';
  return PREFIX.test(prefix) && prefix.length <= MAX_PREFIX ? `${prefix}/${name}` : name;
}

export interface FixedLabels {
  readonly labels: Record<string, string>;
  /** `key=value → key=value` or `key dropped`, one per label changed. */
  readonly changes: string[];
}

/**
 * Whether `labels` is what fixLabels would make of it: a plain object, keys valid and sorted, values
 * valid. It is then used as it is (at 100,000 endpoints a copy of each is memory for nothing).
 */
function alreadyFixed(labels: Readonly<Record<string, string>>): boolean {
  if (Object.getPrototypeOf(labels) !== Object.prototype) return false;
  let previous: string | undefined;
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    if ((previous !== undefined && !(previous < key)) || !validKey(key) || typeof value !== 'string' || !(value === '' || (NAME.test(value) && value.length <= MAX_NAME))) return false;
    previous = key;
  }
  return true;
}

/**
 * Valid labels for `labels`, keys sorted. When two keys fix to the same key, the one that was
 * already valid (else the first in sorted order) keeps it.
 */
export function fixLabels(labels: Readonly<Record<string, string>>): FixedLabels {
  if (alreadyFixed(labels)) return { labels, changes: [] };
  const out: Record<string, string> = {};
  const changes: string[] = [];
  const keys = Object.keys(labels).sort((a, b) => Number(!validKey(a)) - Number(!validKey(b)) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const value = labels[key]!;
    const k = validKey(key) ? key : fixKey(key);
    const v = value === '' || (NAME.test(value) && value.length <= MAX_NAME) ? value : fixLabelText(value);
    if (k === '' || Object.hasOwn(out, k)) {
      changes.push(`${JSON.stringify(key)} dropped`);
      continue;
    }
    if (k !== key || v !== value) changes.push(`${JSON.stringify(`${key}=${value}`)} → ${JSON.stringify(`${k}=${v}`)}`);
    out[k] = v;
  }
  return { labels: Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), changes: changes.sort() };
}
