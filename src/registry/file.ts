/**
 * The `file://` registry: a YAML document holding a registry snapshot (`services:`), for demos and
 * tests. Pure: the parsed document in, a RegistrySnapshot out. A record that is not a service or
 * an instance is skipped with MM_REGISTRY_BAD_RECORD naming it; optional instance fields take the
 * defaults a registry would give (no labels, weight 100, healthy, enabled).
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { RegistryInstance, RegistryService, RegistrySnapshot } from '../model/registry.js';

const OPTIONAL_TEXT = ['interface', 'group', 'version', 'application', 'namespace'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The snapshot in `doc`, or the reason it is not one. */
export function parseSnapshotFile(registry: string, doc: unknown): RegistrySnapshot | { readonly error: string } {
  if (!isObject(doc) || !Array.isArray(doc.services)) return { error: 'it has no services: list' };
  const diagnostics: Diagnostic[] = [];
  const object = `Registry ${registry}`;
  const services: RegistryService[] = [];
  doc.services.forEach((raw: unknown, i: number) => {
    const where = `services[${i}]`;
    if (!isObject(raw) || typeof raw.key !== 'string' || typeof raw.protocol !== 'string' || typeof raw.host !== 'string' || !Array.isArray(raw.instances)) {
      diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, `${where} is not a service (it needs key, protocol and host as text and an instances list); it was skipped.`));
      return;
    }
    const instances: RegistryInstance[] = [];
    raw.instances.forEach((inst: unknown, j: number) => {
      const r = instanceOf(inst);
      if (typeof r === 'string') diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, `${where}.instances[${j}] of ${raw.key} ${r}; it was skipped.`));
      else instances.push(r);
    });
    const optional = Object.fromEntries(OPTIONAL_TEXT.filter((k) => typeof raw[k] === 'string').map((k) => [k, raw[k] as string]));
    services.push({ key: raw.key, protocol: raw.protocol, host: raw.host, ...optional, instances });
  });
  return { registry, services, diagnostics };
}

function instanceOf(v: unknown): RegistryInstance | string {
  if (!isObject(v)) return 'is not an instance';
  const { address, port, labels, weight, healthy, enabled } = v;
  if (typeof address !== 'string' || address === '') return 'has no address';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return 'has no port from 1 to 65535';
  if (labels !== undefined && !(isObject(labels) && Object.values(labels).every((x) => typeof x === 'string'))) return 'has labels that are not a map of text';
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0)) return 'has a weight that is not a number of 0 or more';
  if (healthy !== undefined && typeof healthy !== 'boolean') return 'has a healthy that is not true or false';
  if (enabled !== undefined && typeof enabled !== 'boolean') return 'has an enabled that is not true or false';
  return {
    address,
    port,
    labels: (labels as Record<string, string> | undefined) ?? {},
    weight: weight ?? 100,
    healthy: healthy ?? true,
    enabled: enabled ?? true,
  };
}
