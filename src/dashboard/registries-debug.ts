/**
 * The body of `/debug/registries`, and the dashboard's registries panel (views.ts): each configured registry's state and what the catalog's outage
 * policy (src/catalog/) is doing with it. Pure: the registries' statuses, the catalog state and the
 * decisions of its last step, the options and the time in; a JSON document out.
 *
 * Per registry, in the order given:
 * - `state` as the watcher reports it, and `health` in the words of /readyz's sources: `ok` (synced:
 *   its current read is served), `stale` (not synced now: its last-known services are served
 *   unchanged, nothing is removed), `failed` (never read completely: it contributes nothing);
 * - `lastSync` (the last complete read) and `error` (why it is not synced);
 * - `services` and `instances`: what the catalog keeps of it, held-back ones included;
 * - `heldBack`: services and instances the registry no longer lists, kept until the removal grace
 *   is over (`removeAt`; a protection may still refuse the removal then);
 * - `protections`: losses refused as above the protection threshold, with the numbers compared
 *   (`before`, `after`), since and until when, and what is kept against the loss.
 *
 * Lists are capped at MAX_NAMES_LISTED entries, with the count left out; names are cut like the
 * other debug bodies' (src/runtime/debug.ts), so the body stays small at 10,000 services.
 */
import type { CatalogOptions, CatalogState, Decision, KeptRegistry, KeptService } from '../catalog/model.js';
import type { RegistryState, RegistryStatus } from '../model/registry.js';
import { clip as clipTo, MAX_ID_LENGTH } from '../util/clip.js';

/** Entries listed at most per list (as the other debug bodies, src/runtime/debug.ts). */
export const MAX_NAMES_LISTED = 100;
const clip = (s: string): string => clipTo(s, MAX_ID_LENGTH);

export interface RegistriesDebugInput {
  readonly statuses: readonly RegistryStatus[];
  /** The catalog state after its last step. */
  readonly state: CatalogState;
  /** The decisions of that step. */
  readonly decisions: readonly Decision[];
  readonly options: CatalogOptions;
  readonly nowMs: number;
}

export type RegistryHealth = 'ok' | 'stale' | 'failed';

export interface HeldService {
  readonly service: string;
  readonly host: string;
  readonly missingSince: string;
  readonly removeAt: string;
}

export interface HeldInstance extends HeldService {
  /** `address:port`. */
  readonly instance: string;
}

export interface ProtectionView {
  /** `registry`: most of its services would go; `service`: most of a service's usable instances. */
  readonly scope: 'registry' | 'service';
  readonly service?: string;
  readonly host?: string;
  /** Services of the registry, or usable instances of the service, before the loss. */
  readonly before?: number;
  /** What the loss would leave of them. */
  readonly after?: number;
  readonly since?: string;
  /** When the loss is taken as intended and applied, unless it recovers first. */
  readonly until?: string;
  /** What is kept against the loss: the missing services (registry) or instances (service). */
  readonly kept: readonly string[];
  readonly keptOmitted: number;
}

export interface RegistryView {
  readonly registry: string;
  readonly state: RegistryState;
  readonly health: RegistryHealth;
  readonly lastSync?: string;
  readonly error?: string;
  readonly services: number;
  readonly instances: number;
  readonly heldBack: {
    readonly services: readonly HeldService[];
    readonly servicesOmitted: number;
    readonly instances: readonly HeldInstance[];
    readonly instancesOmitted: number;
  };
  readonly protections: readonly ProtectionView[];
}

export interface RegistriesDebugBody {
  readonly now: string;
  /** The outage policy's options in force. */
  readonly policy: CatalogOptions;
  readonly registries: readonly RegistryView[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The first MAX_NAMES_LISTED of `list`, and how many were left out. */
function capped<T>(list: readonly T[]): { items: T[]; omitted: number } {
  return { items: list.slice(0, MAX_NAMES_LISTED), omitted: Math.max(0, list.length - MAX_NAMES_LISTED) };
}

function healthOf(status: RegistryStatus): RegistryHealth {
  if (status.state === 'synced') return 'ok';
  return status.lastSyncMs === undefined ? 'failed' : 'stale';
}

/** The instances of `s` missing from the registry, as `address:port`, sorted. */
function missingInstances(s: KeptService): string[] {
  return s.instances.filter((i) => i.absentSinceMs !== undefined).map((i) => `${i.address}:${i.port}`);
}

function heldBack(kept: KeptRegistry | undefined, graceMs: number): RegistryView['heldBack'] {
  const services: HeldService[] = [];
  const instances: HeldInstance[] = [];
  // What a protection holds waits for the protection, not the grace: it is listed there instead.
  for (const s of kept?.services ?? []) {
    const head = { service: clip(s.key), host: clip(s.host) };
    if (s.absentSinceMs !== undefined) {
      if (kept!.protectedSinceMs === undefined && s.protectedSinceMs === undefined) services.push({ ...head, missingSince: iso(s.absentSinceMs), removeAt: iso(s.absentSinceMs + graceMs) });
      continue;
    }
    if (s.protectedSinceMs !== undefined) continue;
    for (const i of s.instances) {
      if (i.absentSinceMs === undefined) continue;
      instances.push({ ...head, instance: clip(`${i.address}:${i.port}`), missingSince: iso(i.absentSinceMs), removeAt: iso(i.absentSinceMs + graceMs) });
    }
  }
  const s = capped(services);
  const i = capped(instances);
  return { services: s.items, servicesOmitted: s.omitted, instances: i.items, instancesOmitted: i.omitted };
}

function protections(kept: KeptRegistry | undefined, decisions: readonly Decision[]): ProtectionView[] {
  const byKey = new Map((kept?.services ?? []).map((s) => [s.key, s]));
  const out: ProtectionView[] = [];
  for (const d of decisions) {
    if (d.kind !== 'protection-triggered' && d.kind !== 'protection-held') continue;
    const service = d.service === undefined ? undefined : byKey.get(d.service);
    const since = d.service === undefined ? kept?.protectedSinceMs : service?.protectedSinceMs;
    const list = capped((d.service === undefined ? d.items ?? [] : service ? missingInstances(service) : []).map((x) => clip(x)));
    out.push({
      scope: d.service === undefined ? 'registry' : 'service',
      ...(d.service === undefined ? {} : { service: clip(d.service) }),
      ...(service === undefined ? {} : { host: clip(service.host) }),
      ...(d.before === undefined ? {} : { before: d.before }),
      ...(d.after === undefined ? {} : { after: d.after }),
      ...(since === undefined ? {} : { since: iso(since) }),
      ...(d.untilMs === undefined ? {} : { until: iso(d.untilMs) }),
      kept: list.items,
      keptOmitted: list.omitted,
    });
  }
  return out;
}

export function registriesDebug(input: RegistriesDebugInput): RegistriesDebugBody {
  const keptByName = new Map(input.state.registries.map((r) => [r.registry, r]));
  const registries = input.statuses.map((status): RegistryView => {
    const kept = keptByName.get(status.registry);
    const services = kept?.services ?? [];
    return {
      registry: status.registry,
      state: status.state,
      health: healthOf(status),
      ...(status.lastSyncMs === undefined ? {} : { lastSync: iso(status.lastSyncMs) }),
      ...(status.error === undefined ? {} : { error: clip(status.error) }),
      services: services.length,
      instances: services.reduce((n, s) => n + s.instances.length, 0),
      heldBack: heldBack(kept, input.options.removalGraceMs),
      protections: protections(kept, input.decisions.filter((d) => d.registry === status.registry)),
    };
  });
  return { now: iso(input.nowMs), policy: input.options, registries };
}
