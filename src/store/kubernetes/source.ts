/**
 * The Kubernetes API as a DocumentSource: one Reflector (list-then-watch) per kind metamesh reads,
 * plus Istio's mesh config ConfigMap; their objects become the same documents a manifest file
 * gives (convert.ts), so the store, the input stage and the pipeline cannot tell the difference.
 * Effects: through the reflectors (the KubeClient, timers).
 *
 * Never withdraw on failure: a reflector that fails keeps its last-known objects (reflector.ts),
 * and so they stay in what read() hands over, with MM_SOURCE_STALE saying so; a kind never listed
 * yet gives MM_KUBE_NOT_SYNCED. An object over an input limit is not read; its previous version,
 * if one was read, stays in effect.
 */
import type { Logger } from 'pino';
import { cmp, diag, type Diagnostic } from '../../model/diagnostics.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../input/limits.js';
import type { SourceDocument } from '../../input/read.js';
import { emptySnapshot, realTimers, type DocumentSource, type Snapshot, type Timers } from '../store.js';
import type { KubeClient } from './client.js';
import { objectSource, resourceVersionOf, toDocument, type Converted } from './convert.js';
import { meshConfigKind, WATCHED_KINDS, type ObjectName, type WatchedKind } from './kinds.js';
import { meshDefaults, type MeshDefaults } from './mesh-config.js';
import type { Backoff } from './backoff.js';
import { Reflector, type KindStatus } from './reflector.js';

export interface KubernetesSourceOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  /** Istio's mesh config ConfigMap to mirror options from; undefined: none is read. */
  readonly meshConfig?: ObjectName | undefined;
  readonly limits?: InputLimits | undefined;
  readonly timers?: Timers | undefined;
  readonly now?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
  readonly backoff?: Backoff | undefined;
  /** The kinds to read (tests narrow them); WATCHED_KINDS by default. */
  readonly kinds?: readonly WatchedKind[] | undefined;
  /**
   * Objects left out of what is read: with the apply sink, metamesh's own output (a ServiceEntry it
   * generated from a registry comes back through the watch; its source of truth is the registry).
   */
  readonly exclude?: ((o: Record<string, unknown>, apiVersion: string, kind: string) => boolean) | undefined;
}

/** The kinds whose objects get a status from metamesh (src/status/). */
const STATUS_KINDS = new Set(['MetaRouter', 'ApplicationProtocol']);

/** A MetaRouter or ApplicationProtocol as last read, for the status writer. */
export interface ReadStatusTarget {
  readonly apiVersion: string;
  readonly kind: 'MetaRouter' | 'ApplicationProtocol';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly generation?: number };
  readonly status?: unknown;
}

interface Entry {
  readonly kind: WatchedKind;
  readonly reflector: Reflector;
  /** The last conversion of each object, by `namespace/name`, with the resourceVersion it was made of. */
  converted: Map<string, { rv: string; result: Converted; accepted?: SourceDocument }>;
}

export class KubernetesSource implements DocumentSource {
  private readonly entries: Entry[];
  private readonly mesh: Entry | undefined;
  private readonly limits: InputLimits;
  private meshCache: { rv: string; result: MeshDefaults } | undefined;
  private changed: (() => void) | undefined;
  private readonly syncWaiters = new Set<() => void>();
  private running = false;
  private targets: ReadStatusTarget[] = [];

  constructor(private readonly opts: KubernetesSourceOptions) {
    this.limits = opts.limits ?? DEFAULT_INPUT_LIMITS;
    const make = (kind: WatchedKind, source: string): Entry => ({
      kind,
      converted: new Map(),
      reflector: new Reflector({
        kind,
        source,
        client: opts.client,
        logger: opts.logger,
        timers: opts.timers ?? realTimers,
        now: opts.now ?? Date.now,
        random: opts.random,
        backoff: opts.backoff,
        onChange: () => this.onChange(),
      }),
    });
    this.entries = (opts.kinds ?? WATCHED_KINDS).map((k) => make(k, `kubernetes ${k.plural}${k.group ? `.${k.group}` : ''}`));
    this.mesh = opts.meshConfig ? make(meshConfigKind(opts.meshConfig), `kubernetes configmap ${opts.meshConfig.namespace}/${opts.meshConfig.name}`) : undefined;
  }

  /** Starts listing and watching. Call early: serve waits for the first lists before its first read. */
  run(): void {
    if (this.running) return;
    this.running = true;
    for (const e of this.all()) e.reflector.start();
  }

  /** Whether every kind has been listed successfully at least once. */
  synced(): boolean {
    return this.all().every((e) => e.reflector.synced);
  }

