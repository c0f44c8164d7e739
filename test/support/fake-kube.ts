/**
 * A scripted Kubernetes API for unit tests of the reflectors and the Kubernetes source: every list
 * and watch request waits until the test answers it; timers fire only when the test says so.
 */
import type { KubeClient, ListPage, WatchHandlers } from '../../src/store/kubernetes/client.js';

export interface PendingList {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  resolve(page: ListPage): void;
  reject(e: Error): void;
}

export interface OpenWatch {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly handlers: WatchHandlers;
  stopped: boolean;
}

export class FakeKube implements KubeClient {
  readonly lists: PendingList[] = [];
  readonly watches: OpenWatch[] = [];

  list(path: string, query: Readonly<Record<string, string>>): Promise<ListPage> {
    return new Promise((resolve, reject) => this.lists.push({ path, query, resolve, reject }));
  }

  watch(path: string, query: Readonly<Record<string, string>>, handlers: WatchHandlers) {
    const w: OpenWatch = { path, query, handlers, stopped: false };
    this.watches.push(w);
    return { stop: () => void (w.stopped = true) };
  }

  /** The oldest unanswered list of `path` (any path when not given), removed from the queue. */
  takeList(path?: string): PendingList {
    const i = this.lists.findIndex((l) => path === undefined || l.path === path);
    if (i < 0) throw new Error(`no pending list${path ? ` of ${path}` : ''}; pending: ${this.lists.map((l) => l.path).join(', ') || 'none'}`);
    return this.lists.splice(i, 1)[0]!;
  }

  /** The newest watch of `path` that is still open. */
  openWatch(path?: string): OpenWatch {
    const w = [...this.watches].reverse().find((x) => !x.stopped && (path === undefined || x.path === path));
    if (!w) throw new Error(`no open watch${path ? ` of ${path}` : ''}`);
    return w;
  }

  /** Answers the pending list of `path` with `items` at `rv`, and lets the reflector go on. */
  async answer(path: string, items: unknown[], rv: string): Promise<void> {
    this.takeList(path).resolve({ items, resourceVersion: rv, continue: undefined });
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export { manualTimers as fakeTimers } from './manual-timers.js';

/** An API object as the API server returns it. */
export function obj(kind: string, apiVersion: string, namespace: string, name: string, rv: string, spec: unknown, extra: Record<string, unknown> = {}) {
  return { apiVersion, kind, metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}`, managedFields: [{ manager: 'kubectl' }], ...extra }, spec, status: { conditions: [] } };
}
