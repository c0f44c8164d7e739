/**
 * The desired objects of the apply sink, from what the pipeline produced:
 *
 * - EnvoyFilters and VirtualServices: metamesh's own objects.
 * - ServiceEntries generated from registries: metamesh's own objects, with the virtual IP the
 *   pipeline gave them (its `serviceEntries` output holds them again, with the address).
 * - Every other ServiceEntry the pipeline gave a virtual IP is a user's: metamesh amends it with
 *   `spec.addresses` and the allocated-address annotation only (src/serviceentry/address.ts reads
 *   both back, so the address is kept across restarts and by the next leader).
 *
 * The generated ServiceEntries fed to the pipeline should carry the allocation of their live copy
 * (carryOverAllocation), or a restart allocates them afresh.
 */
import type { OutputObject } from '../model/output.js';
import type { ServiceEntry } from '../model/resources.js';
import { ALLOCATED_ADDRESS_ANNOTATION } from '../serviceentry/address.js';
import type { PipelineOutput } from '../pipeline/types.js';
import { objectKey, type DesiredObject } from './objects.js';

export function desiredObjects(output: Pick<PipelineOutput, 'serviceEntries' | 'envoyFilters' | 'virtualServices'>, generated: readonly ServiceEntry[]): DesiredObject[] {
  const withVip = new Map(output.serviceEntries.map((se) => [objectKey(se), se]));
  const own = (object: OutputObject): DesiredObject => ({ ownership: 'object', object });
  const out: DesiredObject[] = [];
  const generatedKeys = new Set<string>();
  for (const se of generated) {
    const object = asOutput(se);
    const key = objectKey(object);
    generatedKeys.add(key);
    out.push(own(withVip.get(key) ?? object));
  }
  for (const se of output.serviceEntries) {
    if (generatedKeys.has(objectKey(se))) continue;
    const ip = se.metadata.annotations?.[ALLOCATED_ADDRESS_ANNOTATION];
    if (ip === undefined) throw new Error(`bug: ServiceEntry ${se.metadata.namespace}/${se.metadata.name} in the pipeline's serviceEntries has no ${ALLOCATED_ADDRESS_ANNOTATION}`);
    out.push({ ownership: 'fields', object: addressAmendment(se, ip) });
  }
  for (const o of [...output.envoyFilters, ...output.virtualServices]) out.push(own(o));
  return out;
}

/** The fields metamesh sets on a user's ServiceEntry it gives a virtual IP. */
export function addressAmendment(se: Pick<OutputObject, 'apiVersion' | 'kind' | 'metadata'>, ip: string): OutputObject {
  return {
    apiVersion: se.apiVersion,
    kind: se.kind,
    metadata: { name: se.metadata.name, namespace: se.metadata.namespace, annotations: { [ALLOCATED_ADDRESS_ANNOTATION]: ip } },
    spec: { addresses: [ip] },
  };
}

function asOutput(se: ServiceEntry): OutputObject {
  const { name, namespace, labels, annotations } = se.metadata;
  return {
    apiVersion: se.apiVersion,
    kind: se.kind,
    metadata: { name, namespace, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec: se.spec as unknown as Record<string, unknown>,
  };
}
