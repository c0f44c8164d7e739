/**
 * `/metrics` of a running `metamesh serve` (files, a file:// registry and the MCP sink), scraped
 * while real gRPC clients subscribe, ACK and NACK: an RDS state-of-the-world stream, a delta
 * stream and an istiod-like MCP client. Values are read from the exposition text and compared with
 * what the clients did and what the server holds; nothing is timed.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseRegistry } from '../../src/registry/config.js';
import { ISTIOD_TYPE_URLS, SERVED_KINDS } from '../../src/mcp/types.js';
import type { DeltaDiscoveryResponseWire, DiscoveryResponseWire } from '../../src/xds/services.js';
import { connectIstiod } from '../support/mcp.js';
import { scrape, type Exposition } from '../support/prom.js';
import { client, DUBBO, editFile, examplesCopy, NODE, RDS, removeTemps, services, sotwReq, start, tempDir, until } from '../support/xds.js';

after(removeTemps);

const SNAPSHOT = `services:
  - key: dubbo:demo.MetricsService
    protocol: dubbo
    host: demo.metricsservice
    interface: demo.MetricsService
    instances:
      - {address: 10.1.0.1, port: 20880}
      - {address: 10.1.0.2, port: 20880}
`;

/** Scrapes until `cond` holds (each scrape is a fresh read), then returns that scrape. */
async function scrapeUntil(port: number, cond: (s: Exposition) => boolean, what: string): Promise<Awaited<ReturnType<typeof scrape>>> {
  let last: Awaited<ReturnType<typeof scrape>> | undefined;
  await until(async () => cond((last = await scrape(port))), what, 20_000);
  return last!;
}

