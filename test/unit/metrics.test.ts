/**
 * The metrics module (src/metrics/) on its own: the pure sample functions, the xDS callbacks fed a
 * scripted event sequence with a manual clock (exact counts and latencies), the recorders, and the
 * catalogue in docs/metrics.md kept in sync with what is registered.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { diag } from '../../src/model/diagnostics.js';
import { ISTIOD_TYPE_URLS } from '../../src/mcp/types.js';
import { McpStore } from '../../src/mcp/store.js';
import { mcpObjects } from '../../src/mcp/objects.js';
import { catalogSizes, decisionSamples, diagnosticSamples, lastSyncSamples, registryStateSamples, typeLabel } from '../../src/metrics/labels.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { kindLabel, operationOfAction, recordBuild, recordSinkError, recordSinkWrites, registryMetrics } from '../../src/metrics/recorders.js';
import { metricsCallbacks } from '../../src/metrics/xds.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { parseExposition } from '../support/prom.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scrape = async (m: ReturnType<typeof createMetrics>) => parseExposition((await m.render()).text);

test('type labels: served type URLs as they are, other Istio config type URLs mcp-other, anything else other', () => {
  assert.equal(typeLabel(RDS), RDS);
  for (const t of ISTIOD_TYPE_URLS) assert.equal(typeLabel(t), t);
  assert.equal(typeLabel('networking.istio.io/v9/Unheardof'), 'mcp-other');
  assert.equal(typeLabel('type.googleapis.com/envoy.config.cluster.v3.Cluster'), 'other');
  assert.equal(typeLabel(`junk-${'x'.repeat(1000)}`), 'other', 'a client-chosen string never becomes a label');
});

test('registry samples: one per state (1 for the current one), the last complete read in seconds, catalog sizes, decisions per kind', () => {
  const statuses = [
    { registry: 'zookeeper://a:2181', state: 'synced' as const, lastSyncMs: 1_700_000_000_500 },
    { registry: 'nacos://b:8848', state: 'failing' as const, error: 'refused' },
  ];
  const states = registryStateSamples(statuses);
  assert.equal(states.length, 10);
  assert.deepEqual(states.filter((s) => s.value === 1).map((s) => s.labels), [{ registry: 'zookeeper://a:2181', state: 'synced' }, { registry: 'nacos://b:8848', state: 'failing' }]);
  assert.deepEqual(lastSyncSamples(statuses), [{ labels: { registry: 'zookeeper://a:2181' }, value: 1_700_000_000.5 }]);
  const instance = { address: '10.0.0.1', port: 20880, labels: {}, weight: 100, healthy: true, enabled: true };
  const service = (key: string, n: number) => ({ key, protocol: 'dubbo', host: key, instances: Array.from({ length: n }, (_, i) => ({ ...instance, port: 20880 + i })) });
  const sizes = catalogSizes({ registries: [{ registry: 'zookeeper://a:2181', state: 'synced', services: [service('a', 2), service('b', 3)] }] });
  assert.deepEqual(sizes, { services: [{ labels: { registry: 'zookeeper://a:2181' }, value: 2 }], instances: [{ labels: { registry: 'zookeeper://a:2181' }, value: 5 }] });
  const decisions = decisionSamples(['r1'], [
    { kind: 'removal-pending', registry: 'r1', service: 's1' },
    { kind: 'removal-pending', registry: 'r1', service: 's2' },
    { kind: 'protection-held', registry: 'r1' },
    { kind: 'removed', registry: 'unconfigured' },
  ]);
  assert.equal(decisions.length, 6, 'every kind of every configured registry, zeros included; nothing for others');
  assert.equal(decisions.find((d) => d.labels.decision === 'removal-pending')!.value, 2);
  assert.equal(decisions.find((d) => d.labels.decision === 'protection-held')!.value, 1);
  assert.equal(decisions.find((d) => d.labels.decision === 'removed')!.value, 0);
});

test('diagnostic samples: counted per code with its severity, sorted by code', () => {
  const samples = diagnosticSamples([
    diag('MM_SERVICE_VIP_ALLOCATED', 'ServiceEntry a/b', 'x'),
    diag('MM_INPUT_YAML_SYNTAX', 'file a', 'y'),
    diag('MM_SERVICE_VIP_ALLOCATED', 'ServiceEntry a/c', 'z'),
  ]);
  assert.deepEqual(samples, [
    { labels: { code: 'MM_INPUT_YAML_SYNTAX', severity: 'error' }, value: 1 },
    { labels: { code: 'MM_SERVICE_VIP_ALLOCATED', severity: 'info' }, value: 2 },
  ]);
});

test('xDS callbacks: streams by type and mode go up and down, pushes, ACKs, NACKs and push-to-ACK latency are counted exactly', async () => {
  const m = createMetrics({ processMetrics: false });
  let clock = 1000;
  const cb = metricsCallbacks(m, () => clock);
  const base = { nodeId: 'n', peer: '127.0.0.1:1' };
  // Stream 1: ADS SotW with RDS and an MCP type; stream 2: delta RDS; stream 3 closes before any request.
  cb.streamOpened!({ ...base, stream: 1, service: 'ads', mode: 'sotw' });
  cb.request!({ ...base, stream: 1, typeUrl: RDS, responseNonce: '', names: ['a'], unsubscribed: [] });
  cb.request!({ ...base, stream: 1, typeUrl: RDS, responseNonce: '', names: ['a', 'b'], unsubscribed: [] });
  cb.request!({ ...base, stream: 1, typeUrl: ISTIOD_TYPE_URLS[5]!, responseNonce: '', names: [], unsubscribed: [] });
  cb.streamOpened!({ ...base, stream: 2, service: 'rds', mode: 'delta' });
  cb.request!({ ...base, stream: 2, typeUrl: RDS, responseNonce: '', names: ['a'], unsubscribed: [] });
  let s = await scrape(m);
  assert.equal(s.value('metamesh_xds_connected_streams', { service: 'ads', mode: 'sotw' }), 1);
  assert.equal(s.value('metamesh_xds_connected_streams', { service: 'rds', mode: 'delta' }), 1);
  assert.equal(s.value('metamesh_xds_streams', { type: RDS, mode: 'sotw' }), 1, 'two requests of one type on one stream count once');
  assert.equal(s.value('metamesh_xds_streams', { type: ISTIOD_TYPE_URLS[5]!, mode: 'sotw' }), 1);
  assert.equal(s.value('metamesh_xds_streams', { type: RDS, mode: 'delta' }), 1);

  // Stream 1: response n1 ACKed 40 ms later; n2 NACKed; n3 superseded by n4, whose ACK comes 2.5 s later;
  // a late ACK of n3 (stale) is counted as an ACK but not timed.
  const sent = (stream: number, nonce: string) => cb.responseSent!({ ...base, stream, typeUrl: RDS, nonce, version: 'v', names: ['a'], removed: [] });
  sent(1, 'n1');
  clock += 40;
  cb.ack!({ ...base, stream: 1, typeUrl: RDS, nonce: 'n1', version: 'v', names: ['a'] });
  sent(1, 'n2');
  clock += 5;
  cb.nack!({ ...base, stream: 1, typeUrl: RDS, nonce: 'n2', version: 'v', rejected: ['a'], code: 3, message: 'bad' });
  sent(1, 'n3');
  sent(1, 'n4');
  clock += 2500;
  cb.ack!({ ...base, stream: 1, typeUrl: RDS, nonce: 'n4', version: 'v', names: ['a'] });
  cb.ack!({ ...base, stream: 1, typeUrl: RDS, nonce: 'n3', version: 'v', names: ['a'] });
  cb.requestRejected!({ stream: 2, nodeId: 'n', peer: base.peer, typeUrl: 'x', code: 3, message: 'no' });
  cb.refused!({ peer: base.peer, what: 'connection', message: 'too many' });
  cb.fetched!({ nodeId: 'n', peer: base.peer, names: ['a'] });
  s = await scrape(m);
  assert.equal(s.value('metamesh_xds_pushes_total', { type: RDS }), 4);
  assert.equal(s.value('metamesh_xds_acks_total', { type: RDS }), 3);
  assert.equal(s.value('metamesh_xds_nacks_total', { type: RDS }), 1);
  assert.equal(s.value('metamesh_xds_push_ack_seconds_count', { type: RDS }), 2);
  assert.ok(Math.abs(s.value('metamesh_xds_push_ack_seconds_sum', { type: RDS })! - 2.54) < 1e-9);
  assert.equal(s.value('metamesh_xds_push_ack_seconds_bucket', { type: RDS, le: '0.025' }), 0);
  assert.equal(s.value('metamesh_xds_push_ack_seconds_bucket', { type: RDS, le: '0.05' }), 1);
  assert.equal(s.value('metamesh_xds_push_ack_seconds_bucket', { type: RDS, le: '2.5' }), 2);
  assert.equal(s.value('metamesh_xds_rejected_requests_total'), 1);
  assert.equal(s.value('metamesh_xds_refused_total', { what: 'connection' }), 1);
  assert.equal(s.value('metamesh_xds_fetches_total'), 1);

  cb.streamClosed!({ ...base, stream: 1, reason: 'cancelled' });
  cb.streamClosed!({ ...base, stream: 2, reason: 'cancelled' });
  cb.streamClosed!({ ...base, stream: 3, reason: 'cancelled' });
  cb.streamClosed!({ ...base, stream: 1, reason: 'twice' });
  s = await scrape(m);
  for (const x of s.all('metamesh_xds_streams')) assert.equal(x.value, 0, JSON.stringify(x));
  for (const x of s.all('metamesh_xds_connected_streams')) assert.equal(x.value, 0, JSON.stringify(x));
});

test('recorders: registry events and sync lag per registry, builds per trigger, sink writes and errors with bounded kinds', async () => {
  const m = createMetrics({ processMetrics: false });
  const hub = registryMetrics(m);
  hub.event!('zk', 'snapshot');
  hub.event!('zk', 'status');
  hub.event!('zk', 'snapshot');
  hub.applied!(new Map([['zk', 300]]));
  hub.failed!();
  recordBuild(m, 'files', 12);
  recordSinkWrites(m, 'kubernetes', [
    { kind: 'ServiceEntry', operation: operationOfAction('create'), count: 2 },
    { kind: 'EnvoyFilter', operation: operationOfAction('amend'), count: 1 },
    { kind: 'Whatever', operation: operationOfAction('release'), count: 1 },
    { kind: 'ServiceEntry', operation: 'delete', count: 0 },
  ]);
  recordSinkError(m, 'kubernetes', 'EnvoyFilter');
  const s = await scrape(m);
  assert.equal(s.value('metamesh_registry_events_total', { registry: 'zk', kind: 'snapshot' }), 2);
  assert.equal(s.value('metamesh_registry_events_total', { registry: 'zk', kind: 'status' }), 1);
  assert.equal(s.value('metamesh_registry_sync_lag_seconds_sum', { registry: 'zk' }), 0.3);
  assert.equal(s.value('metamesh_registry_apply_failures_total'), 1);
  assert.equal(s.value('metamesh_pipeline_build_seconds_count', { trigger: 'files' }), 1);
  assert.equal(s.value('metamesh_sink_objects_written_total', { sink: 'kubernetes', kind: 'ServiceEntry', operation: 'create' }), 2);
  assert.equal(s.value('metamesh_sink_objects_written_total', { sink: 'kubernetes', kind: 'EnvoyFilter', operation: 'update' }), 1);
  assert.equal(s.value('metamesh_sink_objects_written_total', { sink: 'kubernetes', kind: 'other', operation: 'delete' }), 1);
  assert.equal(s.value('metamesh_sink_objects_written_total', { sink: 'kubernetes', kind: 'ServiceEntry', operation: 'delete' }), undefined, 'a zero count adds no series');
  assert.equal(s.value('metamesh_sink_write_errors_total', { sink: 'kubernetes', kind: 'EnvoyFilter' }), 1);
  assert.equal(kindLabel('x'.repeat(300)), 'other');
  assert.deepEqual(['create', 'update', 'adopt', 'amend', 'release', 'delete'].map((a) => operationOfAction(a as 'create')), ['create', 'update', 'update', 'update', 'delete', 'delete']);
});

test('the MCP store counts the objects each update creates, updates and deletes per collection', () => {
  const se = (name: string, address: string) => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: 'ns' }, spec: { hosts: [`${name}.example.com`], endpoints: [{ address }] } });
  const objects = (...list: ReturnType<typeof se>[]) => mcpObjects({ serviceEntries: list, envoyFilters: [], virtualServices: [] }, { domain: 'cluster.local' }).objects;
  const store = new McpStore({ ready: true });
  assert.deepEqual(store.update(objects(se('a', '10.0.0.1'), se('b', '10.0.0.2'))).writes, [{ collection: 'networking.istio.io/ServiceEntry', created: 2, updated: 0, deleted: 0 }]);
  assert.deepEqual(store.update(objects(se('a', '10.0.0.9'), se('c', '10.0.0.3'))).writes, [{ collection: 'networking.istio.io/ServiceEntry', created: 1, updated: 1, deleted: 1 }]);
  assert.deepEqual(store.update(objects(se('a', '10.0.0.9'), se('c', '10.0.0.3'))).writes, [], 'nothing changed, nothing written');
});

test('scrape-time metrics read their sources at each scrape; without a source a metric has no samples', async () => {
  let ready = false;
  let statuses = [{ registry: 'r', state: 'connecting' as const }];
  const m = createMetrics({ processMetrics: false, sources: { ready: () => ready, registryStatuses: () => statuses, diagnostics: () => [diag('MM_SERVE_NOT_READY', 'Registry r', 'x')] } });
  let s = await scrape(m);
  assert.equal(s.value('metamesh_ready'), 0);
  assert.equal(s.value('metamesh_registry_state', { registry: 'r', state: 'connecting' }), 1);
  assert.equal(s.value('metamesh_diagnostics', { code: 'MM_SERVE_NOT_READY' }), 1);
  assert.deepEqual(s.all('metamesh_catalog_services'), []);
  ready = true;
  statuses = [{ registry: 'r', state: 'synced', lastSyncMs: 5000 } as never];
  s = await scrape(m);
  assert.equal(s.value('metamesh_ready'), 1);
  assert.equal(s.value('metamesh_registry_state', { registry: 'r', state: 'connecting' }), 0);
  assert.equal(s.value('metamesh_registry_state', { registry: 'r', state: 'synced' }), 1);
  assert.equal(s.value('metamesh_registry_last_sync_timestamp_seconds', { registry: 'r' }), 5);
});

test('process metrics are on by default and can be left out; each registry of metrics is separate', async () => {
  const withProcess = await scrape(createMetrics());
  assert.ok(withProcess.value('process_cpu_user_seconds_total') !== undefined);
  const without = createMetrics({ processMetrics: false });
  recordBuild(without, 'start', 1);
  const s = await scrape(without);
  assert.equal(s.value('process_cpu_user_seconds_total'), undefined);
  assert.equal(s.value('metamesh_pipeline_build_seconds_count', { trigger: 'start' }), 1);
  assert.equal((await scrape(createMetrics({ processMetrics: false }))).value('metamesh_pipeline_build_seconds_count', { trigger: 'start' }), undefined, 'a new Metrics starts from zero');
});

test('docs/metrics.md lists every metamesh_ metric with its type, and nothing else', async () => {
  const s = await scrape(createMetrics({ processMetrics: false }));
  const registered = [...s.type].filter(([n]) => n.startsWith('metamesh_')).map(([n, t]) => `${n} ${t}`).sort();
  const doc = readFileSync(path.join(root, 'docs/metrics.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(metamesh_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map((x) => `${x[1]} ${x[2]}`).sort();
  assert.deepEqual(documented, registered);
  for (const [name] of [...s.type].filter(([n]) => n.startsWith('metamesh_'))) assert.ok((s.help.get(name) ?? '').length > 20, `${name} has help text`);
});

test('the MCP sink counts what it writes per kind and operation, and an object it cannot encode once as a write error', async () => {
  const { McpSink } = await import('../../src/runtime/mcp.js');
  const { DEFAULT_OPTIONS } = await import('../../src/model/options.js');
  const pino = (await import('pino')).default;
  const m = createMetrics({ processMetrics: false });
  const sink = new McpSink({ logger: pino({ level: 'silent' }), metrics: m });
  const se = (name: string, spec: object) => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: 'ns' }, spec });
  // A fake engine: McpSink reads only output() and serviceEntryCreated() of the real one (plain data).
  let serviceEntries = [se('a', { hosts: ['a.example.com'] }), se('bad', { hosts: ['b.example.com'], wieght: 1 })];
  const engine = { output: () => ({ serviceEntries, envoyFilters: [], virtualServices: [], routes: [], diagnostics: [] }), serviceEntryCreated: () => undefined } as never;
  sink.sync(engine, DEFAULT_OPTIONS);
  sink.sync(engine, DEFAULT_OPTIONS);
  serviceEntries = [se('a', { hosts: ['a.example.com', 'a2.example.com'] }), se('bad', { hosts: ['b.example.com'], wieght: 1 }), se('c', { hosts: ['c.example.com'] })];
  sink.sync(engine, DEFAULT_OPTIONS);
  serviceEntries = [se('c', { hosts: ['c.example.com'] })];
  sink.sync(engine, DEFAULT_OPTIONS);
  const s = await scrape(m);
  const w = (operation: string) => s.value('metamesh_sink_objects_written_total', { sink: 'mcp', kind: 'ServiceEntry', operation });
  assert.deepEqual([w('create'), w('update'), w('delete')], [2, 1, 1], 'a, then c created; a updated; a deleted (bad was never written)');
  assert.equal(s.value('metamesh_sink_write_errors_total', { sink: 'mcp', kind: 'ServiceEntry' }), 1, 'the same failure is counted once, not at every sync');
});
