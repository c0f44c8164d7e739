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
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly client: Client,
    private readonly opts: { readonly concurrency: number; readonly timeoutMs: number; readonly timers: Timers },
  ) {}

  exists(path: string, watcher?: Watcher): Promise<Maybe<Stat>> {
    return this.run(path, (done) =>
      watcher ? this.client.exists(path, watcher, (e, s) => done(e, s ?? undefined)) : this.client.exists(path, (e, s) => done(e, s ?? undefined)),
    );
  }

  getChildren(path: string, watcher: Watcher): Promise<Maybe<string[]>> {
    return this.run(path, (done) => this.client.getChildren(path, watcher, (e, c) => done(e, c)));
  }

  getData(path: string, watcher?: Watcher): Promise<Maybe<Buffer>> {
    return this.run(path, (done) =>
      watcher ? this.client.getData(path, watcher, (e, d) => done(e, d ?? Buffer.alloc(0))) : this.client.getData(path, (e, d) => done(e, d ?? Buffer.alloc(0))),
    );
  }

  /** Runs one request under the cap; NO_NODE resolves to undefined, other errors reject. */
  private run<T>(path: string, start: (done: (e: unknown, v: T) => void) => void): Promise<Maybe<T>> {
    return new Promise<Maybe<T>>((resolve, reject) => {
      const go = (): void => {
        this.active++;
        let settled = false;
        const finish = (e: unknown, v?: T): void => {
          if (settled) return;
          settled = true;
          this.opts.timers.clearTimeout(timer);
          this.active--;
          this.queue.shift()?.();
          if (!e) resolve(v);
          else if (isNoNode(e)) resolve(undefined);
          else reject(e instanceof Error ? e : new Error(String(e)));
        };
        const timer = this.opts.timers.setTimeout(() => finish(new Error(`ZooKeeper did not answer a read of ${path} within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
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
}

function isNoNode(e: unknown): boolean {
  return e instanceof zookeeper.Exception && e.getCode() === zookeeper.Exception.NO_NODE;
}
