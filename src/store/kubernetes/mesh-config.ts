/**
 * Istio's mesh config (the `mesh` key of the ConfigMap `istio` in istio-system) → the option values
 * metamesh mirrors from it, as a partial MetameshOptions spec that lies beneath any MetameshOptions
 * document (a field the document sets wins). Pure.
 *
 * Mirrored: `trustDomain`, `rootNamespace`, `accessLogFile`, `accessLogEncoding`,
 * `accessLogFormat`, `enableTracing` and `defaultConfig.tracing.sampling`. Everything else in the
 * mesh config is Istio's business. A field with a value metamesh cannot use is left out (metamesh's
 * default, or the MetameshOptions document, applies) with MM_OPTIONS_INVALID; a `mesh` that is not
 * YAML gives its YAML diagnostic and no values at all.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import { parseYaml } from '../../input/read.js';
import type { InputLimits } from '../../input/limits.js';
import { isPlainObject } from '../../util/decode.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface MeshDefaults {
  /** The partial MetameshOptions spec; undefined when the mesh config gives nothing usable. */
  readonly spec: Record<string, unknown> | undefined;
  readonly diagnostics: Diagnostic[];
}

/** `configMap` is the ConfigMap object as the API returns it; `ref` names it (`ConfigMap istio-system/istio`). */
export function meshDefaults(configMap: unknown, ref: string, limits: InputLimits): MeshDefaults {
  const diagnostics: Diagnostic[] = [];
  const data = isPlainObject(configMap) && isPlainObject(configMap.data) ? configMap.data : {};
  const text = data.mesh;
  if (typeof text !== 'string') return { spec: undefined, diagnostics };
  const parsed = parseYaml(text, `${ref} data.mesh`, limits);
  diagnostics.push(...parsed.diagnostics.filter((d) => d.code !== 'MM_INPUT_EMPTY'));
  const mesh = parsed.documents[0]?.value;
  if (parsed.diagnostics.some((d) => d.severity === 'error' && d.code !== 'MM_INPUT_EMPTY') || !isPlainObject(mesh)) return { spec: undefined, diagnostics };

  const spec: Record<string, unknown> = {};
  const meshOpts: Record<string, unknown> = {};
  const bad = (field: string, why: string) =>
    diagnostics.push(diag('MM_OPTIONS_INVALID', ref, `the mesh config's ${field} ${why}; metamesh does not mirror it (its own default, or the MetameshOptions document, applies).`));
  const str = (field: string, check: (s: string) => boolean, why: string, set: (s: string) => void) => {
    const v = mesh[field];
    if (v === undefined || v === null) return;
    if (typeof v === 'string' && check(v)) set(v);
    else bad(field, why);
  };
  str('trustDomain', (s) => DNS_NAME.test(s), 'must be a DNS name, like cluster.local', (s) => (spec.trustDomain = s));
  str('rootNamespace', (s) => DNS_LABEL.test(s) && s.length <= 63, 'must be a namespace name', (s) => (spec.rootNamespace = s));
  str('accessLogFile', () => true, 'must be a string', (s) => (meshOpts.accessLogFile = s));
  str('accessLogEncoding', (s) => s === 'TEXT' || s === 'JSON', 'must be TEXT or JSON', (s) => (meshOpts.accessLogEncoding = s));
  str('accessLogFormat', () => true, 'must be a string', (s) => (meshOpts.accessLogFormat = s));
  const tracing = mesh.enableTracing;
  if (typeof tracing === 'boolean') meshOpts.enableTracing = tracing;
  else if (tracing !== undefined && tracing !== null) bad('enableTracing', 'must be true or false');
  const defaultConfig = isPlainObject(mesh.defaultConfig) ? mesh.defaultConfig : {};
  const sampling = isPlainObject(defaultConfig.tracing) ? defaultConfig.tracing.sampling : undefined;
  if (typeof sampling === 'number' && sampling >= 0 && sampling <= 100) meshOpts.tracingSampling = sampling;
  else if (sampling !== undefined && sampling !== null) bad('defaultConfig.tracing.sampling', 'must be a percentage from 0 to 100');
  // A JSON access log format must be a JSON object, as for the MetameshOptions field it fills.
  if (meshOpts.accessLogEncoding === 'JSON' && typeof meshOpts.accessLogFormat === 'string' && meshOpts.accessLogFormat !== '' && !isJsonObject(meshOpts.accessLogFormat)) {
    bad('accessLogFormat', 'must be a JSON object when accessLogEncoding is JSON');
    delete meshOpts.accessLogFormat;
  }
  if (Object.keys(meshOpts).length > 0) spec.mesh = meshOpts;
  return { spec: Object.keys(spec).length > 0 ? spec : undefined, diagnostics };
}

function isJsonObject(s: string): boolean {
  try {
    return isPlainObject(JSON.parse(s));
  } catch {
    return false;
  }
}
