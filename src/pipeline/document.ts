/**
 * The two shapes metamesh prints its output in, one copy each (used by `metamesh generate` and by
 * `/debug/config` of `metamesh serve`). Pure.
 *
 * - The output document: `{serviceEntries, envoyFilters, virtualServices, routes, diagnostics}`,
 *   everything the pipeline produced, for people and for tools that read all of it.
 * - The manifests: only the Kubernetes objects to apply (ServiceEntries metamesh changed, then
 *   EnvoyFilters, then VirtualServices, each list in the pipeline's sorted order). The routes are
 *   not among them: they are served over xDS, never applied.
 */
import { stringify } from 'yaml';
import type { Diagnostic } from '../model/diagnostics.js';
import type { OutputObject } from '../model/output.js';
import type { PipelineOutput } from './types.js';
import type { JsonObject } from '../route/wire.js';

export interface OutputDocument {
  readonly serviceEntries: readonly OutputObject[];
  readonly envoyFilters: readonly OutputObject[];
  readonly virtualServices: readonly OutputObject[];
  readonly routes: readonly JsonObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** The output document; its key order is part of the format. */
export function outputDocument(output: PipelineOutput): OutputDocument {
  return {
    serviceEntries: output.serviceEntries,
    envoyFilters: output.envoyFilters,
    virtualServices: output.virtualServices,
    routes: output.routes,
    diagnostics: output.diagnostics,
  };
}

/** The objects to apply, in apply order: ServiceEntries first, so the addresses exist. */
export function manifestObjects(output: PipelineOutput): OutputObject[] {
  return [...output.serviceEntries, ...output.envoyFilters, ...output.virtualServices];
}

/**
 * A multi-document YAML stream, each document starting with `---`. Written with YAML 1.1 quoting
 * because kubectl reads YAML 1.1: a label value such as `on` or `yes` must stay a string there.
 * No anchors or aliases, no folded lines. An empty list gives an empty string.
 */
export function manifestStream(objects: readonly OutputObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}
