/**
 * metamesh's Prometheus metrics (prom-client), served at `/metrics` by `metamesh serve`
 * (docs/metrics.md lists them). One `Metrics` per server, in its own prom-client Registry: no
 * module-level singleton, so tests and several servers in one process never share counts.
 *
 * Two ways values get in:
 * - events: counters, histograms and the xDS stream gauges are moved by recorder functions called
 *   where the event happens (xds.ts: the xDS stream callbacks; recorders.ts: registry hub, builds,
 *   sinks);
 * - state read at scrape time: registry states, catalog sizes, outage-policy decisions, current
 *   diagnostics and readiness already live elsewhere, so each scrape reads them through `sources`
 *   (pure functions in labels.ts turn them into samples) rather than keeping a second copy.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CatalogState, Decision } from '../catalog/model.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistryStatus } from '../model/registry.js';
import { catalogSizes, decisionSamples, diagnosticSamples, lastSyncSamples, registryStateSamples, type Sample } from './labels.js';

/** Where the scrape-time metrics read from; each one is optional (its metric then has no samples). */
export interface MetricsSources {
  readonly registryStatuses?: () => readonly RegistryStatus[];
  readonly catalog?: () => CatalogState;
  readonly decisions?: () => readonly Decision[];
  readonly diagnostics?: () => readonly Diagnostic[];
  readonly ready?: () => boolean;
}

export interface MetricsOptions {
  readonly sources?: MetricsSources;
  /** Node.js process metrics (CPU, memory, event loop lag, GC; prom-client's defaults). Default true. */
  readonly processMetrics?: boolean;
}

const SECONDS_FAST = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_ACK = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SECONDS_LAG = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  const registers = [registry];
  const src = options.sources ?? {};
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  /** A gauge whose samples are computed at scrape time. */
  const computed = <L extends string>(name: string, help: string, labelNames: readonly L[], samples: () => readonly Sample<L>[] | undefined) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const s of samples() ?? []) this.set(s.labels as Partial<Record<L, string>>, s.value);
      },
    });

  /**
   * A counter with one label, counted in a plain map and handed to prom-client at scrape time: for
   * the per-response counters of the xDS fan-out, where prom-client's own inc() (label validation
   * and hashing at each call) would cost more than the rest of the bookkeeping together.
   */
  const tally = <L extends string>(name: string, help: string, label: L) => {
    const totals = new Map<string, number>();
    new Counter<L>({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, n] of totals) this.inc({ [label]: value } as Partial<Record<L, string>>, n);
      },
    });
    return { inc: (value: string): void => void totals.set(value, (totals.get(value) ?? 0) + 1) };
  };

  const metrics = {
    registry,
    registries: {
      state: computed('metamesh_registry_state', 'Connection state of each configured registry: 1 for the state it is in, 0 for the others.', ['registry', 'state'], () => src.registryStatuses && registryStateSamples(src.registryStatuses())),
      lastSync: computed('metamesh_registry_last_sync_timestamp_seconds', 'When each registry was last read completely (seconds since the epoch); absent until the first complete read.', ['registry'], () => src.registryStatuses && lastSyncSamples(src.registryStatuses())),
      events: new Counter({ name: 'metamesh_registry_events_total', help: 'Changes reported by the registry watchers, by kind: snapshot (the services changed) or status (the connection state changed).', labelNames: ['registry', 'kind'], registers }),
      syncLag: new Histogram({ name: 'metamesh_registry_sync_lag_seconds', help: "Time from a registry watcher's first unapplied change to the sync that applied it (debounce included).", labelNames: ['registry'], buckets: SECONDS_LAG, registers }),
      applyFailures: new Counter({ name: 'metamesh_registry_apply_failures_total', help: 'Registry syncs whose changes could not be applied (the previous routes stay served; the sync is retried).', registers }),
      decisions: computed('metamesh_registry_outage_decisions', "The outage policy's current decisions per registry and kind (docs/operations.md, the registries' outage policy).", ['registry', 'decision'], () =>
        src.registryStatuses && src.decisions && decisionSamples(src.registryStatuses().map((s) => s.registry), src.decisions()),
      ),
      services: computed('metamesh_catalog_services', 'Services of each registry in the catalog (those the outage policy holds back included).', ['registry'], () => src.catalog && catalogSizes(src.catalog()).services),
      instances: computed('metamesh_catalog_instances', 'Instances of each registry in the catalog (those the outage policy holds back included).', ['registry'], () => src.catalog && catalogSizes(src.catalog()).instances),
    },
    pipeline: {
      build: new Histogram({ name: 'metamesh_pipeline_build_seconds', help: 'Time to rebuild and publish the output after a change (engine flush, RDS cache update, MCP sync), by what triggered it: start, files or registries.', labelNames: ['trigger'], buckets: SECONDS_FAST, registers }),
    },
    sinks: {
      written: new Counter({ name: 'metamesh_sink_objects_written_total', help: 'Generated objects written by each sink (mcp: served to istiod; kubernetes: applied), by kind and operation (create, update, delete).', labelNames: ['sink', 'kind', 'operation'], registers }),
      errors: new Counter({ name: 'metamesh_sink_write_errors_total', help: 'Generated objects a sink could not write (each failure counted once when it appears).', labelNames: ['sink', 'kind'], registers }),
    },
    xds: {
      connected: new Gauge({ name: 'metamesh_xds_connected_streams', help: 'Open xDS streams (those that sent a first request), by gRPC service (rds, ads) and mode (sotw, delta).', labelNames: ['service', 'mode'], registers }),
      streams: new Gauge({ name: 'metamesh_xds_streams', help: 'Open xDS streams by type URL they requested (an ADS stream counts once under each of its types) and mode.', labelNames: ['type', 'mode'], registers }),
      pushes: tally('metamesh_xds_pushes_total', 'xDS responses sent (first answers and pushes after a change), by type URL.', 'type'),
      acks: tally('metamesh_xds_acks_total', 'xDS responses ACKed, by type URL.', 'type'),
      nacks: tally('metamesh_xds_nacks_total', 'xDS responses NACKed (rejected by the client), by type URL.', 'type'),
      ackLatency: new Histogram({ name: 'metamesh_xds_push_ack_seconds', help: 'Time from sending an xDS response to its ACK, by type URL.', labelNames: ['type'], buckets: SECONDS_ACK, registers }),
      rejected: new Counter({ name: 'metamesh_xds_rejected_requests_total', help: 'xDS requests rejected with a gRPC error (an unserved type URL, a name limit); each ends its stream.', registers }),
      refused: new Counter({ name: 'metamesh_xds_refused_total', help: 'xDS connections or streams refused by a limit, by what was refused (connection, stream).', labelNames: ['what'], registers }),
      fetches: new Counter({ name: 'metamesh_xds_fetches_total', help: 'Unary FetchRoutes calls answered.', registers }),
    },
    diagnostics: computed('metamesh_diagnostics', 'Current diagnostics by code (docs/errors.md) and severity; codes with none are absent.', ['code', 'severity'], () => src.diagnostics && diagnosticSamples(src.diagnostics())),
    ready: computed('metamesh_ready', '1 when /readyz answers 200 (every registry and Kubernetes kind read and applied once), 0 otherwise.', [], () => src.ready && [{ labels: {}, value: src.ready() ? 1 : 0 }]),
    /** The exposition text, and its content type. */
    render: async (): Promise<{ text: string; contentType: string }> => ({ text: await registry.metrics(), contentType: registry.contentType }),
  };
  return metrics;
}
