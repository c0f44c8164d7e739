/**
 * List-then-watch of one kind: the last-known objects of a collection, kept in step with the API
 * server. Effects only through the injected KubeClient and Timers.
 *
 * - List (page by page, `limit` per page) → the objects, replaced as a whole: a successful list is
 *   the only thing that can make objects disappear without a DELETED event. Then watch from the
 *   list's resourceVersion (with bookmarks), applying ADDED/MODIFIED/DELETED in order.
 * - A watch the server ends normally (its timeoutSeconds) is opened again from the last
 *   resourceVersion seen. "410 Gone" (the version is too old: the watch cache moved on, the API
 *   server restarted) relists at once.
 * - Any other failure (no answer, 5xx, 429, 403, a dropped connection, a watch silent for longer
 *   than its timeout) is retried after a backoff (exponential with jitter, reset by an answer),
 *   forever; a list answered 404 moves to the kind's next version first. Meanwhile the objects last
 *   known stay as they are: **a failure never removes anything**. Health: `ok` while listed and
 *   watching, `stale` while failing after a list succeeded, `failed` while no list ever did.
 * - Each change of state is logged once (when it starts, when it ends), not at every retry.
 *
 * Every callback carries the generation it was started in; stop() and each relist start a new
 * one, so an answer to an abandoned request changes nothing.
 */
