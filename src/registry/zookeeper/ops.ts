/**
 * The node-zookeeper-client reads the watcher uses, as promises with a deadline and a cap on how
 * many are in flight. The deadline matters: requests issued while disconnected are queued without
 * one, and are never answered if the session then turns out to have expired.
 */
import zookeeper from 'node-zookeeper-client';
import type { Client, Event, Stat } from 'node-zookeeper-client';

export type Watcher = (event: Event) => void;

/** Outcome of a read of a node that may be gone: `undefined` means NO_NODE. */
export type Maybe<T> = T | undefined;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class ZkOps {
  private active = 0;
  /** Requests waiting for a slot, first at `head` (a full read queues tens of thousands: no shift()). */
  private queue: ((() => void) | undefined)[] = [];
  private head = 0;
  /**
   * Requests in flight by start order, with their deadline. Every request has the same timeout, so
   * the oldest has the earliest deadline: one timer, set for it, stands for all of them (a timer per
   * request costs more than the request itself when a full read sends 40,000).
   */
  private readonly inFlight = new Map<number, { readonly deadline: number; readonly expire: () => void }>();
  private started = 0;
  private sweep: unknown;

  constructor(
    private readonly client: Client,
    private readonly opts: { readonly concurrency: number; readonly timeoutMs: number; readonly timers: Timers; readonly now?: () => number },
  ) {}

  exists(path: string, watcher?: Watcher): Promise<Maybe<Stat>> {
    return this.run(path, (done) =>
      watcher ? this.client.exists(path, watcher, (e, s) => done(e, s ?? undefined)) : this.client.exists(path, (e, s) => done(e, s ?? undefined)),
    );
  }

  getChildren(path: string, watcher?: Watcher): Promise<Maybe<string[]>> {
    return this.run(path, (done) =>
      watcher ? this.client.getChildren(path, watcher, (e, c) => done(e, c)) : this.client.getChildren(path, (e, c) => done(e, c)),
    );
  }

  getData(path: string, watcher?: Watcher): Promise<Maybe<Buffer>> {
    return this.run(path, (done) =>
      watcher ? this.client.getData(path, watcher, (e, d) => done(e, d ?? Buffer.alloc(0))) : this.client.getData(path, (e, d) => done(e, d ?? Buffer.alloc(0))),
    );
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Runs one request under the cap; NO_NODE resolves to undefined, other errors reject. */
  private run<T>(path: string, start: (done: (e: unknown, v: T) => void) => void): Promise<Maybe<T>> {
    return new Promise<Maybe<T>>((resolve, reject) => {
      const go = (): void => {
        this.active++;
        const id = ++this.started;
        let settled = false;
        const finish = (e: unknown, v?: T): void => {
          if (settled) return;
          settled = true;
          this.inFlight.delete(id);
          // Nothing left to time: no timer either (it would keep a process that is done alive).
          if (this.inFlight.size === 0 && this.sweep !== undefined) {
            this.opts.timers.clearTimeout(this.sweep);
            this.sweep = undefined;
          }
          this.active--;
          this.next()?.();
          if (!e) resolve(v);
          else if (isNoNode(e)) resolve(undefined);
          else reject(e instanceof Error ? e : new Error(String(e)));
        };
        this.inFlight.set(id, { deadline: this.now() + this.opts.timeoutMs, expire: () => finish(new Error(`ZooKeeper did not answer a read of ${path} within ${this.opts.timeoutMs} ms`)) });
        this.armSweep();
        try {
          start((e, v) => finish(e, v));
        } catch (e) {
          finish(e);
        }
      };
      if (this.active < this.opts.concurrency) go();
      else this.queue.push(go);
    });
  }

  private next(): (() => void) | undefined {
    if (this.head >= this.queue.length) return undefined;
    const go = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return go;
  }

  /** A timer for the oldest request's deadline, unless one is set. */
  private armSweep(): void {
    if (this.sweep !== undefined) return;
    const oldest = this.inFlight.values().next();
    if (oldest.done) return;
    this.sweep = this.opts.timers.setTimeout(() => {
      this.sweep = undefined;
      const now = this.now();
      for (const r of this.inFlight.values()) {
        if (r.deadline > now) break;
        r.expire();
      }
      this.armSweep();
    }, Math.max(0, oldest.value.deadline - this.now()));
  }
}

function isNoNode(e: unknown): boolean {
  return e instanceof zookeeper.Exception && e.getCode() === zookeeper.Exception.NO_NODE;
}
