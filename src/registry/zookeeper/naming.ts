/**
 * Service hosts. Dubbo interfaces follow dubbo2istio's naming, so its users keep their hosts:
 * `lower(interface[-group][-version with "." → "-"])`. Characters a DNS name cannot hold (the `$`
 * of an inner class, `_`, spaces) become `-`.
 */

export function dubboHost(iface: string, group: string | undefined, version: string | undefined): string {
  let h = iface;
  if (group) h += `-${group}`;
  if (version) h += `-${version.replaceAll('.', '-')}`;
  return dnsSafe(h);
}

/** A Dubbo 3 application's host: its name, lower case. */
export function applicationHost(app: string): string {
  return dnsSafe(app);
}

/** A ServerSet's default host: `/aurora/www-data/prod/hello` → `hello.prod.www-data.aurora`. */
export function serverSetHost(path: string): string {
  return dnsSafe(path.split('/').filter((s) => s !== '').reverse().join('.'));
}

function dnsSafe(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '')
    .join('.');
}
