/** The pipeline's input changes and output document. */
import type { Diagnostic } from '../model/diagnostics.js';
import type { OutputObject } from '../model/output.js';
import type { Resource } from '../model/resources.js';
import type { JsonObject } from '../route/wire.js';

export type Change =
  | { readonly op: 'upsert'; readonly resource: Resource<string, unknown> }
  | { readonly op: 'delete'; readonly kind: string; readonly namespace: string; readonly name: string };

/** What `metamesh generate` prints (plus virtualServices for gateway listeners). */
export interface PipelineOutput {
  /** ServiceEntries metamesh wants changed: today, those it gave a virtual IP. */
  serviceEntries: OutputObject[];
  envoyFilters: OutputObject[];
  virtualServices: OutputObject[];
  /** RDS resources exactly as served: Envoy RouteConfigurations in proto3 JSON, with `@type`. */
  routes: JsonObject[];
  diagnostics: Diagnostic[];
}

export function objKey(kind: string, namespace: string, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}