  /** Resolves true once synced(), or false after `timeoutMs` (the lists go on in the background). */
  whenSynced(timeoutMs: number): Promise<boolean> {
    if (this.synced()) return Promise.resolve(true);
    const timers = this.opts.timers ?? realTimers;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.syncWaiters.delete(check);
        timers.clearTimeout(handle);
        resolve(ok);
      };
      const check = () => {
        if (this.synced()) done(true);
      };
      const handle = timers.setTimeout(() => done(false), timeoutMs);
      this.syncWaiters.add(check);
    });
  }

  start(changed: () => void): void {
    this.changed = changed;
    // Whatever the reflectors saw between the first read and now is read at the next reload.
    changed();
  }

  /** The MetaRouters and ApplicationProtocols of the last read(), with their status as read then. */
  statusTargets(): readonly ReadStatusTarget[] {
    return this.targets;
  }

  read(): Snapshot {
    const snap = emptySnapshot();
    this.targets = [];
    for (const e of this.entries) this.readKind(e, snap);
    const optionDefaults = this.mesh ? this.readMesh(this.mesh, snap) : undefined;
    return optionDefaults ? { ...snap, optionDefaults } : snap;
  }

  status(): KindStatus[] {
    return this.all().map((e) => e.reflector.status());
  }

  close(): void {
    for (const e of this.all()) e.reflector.stop();
    for (const w of [...this.syncWaiters]) w();
    this.changed = undefined;
  }

  private all(): Entry[] {
    return this.mesh ? [...this.entries, this.mesh] : this.entries;
  }

  private onChange(): void {
    for (const w of [...this.syncWaiters]) w();
    this.changed?.();
  }

  private readKind(e: Entry, snap: Snapshot): void {
    const r = e.reflector;
    this.health(e, snap.diagnostics);
    const apiVersion = r.apiVersion;
    const next = new Map<string, { rv: string; result: Converted; accepted?: SourceDocument }>();
    for (const [name, obj] of [...r.current()].sort(([a], [b]) => cmp(a, b))) {
      if (this.opts.exclude?.(obj, apiVersion, e.kind.kind)) continue;
      if (STATUS_KINDS.has(e.kind.kind)) this.targets.push(statusTarget(obj, apiVersion, e.kind.kind as ReadStatusTarget['kind']));
      const rv = resourceVersionOf(obj);
      const before = e.converted.get(name);
      let entry = before;
      if (entry === undefined || entry.rv !== rv || rv === '') {
        const result = toDocument(e.kind.kind, apiVersion, obj, this.limits);
        entry = { rv, result, accepted: 'document' in result ? result.document : before?.accepted };
      }
      next.set(name, entry);
      if ('refused' in entry.result) {
        const kept = entry.accepted;
        snap.diagnostics.push(kept ? { ...entry.result.refused, message: `${entry.result.refused.message} Its previous version stays in effect.` } : entry.result.refused);
        if (!kept) continue;
      }
      const doc = entry.accepted!;
      snap.documents.push(doc);
      snap.fileOf.set(doc, objectSource(e.kind.kind, name));
    }
    e.converted = next;
  }

  /** The option values of the mesh config, if it has any metamesh mirrors. */
  private readMesh(e: Entry, snap: Snapshot): Record<string, unknown> | undefined {
    this.health(e, snap.diagnostics);
    const cm = [...e.reflector.current().values()][0];
    if (cm === undefined) return undefined;
    const rv = resourceVersionOf(cm);
    if (this.meshCache?.rv !== rv || rv === '') {
      const { namespace, name } = this.opts.meshConfig!;
      this.meshCache = { rv, result: meshDefaults(cm, `ConfigMap ${namespace}/${name}`, this.limits) };
    }
    snap.diagnostics.push(...this.meshCache.result.diagnostics);
    return this.meshCache.result.spec;
  }

  /** What the kind's health means for what is served, as a diagnostic (none when all is well). */
  private health(e: Entry, out: Diagnostic[]): void {
    const s = e.reflector.status();
    if (!s.synced) {
      const why = s.error ?? 'no answer from the API server yet';
      out.push(diag('MM_KUBE_NOT_SYNCED', s.source, `${s.source} has not been listed yet (${why}); none of its objects are served until it is. Check that the API server is reachable, that the kind's CustomResourceDefinition is installed and that metamesh may list and watch it.`));
    } else if (s.state === 'stale') {
      out.push(diag('MM_SOURCE_STALE', s.source, `${s.source} ${s.error ?? 'cannot be read'}; its ${s.objects} last-known object(s) (resourceVersion ${s.revision ?? '?'}) stay in effect until the API server answers again.`));
    }
  }
}

function statusTarget(obj: Record<string, unknown>, apiVersion: string, kind: ReadStatusTarget['kind']): ReadStatusTarget {
  const m = (obj.metadata ?? {}) as Record<string, unknown>;
  const generation = typeof m.generation === 'number' ? m.generation : undefined;
  return {
    apiVersion,
    kind,
    metadata: { name: String(m.name ?? ''), namespace: String(m.namespace ?? ''), ...(generation !== undefined ? { generation } : {}) },
    ...(obj.status !== undefined ? { status: obj.status } : {}),
  };
}
