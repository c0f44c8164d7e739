/**
 * What the apply sink knows of the cluster: its own list-then-watch of the kinds it writes, plus
 * what its own writes returned until the watch has caught up with them. Effects: the reflectors
 * (src/store/kubernetes/reflector.ts) and their timers.
 *
 * - ServiceEntries: all of them. metamesh amends users' ServiceEntries (an allocated address) and
 *   must see a user's object that has the name of one it would generate (MM_SINK_CONFLICT).
 * - EnvoyFilters and VirtualServices: only those labelled `app.kubernetes.io/managed-by: metamesh`
 *   (a cluster may hold many others). A planned create of these kinds is confirmed absent with a GET
 *   first (apply-sink.ts), so an unlabelled object of that name is never taken over.
 *
 * The overlay: after a write succeeds, the object the API server returned stands in for the
 * reflector's copy until the reflector's copy changes from the one the write replaced (the watch
 * delivered it, or someone else wrote). After a delete, the object counts as gone likewise. So a
 * pass that runs before the watch event arrives does not write the same change again.
 */
import type { Logger } from 'pino';
import { MANAGED_BY, MANAGED_BY_LABEL, type LiveObject } from '../sink/objects.js';
import { objectKey } from '../sink/objects.js';
import { fromSourceStatus, type InputHealth } from '../sink/inputs.js';
import type { Backoff } from '../store/kubernetes/backoff.js';
import type { KubeClient } from '../store/kubernetes/client.js';
import type { WatchedKind } from '../store/kubernetes/kinds.js';
import { Reflector } from '../store/kubernetes/reflector.js';
import type { Timers } from '../store/store.js';
import { isPlainObject } from '../util/decode.js';

const ISTIO_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const OURS = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** The kinds the sink writes, and how it watches each. */
export const SINK_KINDS: readonly WatchedKind[] = [
  { kind: 'ServiceEntry', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'serviceentries' },
  { kind: 'EnvoyFilter', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'envoyfilters', labelSelector: OURS },
  { kind: 'VirtualService', group: 'networking.istio.io', versions: ISTIO_VERSIONS, plural: 'virtualservices', labelSelector: OURS },
];

/** Kinds watched by label only: a create of one is confirmed absent first. */
export function watchedByLabel(kind: string): boolean {
  return SINK_KINDS.some((k) => k.kind === kind && k.labelSelector !== undefined);
}

interface Overlay {
  /** The reflector's resourceVersion the write replaced ('' when it had none). */
  readonly replaced: string;
  /** What the write left: the object returned, or undefined after a delete. */
  readonly object: LiveObject | undefined;
}

export interface SinkLiveOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly onChange: () => void;
  readonly backoff?: Backoff | undefined;
}

export class SinkLive {
  private readonly reflectors: { kind: WatchedKind; reflector: Reflector }[];
  private readonly overlay = new Map<string, Overlay>();

  constructor(opts: SinkLiveOptions) {
    this.reflectors = SINK_KINDS.map((kind) => ({
      kind,
      reflector: new Reflector({
        kind,
        source: `sink ${kind.plural}.${kind.group}${kind.labelSelector ? ` (${kind.labelSelector})` : ''}`,
        client: opts.client,
        logger: opts.logger,
        timers: opts.timers,
        now: Date.now,
        backoff: opts.backoff,
        onChange: opts.onChange,
      }),
    }));
  }

  start(): void {
    for (const r of this.reflectors) r.reflector.start();
  }

  stop(): void {
    for (const r of this.reflectors) r.reflector.stop();
  }

  synced(): boolean {
    return this.reflectors.every((r) => r.reflector.synced);
  }

  /** The reflectors' health, as inputs of the plan: nothing is written before they have listed. */
  inputs(): InputHealth[] {
    return this.reflectors.map((r) => fromSourceStatus(r.reflector.status()));
  }

  /** The objects as the sink must plan with them: the reflectors' copies under the overlay. */
  objects(): LiveObject[] {
    const out = new Map<string, LiveObject>();
    for (const { kind, reflector } of this.reflectors) {
      const apiVersion = reflector.apiVersion;
      for (const raw of reflector.current().values()) {
        const o = asLive(raw, apiVersion, kind.kind);
        if (o) out.set(objectKey(o), o);
      }
    }
    for (const [key, o] of [...this.overlay]) {
      const current = out.get(key);
      const rv = current?.metadata.resourceVersion ?? '';
      if (rv !== o.replaced) {
        this.overlay.delete(key); // the watch caught up, or someone else wrote since
        continue;
      }
      if (o.object) out.set(key, o.object);
      else out.delete(key);
    }
    return [...out.values()];
  }

  /** A ServiceEntry as the cluster holds it, for carrying a generated one's address over. */
  serviceEntry(namespace: string, name: string): LiveObject | undefined {
    const raw = this.reflectors[0]!.reflector.current().get(`${namespace}/${name}`);
    return raw ? asLive(raw, this.reflectors[0]!.reflector.apiVersion, 'ServiceEntry') : undefined;
  }

  /** Records a successful write: `answer` is what the API server returned (undefined after a delete). */
  wrote(key: string, replaced: LiveObject | undefined, answer: unknown): void {
    const object = answer === undefined ? undefined : asLive(answer, undefined, undefined);
    this.overlay.set(key, { replaced: replaced?.metadata.resourceVersion ?? '', object });
  }
}

/** An API object as a LiveObject (apiVersion and kind filled in when a list left them out). */
export function asLive(raw: unknown, apiVersion: string | undefined, kind: string | undefined): LiveObject | undefined {
  if (!isPlainObject(raw) || !isPlainObject(raw.metadata) || typeof raw.metadata.name !== 'string') return undefined;
  const av = typeof raw.apiVersion === 'string' ? raw.apiVersion : apiVersion;
  const k = typeof raw.kind === 'string' ? raw.kind : kind;
  if (av === undefined || k === undefined) return undefined;
  return { ...raw, apiVersion: av, kind: k, metadata: raw.metadata as LiveObject['metadata'] };
}