test('/metrics follows registries, builds, xDS streams (subscribe, ACK, NACK, close) and the MCP sink', async () => {
  const dir = examplesCopy();
  const registryFile = path.join(tempDir('metamesh-metrics-'), 'registry.yaml');
  writeFileSync(registryFile, SNAPSHOT);
  const registry = parseRegistry(`file://${registryFile}`);
  assert.ok(!('error' in registry));
  const srv = await start(dir, { registries: [registry], mcp: {} });
  const rds = client(services.RdsClient, srv.xdsPort);
  const istiod = connectIstiod(srv.xdsPort);
  try {
    // Ready once the registry's services were applied; its state, catalog sizes and the builds show.
    let s = await scrapeUntil(srv.httpPort, (x) => x.value('metamesh_ready') === 1, 'ready');
    assert.equal(s.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const reg = registry.name;
    assert.equal(s.value('metamesh_registry_state', { registry: reg, state: 'synced' }), 1);
    assert.equal(s.value('metamesh_registry_state', { registry: reg, state: 'failing' }), 0);
    assert.ok(s.value('metamesh_registry_last_sync_timestamp_seconds', { registry: reg })! > 1.7e9);
    assert.equal(s.value('metamesh_catalog_services', { registry: reg }), 1);
    assert.equal(s.value('metamesh_catalog_instances', { registry: reg }), 2);
    assert.equal(s.value('metamesh_registry_outage_decisions', { registry: reg, decision: 'registry-unavailable' }), 0);
    assert.equal(s.value('metamesh_pipeline_build_seconds_count', { trigger: 'start' }), 1);
    assert.ok(s.value('metamesh_pipeline_build_seconds_count', { trigger: 'registries' })! >= 1, 'the registry sync was a build');
    assert.ok(s.value('process_resident_memory_bytes')! > 0, 'process metrics come along');
    // Diagnostics by code match the server's own list.
    const codes = new Map<string, number>();
    for (const d of [...srv.engine.output().diagnostics, ...srv.mcp!.currentDiagnostics()]) codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
    assert.ok(codes.size > 0);
    assert.deepEqual(new Map(s.all('metamesh_diagnostics').map((x) => [x.labels.code!, x.value])), codes);

    // istiod: 16 first answers, each ACKed.
    await istiod.receive(ISTIOD_TYPE_URLS.length);
    const seType = SERVED_KINDS.find((k) => k.kind === 'ServiceEntry')!;
    s = await scrapeUntil(srv.httpPort, (x) => x.value('metamesh_xds_acks_total', { type: seType.typeUrl }) === 1, 'istiod ACKs');
    assert.equal(s.value('metamesh_xds_connected_streams', { service: 'ads', mode: 'sotw' }), 1);
    for (const t of ISTIOD_TYPE_URLS) assert.equal(s.value('metamesh_xds_streams', { type: t, mode: 'sotw' }), 1, t);
    assert.equal(s.value('metamesh_xds_push_ack_seconds_count', { type: seType.typeUrl }), 1);
    // What the MCP sink wrote adds up to what it serves: created minus deleted, per kind.
    for (const k of SERVED_KINDS) {
      const w = (operation: string) => s.value('metamesh_sink_objects_written_total', { sink: 'mcp', kind: k.kind, operation }) ?? 0;
      assert.equal(w('create') - w('delete'), srv.mcp!.store.set(k.collection).resources.length, k.kind);
    }
    assert.ok((s.value('metamesh_sink_objects_written_total', { sink: 'mcp', kind: 'ServiceEntry', operation: 'create' }) ?? 0) >= 2, 'the example ServiceEntries and the registry one');
    assert.equal(s.all('metamesh_sink_write_errors_total').length, 0);

    // RDS, state of the world: subscribe and ACK.
    const sotw = rds.open<DiscoveryResponseWire>('StreamRoutes');
    sotw.send(sotwReq([DUBBO]));
    const r1 = await sotw.next();
    sotw.send(sotwReq([DUBBO], { version_info: r1.version_info, response_nonce: r1.nonce }));
    s = await scrapeUntil(srv.httpPort, (x) => x.value('metamesh_xds_acks_total', { type: RDS }) === 1, 'the RDS ACK');
    assert.equal(s.value('metamesh_xds_connected_streams', { service: 'rds', mode: 'sotw' }), 1);
    assert.equal(s.value('metamesh_xds_streams', { type: RDS, mode: 'sotw' }), 1);
    assert.equal(s.value('metamesh_xds_pushes_total', { type: RDS }), 1);
    assert.equal(s.value('metamesh_xds_push_ack_seconds_count', { type: RDS }), 1);
    assert.equal(s.value('metamesh_xds_nacks_total', { type: RDS }), undefined);
    const fileBuilds = s.value('metamesh_pipeline_build_seconds_count', { trigger: 'files' }) ?? 0;

    // A file edit is a build and a push; the client NACKs it: one NACK, no new latency sample.
    editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-2}');
    const r2 = await sotw.next();
    sotw.send(sotwReq([DUBBO], { version_info: r1.version_info, response_nonce: r2.nonce, error_detail: { code: 3, message: 'rejected by the metrics test' } }));
    s = await scrapeUntil(srv.httpPort, (x) => x.value('metamesh_xds_nacks_total', { type: RDS }) === 1, 'the NACK');
    assert.equal(s.value('metamesh_xds_pushes_total', { type: RDS }), 2);
    assert.equal(s.value('metamesh_xds_acks_total', { type: RDS }), 1);
    assert.equal(s.value('metamesh_xds_push_ack_seconds_count', { type: RDS }), 1, 'a NACK is not an ACK latency');
    assert.ok(s.value('metamesh_pipeline_build_seconds_count', { trigger: 'files' })! > fileBuilds, 'the edit was a build');

    // RDS, delta: one more stream of the same type, in the other mode.
    const delta = rds.open<DeltaDiscoveryResponseWire>('DeltaRoutes');
    delta.send({ node: NODE, type_url: RDS, resource_names_subscribe: [DUBBO] });
    const d1 = await delta.next();
    delta.send({ node: NODE, type_url: RDS, response_nonce: d1.nonce });
    s = await scrapeUntil(srv.httpPort, (x) => x.value('metamesh_xds_acks_total', { type: RDS }) === 2, 'the delta ACK');
    assert.equal(s.value('metamesh_xds_connected_streams', { service: 'rds', mode: 'delta' }), 1);
    assert.equal(s.value('metamesh_xds_streams', { type: RDS, mode: 'delta' }), 1);
    assert.equal(s.value('metamesh_xds_streams', { type: RDS, mode: 'sotw' }), 1);
    assert.equal(s.value('metamesh_xds_push_ack_seconds_count', { type: RDS }), 2);

    // Every stream closed: the gauges go back to zero; the counters stay.
    sotw.close();
    delta.close();
    istiod.close();
    s = await scrapeUntil(srv.httpPort, (x) => x.all('metamesh_xds_connected_streams').every((v) => v.value === 0), 'the streams to close');
    for (const v of s.all('metamesh_xds_streams')) assert.equal(v.value, 0, JSON.stringify(v.labels));
    assert.equal(s.value('metamesh_xds_nacks_total', { type: RDS }), 1);
  } finally {
    istiod.close();
    rds.client.close();
    await srv.close();
  }
});
