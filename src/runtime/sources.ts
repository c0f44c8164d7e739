/**
 * The sources of `metamesh serve` (files, the Kubernetes API) behind one ConfigStore. Effects:
 * starts the Kubernetes informers and waits for their first lists.
 */
import type { Logger } from 'pino';
import type { InputLimits } from '../input/limits.js';
import { FileSource } from '../store/directory.js';
import { ConfigStore, type DocumentSource, type Timers } from '../store/store.js';
import type { KubeClient } from '../store/kubernetes/client.js';
import type { ObjectName } from '../store/kubernetes/kinds.js';
import type { Backoff } from '../store/kubernetes/backoff.js';
import { KubernetesSource } from '../store/kubernetes/source.js';

export interface KubernetesServeOptions {
  readonly client: KubeClient;
  /** Istio's mesh config ConfigMap to mirror options from; undefined: none. */
  readonly meshConfig?: ObjectName | undefined;
  /** How long serve waits for the first lists before serving what it has (default 30 s). */
  readonly syncTimeoutMs?: number | undefined;
  readonly backoff?: Backoff | undefined;
  /** Objects the source leaves out (metamesh's own output, with the apply sink). */
  readonly exclude?: ((o: Record<string, unknown>, apiVersion: string, kind: string) => boolean) | undefined;
}

export const DEFAULT_KUBE_SYNC_TIMEOUT_MS = 30_000;

export interface SourcesOptions {
  readonly files: readonly string[];
  readonly kubernetes?: KubernetesServeOptions | undefined;
  readonly watch?: 'auto' | 'poll' | 'none';
  readonly debounceMs?: number;
  readonly pollIntervalMs?: number;
  readonly rescanIntervalMs?: number | undefined;
  readonly limits?: InputLimits | undefined;
  readonly timers?: Timers;
}

/**
 * The store over the `-f` paths and the Kubernetes API. The informers start here and every kind is
 * given up to the sync timeout to be listed, so that the first routes served are complete: a
 * replica that served before its lists were in would withdraw every MetaRouter until they were.
 * Not in time, it serves what it has; /readyz says it is not ready until the rest is listed.
 */
export async function openSources(opts: SourcesOptions, log: Logger): Promise<{ store: ConfigStore; kube: KubernetesSource | undefined }> {
  const k = opts.kubernetes;
  const kube = k ? new KubernetesSource({ client: k.client, logger: log, meshConfig: k.meshConfig, limits: opts.limits, timers: opts.timers, backoff: k.backoff, exclude: k.exclude }) : undefined;
  if (kube) {
    kube.run();
    const timeout = k!.syncTimeoutMs ?? DEFAULT_KUBE_SYNC_TIMEOUT_MS;
    if (await kube.whenSynced(timeout)) log.info({ event: 'kube-synced' }, 'every kind has been listed from the Kubernetes API');
    else {
      const missing = kube.status().filter((s) => !s.synced);
      log.warn({ event: 'kube-sync-timeout', sources: missing.map((s) => s.source) }, `not every kind could be listed within ${timeout} ms; serving what was read (not ready until the rest is)`);
    }
  }
  const sources: DocumentSource[] = [];
  if (opts.files.length > 0) {
    const { files: paths, watch, pollIntervalMs, rescanIntervalMs, limits, timers } = opts;
    sources.push(new FileSource({ paths, logger: log, watch, pollIntervalMs, rescanIntervalMs, limits, timers }));
  }
  if (kube) sources.push(kube);
  return { store: new ConfigStore({ sources, logger: log, debounceMs: opts.debounceMs, timers: opts.timers }), kube };
}

/**
 * serve() was given no path, or a path that does not exist. It refuses to start rather than
 * report ready while serving nothing; the CLI turns this into exit 2.
 */
export class MissingSourceError extends Error {
  constructor(readonly paths: readonly string[]) {
    super(paths.length === 0 ? 'no manifest path given; name a file or directory to serve' : `${paths.join(', ')}: no such file or directory`);
    this.name = 'MissingSourceError';
  }
}
