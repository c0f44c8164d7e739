/**
 * The golden stages of the registry side, for test/golden/golden.test.ts. Their in.yaml is plain
 * data (not manifests):
 *
 *   catalog          now (ms), options (CatalogOptions fields, over the defaults), previous
 *                    (a CatalogState, the out.yaml `state` of an earlier step), snapshots, statuses
 *                    → state, catalog, decisions, diagnostics
 *   serviceentries   options (ServiceEntryOptions fields, over the defaults), catalog (a Catalog,
 *                    the catalog stage's `catalog`) → serviceEntries, diagnostics
 *
 * Each stage shuffles every list whose order must not matter, and `check` states what every case
 * must satisfy beyond its out.yaml.
 */
import assert from 'node:assert/strict';
import { DEFAULT_CATALOG_OPTIONS, EMPTY_CATALOG_STATE, type Catalog, type CatalogOptions, type CatalogState } from '../../src/catalog/model.js';
import { step } from '../../src/catalog/step.js';
import type { RegistrySnapshot, RegistryStatus } from '../../src/model/registry.js';
import { DEFAULT_SERVICEENTRY_OPTIONS, generateServiceEntries, type ServiceEntryOptions } from '../../src/serviceentry/generate.js';
import { validateServiceEntry } from '../../src/validate/serviceentry.js';
import { shuffled } from './random.js';

export interface DataStage<I> {
  readonly kind: 'data';
  readonly run: (input: I) => unknown;
  readonly shuffle: (input: I, seed: number) => I;
  readonly check?: (input: I) => void;
}

interface CatalogCase {
  now: number;
  options?: Partial<CatalogOptions>;
  previous?: CatalogState;
  snapshots?: RegistrySnapshot[];
  statuses?: RegistryStatus[];
}

interface ServiceEntriesCase {
  options?: Partial<ServiceEntryOptions>;
  catalog: Catalog;
}

const catalogStage: DataStage<CatalogCase> = {
  kind: 'data',
  run: (c) => {
    const r = step(c.previous ?? EMPTY_CATALOG_STATE, c.snapshots ?? [], c.statuses ?? [], { ...DEFAULT_CATALOG_OPTIONS, ...c.options }, c.now);
    return { state: r.state, catalog: r.catalog, decisions: r.decisions, diagnostics: r.diagnostics };
  },
  shuffle: (c, seed) => ({
    ...c,
    ...(c.previous ? { previous: { registries: shuffled(c.previous.registries, seed).map((r) => ({ ...r, services: shuffled(r.services, seed + 1) })) } } : {}),
    snapshots: shuffled(c.snapshots ?? [], seed + 2).map((s) => ({ ...s, services: shuffled(s.services, seed + 3).map((v) => ({ ...v, instances: shuffled(v.instances, seed + 4) })) })),
    statuses: shuffled(c.statuses ?? [], seed + 5),
  }),
};

function generate(c: ServiceEntriesCase) {
  return generateServiceEntries(c.catalog.services, { ...DEFAULT_SERVICEENTRY_OPTIONS, ...c.options });
}

const serviceEntriesStage: DataStage<ServiceEntriesCase> = {
  kind: 'data',
  run: generate,
  shuffle: (c, seed) => ({ ...c, catalog: { services: shuffled(c.catalog.services, seed).map((s) => ({ ...s, instances: shuffled(s.instances, seed + 1) })) } }),
  check: (c) => {
    for (const se of generate(c).serviceEntries) {
      assert.deepEqual(validateServiceEntry(se), [], `ServiceEntry ${se.metadata.namespace}/${se.metadata.name} must pass Istio's validation`);
    }
  },
};

export const REGISTRY_STAGES = { catalog: catalogStage, serviceentries: serviceEntriesStage } as const;