import type { Logger } from 'pino';
import { SourceHealth, type SourceStatus } from '../health.js';
import type { Timers } from '../store.js';
import { KubeApiError, statusOf, type KubeClient, type WatchEvent, type WatchHandle } from './client.js';
import { objectName, resourceVersionOf } from './convert.js';
import { apiVersionOf, collectionPath, selectorOf, type WatchedKind } from './kinds.js';
import { isPlainObject } from '../../util/decode.js';
import { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './backoff.js';

export interface ReflectorOptions {
  readonly kind: WatchedKind;
  /** How the kind is named in logs, /readyz and diagnostics. */
  readonly source: string;
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly now: () => number;
  /** A number in [0, 1) for jitter; Math.random by default. */
  readonly random?: () => number;
  /** Called after every change of the objects or of the state (the store debounces). */
  readonly onChange: () => void;
  readonly backoff?: Backoff;
  /** Objects per list page. */
  readonly pageSize?: number;
  /** The server ends a watch after this long (a little jitter is added); default 300 s. */
  readonly watchTimeoutSeconds?: number;
}

/** What /readyz shows for one kind. */
export interface KindStatus extends SourceStatus {
  readonly apiVersion: string;
  readonly objects: number;
  readonly synced: boolean;
}

/** A watch that ended this soon after it opened is retried after a backoff, not at once. */
const SHORT_WATCH_MS = 1000;
/** How much longer than its timeout a watch may stay silent before it is taken for dead. */
const IDLE_GRACE_MS = 30_000;

export class Reflector {
  private readonly health: SourceHealth<number>;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private objects = new Map<string, Record<string, unknown>>();
  private resourceVersion = '';
  private versionIndex = 0;
  private generation = 0;
  private failures = 0;
  private watchHandle: WatchHandle | undefined;
  private retryHandle: unknown;
  private idleHandle: unknown;
  private listed = false;
  private stopped = false;

  constructor(private readonly opts: ReflectorOptions) {
    this.health = new SourceHealth(opts.source, opts.now);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
  }

  start(): void {
    this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.cancelTimers();
    this.stopWatch();
  }

  /** The objects last known, by `namespace/name`. */
  current(): ReadonlyMap<string, Record<string, unknown>> {
    return this.objects;
  }

  /** Whether a list has ever succeeded. */
  get synced(): boolean {
    return this.listed;
  }

  get apiVersion(): string {
    return apiVersionOf(this.opts.kind, this.opts.kind.versions[this.versionIndex]!);
  }

  status(): KindStatus {
    return { ...this.health.status(), apiVersion: this.apiVersion, objects: this.objects.size, synced: this.listed };
  }

  /** Starts over with a list (a new generation: whatever is in flight is abandoned). */
  private relist(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.cancelTimers();
    this.stopWatch();
    void this.list(gen);
  }

  private async list(gen: number): Promise<void> {
    const { kind, client } = this.opts;
    const path = collectionPath(kind, kind.versions[this.versionIndex]!);
    const items: unknown[] = [];
    let rv = '';
    let cont: string | undefined;
    try {
      do {
        const query: Record<string, string> = { ...selectorOf(kind), limit: String(this.opts.pageSize ?? 500) };
        if (cont !== undefined) query.continue = cont;
        const page = await client.list(path, query);
        if (gen !== this.generation) return;
        items.push(...page.items);
        rv = page.resourceVersion;
        cont = page.continue || undefined;
      } while (cont !== undefined);
    } catch (e) {
      if (gen !== this.generation) return;
      this.listFailed(e);
      return;
    }
    this.replace(items, rv);
    this.watch(gen);
  }

  private listFailed(e: unknown): void {
    const { kind } = this.opts;
    if (statusOf(e) === 404 && this.versionIndex < kind.versions.length - 1) {
      this.versionIndex++;
      this.relist();
      return;
    }
    let why = (e as Error).message;
    if (statusOf(e) === 404) {
      why = `the API server serves ${kind.plural}${kind.group ? `.${kind.group}` : ''} at none of ${kind.versions.join(', ')} (is its CustomResourceDefinition installed?)`;
      this.versionIndex = 0;
    }
    this.fail(`cannot be listed: ${why}`);
    this.retry(() => this.relist());
  }

  /** The result of a successful list: the whole truth about the collection. */
  private replace(items: readonly unknown[], rv: string): void {
    const next = new Map<string, Record<string, unknown>>();
    for (const item of items) {
      const key = objectName(item);
      if (key !== undefined && isPlainObject(item)) next.set(key, item);
    }
    const changed = next.size !== this.objects.size || [...next].some(([k, o]) => resourceVersionOf(this.objects.get(k)) !== resourceVersionOf(o) || !this.objects.has(k));
    this.objects = next;
    this.resourceVersion = rv;
    this.failures = 0;
    const first = !this.listed;
    this.listed = true;
    this.succeed();
    if (changed || first) this.opts.onChange();
  }

  private watch(gen: number): void {
    if (gen !== this.generation || this.stopped) return;
    const { kind, client } = this.opts;
    const timeoutSeconds = Math.round((this.opts.watchTimeoutSeconds ?? 300) * (1 + 0.2 * this.random()));
    const query = { ...selectorOf(kind), resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) };
    let openedAt: number | undefined;
    const idleMs = timeoutSeconds * 1000 + IDLE_GRACE_MS;
    const handle = client.watch(collectionPath(kind, kind.versions[this.versionIndex]!), query, {
      open: () => {
        if (gen !== this.generation) return;
        openedAt = this.opts.now();
        this.succeed();
        this.armIdle(gen, idleMs);
      },
      event: (e) => {
        if (gen !== this.generation) return;
        this.armIdle(gen, idleMs);
        this.failures = 0;
        this.onEvent(e);
      },
      end: (err) => {
        if (gen !== this.generation) return;
        this.watchHandle = undefined;
        this.clearIdle();
        if (err !== undefined) return this.watchFailed(err);
        // A watch that ends at once, again and again, would spin: only a lasting one is renewed at once.
        if (openedAt !== undefined && this.opts.now() - openedAt >= SHORT_WATCH_MS) {
          this.failures = 0;
          this.watch(gen);
        } else this.retry(() => this.watch(gen));
      },
    });
    if (gen === this.generation) this.watchHandle = handle;
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === 'ERROR') {
      const status = isPlainObject(e.object) ? e.object : {};
      const code = typeof status.code === 'number' ? status.code : undefined;
      const message = typeof status.message === 'string' ? status.message : 'the watch reported an error';
      this.stopWatch();
      this.clearIdle();
      this.watchFailed(new KubeApiError(message, code, typeof status.reason === 'string' ? status.reason : undefined));
      return;
    }
    const obj = e.object;
    const rv = resourceVersionOf(obj);
    if (e.type === 'BOOKMARK') {
      if (rv !== '') this.resourceVersion = rv;
      return;
    }
    const key = objectName(obj);
    if (key === undefined || !isPlainObject(obj)) return;
    if (rv !== '') this.resourceVersion = rv;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.objects.set(key, obj);
    else if (e.type === 'DELETED') this.objects.delete(key);
    else return;
    this.succeed();
    this.opts.onChange();
  }

  private watchFailed(err: Error): void {
    if (statusOf(err) === 410) {
      this.opts.logger.info({ event: 'kube-relist', source: this.opts.source }, `${this.opts.source}: the watch's resourceVersion expired (410 Gone); listing again`);
      this.relist();
      return;
    }
    this.fail(`cannot be watched: ${err.message}`);
    const gen = this.generation;
    this.retry(() => this.watch(gen));
  }

  private retry(fn: () => void): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.failures++, this.backoff, this.random());
    this.cancelTimers();
    this.retryHandle = this.opts.timers.setTimeout(() => {
      this.retryHandle = undefined;
      fn();
    }, delay);
  }

  private armIdle(gen: number, ms: number): void {
    this.clearIdle();
    this.idleHandle = this.opts.timers.setTimeout(() => {
      this.idleHandle = undefined;
      if (gen !== this.generation) return;
      this.stopWatch();
      this.watchFailed(new Error(`no word from the API server for ${Math.round(ms / 1000)} s`));
    }, ms);
  }

  private stopWatch(): void {
    this.watchHandle?.stop();
    this.watchHandle = undefined;
  }

  private clearIdle(): void {
    if (this.idleHandle !== undefined) this.opts.timers.clearTimeout(this.idleHandle);
    this.idleHandle = undefined;
  }

  private cancelTimers(): void {
    if (this.retryHandle !== undefined) this.opts.timers.clearTimeout(this.retryHandle);
    this.retryHandle = undefined;
    this.clearIdle();
  }

  private succeed(): void {
    const left = this.health.succeed(this.objects.size, this.resourceVersion);
    if (left === undefined || left === 'pending') return;
    this.opts.logger.info({ event: 'source-recovered', source: this.opts.source }, `${this.opts.source} is read again; its current objects are served`);
    this.opts.onChange(); // the diagnostics of what is served changed: the store reads again
  }

  private fail(why: string): void {
    const left = this.health.fail(why);
    if (left === undefined) return;
    const kept = this.listed ? `its ${this.objects.size} last-known object(s) stay in effect` : 'it was never listed, so none of its objects are served';
    this.opts.logger.warn({ event: 'source-stale', source: this.opts.source, state: this.health.current, err: why }, `${this.opts.source} ${why}; ${kept}`);
    this.opts.onChange();
  }
}
