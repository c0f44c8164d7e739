/**
 * The xDS limits against a real server on 127.0.0.1: too many names on a stream, too many streams
 * on a connection, too many connections, an over-long name, and a huge node id in the log. Each
 * offender ends with the status (or refusal) that names the limit, and a healthy stream opened
 * before it keeps receiving updates. Waits are deadlines on events, never fixed sleeps.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryResponseWire, DiscoveryResponseWire } from '../../src/xds/services.js';
import { DUBBO, NODE, RDS, client, editFile, examplesCopy, removeTemps, services, sotwReq, start, until, type Stream } from '../support/xds.js';

after(removeTemps);

type Srv = Awaited<ReturnType<typeof start>>;

/** A stream subscribed to DUBBO that has ACKed its first response. */
async function healthyStream(port: number): Promise<{ stream: Stream<DiscoveryResponseWire>; close(): void }> {
  const c = client(services.RdsClient, port, undefined, { 'grpc.use_local_subchannel_pool': 1 });
  const stream = c.open<DiscoveryResponseWire>('StreamRoutes');
  stream.send(sotwReq([DUBBO]));
  const r = await stream.next();
  stream.send(sotwReq([DUBBO], { version_info: r.version_info, response_nonce: r.nonce }));
  return { stream, close: () => c.client.close() };
}

/** Edits the Dubbo routes and checks that `stream` receives the new version. */
async function stillServed(srv: Srv, dir: string, stream: Stream<DiscoveryResponseWire>, marker: string): Promise<void> {
  editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', `value: ${marker}}`);
  const r = await stream.next();
  assert.equal(r.resources.length, 1);
  assert.equal(r.version_info !== '', true);
  await until(() => srv.cache.get(DUBBO) !== undefined, 'the cache');
}

describe('xDS limits', () => {
  test('a stream that subscribes to more names than the limit ends with RESOURCE_EXHAUSTED; SotW, delta and FetchRoutes alike', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { xdsLimits: { maxNamesPerStream: 10 } });
    const healthy = await healthyStream(srv.xdsPort);
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const names = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}-${i}`);
      const sotw = c.open<DiscoveryResponseWire>('StreamRoutes');
      sotw.send(sotwReq([DUBBO, ...names(10, 'sotw')]));
      const e1 = await sotw.failure(5000);
      assert.equal(e1.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(e1.details, 'the request would subscribe this stream to 11 resource names: over the limit of 10 (--xds-max-names-per-stream)');

      // Delta adds up across requests: 6 + 6 is over 10, and unsubscribing in the same request counts.
      const delta = c.open<DeltaDiscoveryResponseWire>('DeltaRoutes');
      delta.send({ node: NODE, type_url: RDS, resource_names_subscribe: names(6, 'a') });
      delta.send({ node: NODE, type_url: RDS, resource_names_subscribe: names(5, 'b'), resource_names_unsubscribe: ['a-0'] });
      delta.send({ node: NODE, type_url: RDS, resource_names_subscribe: ['c-0'] });
      const e2 = await delta.failure(5000);
      assert.equal(e2.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(e2.details ?? '', /subscribe this stream to 11 resource names: over the limit of 10 \(--xds-max-names-per-stream\)$/);

      const fetched = await new Promise<grpc.ServiceError | null>((resolve) =>
        (c.client as unknown as { FetchRoutes(r: object, cb: (e: grpc.ServiceError | null) => void): void }).FetchRoutes(sotwReq(names(11, 'f')), (e) => resolve(e)),
      );
      assert.equal(fetched?.code, grpc.status.RESOURCE_EXHAUSTED);

      await stillServed(srv, dir, healthy.stream, 'after-names');
      assert.ok(srv.logs.lines.some((l) => l.event === 'rejected-request' && /--xds-max-names-per-stream/.test(String(l.message))));
    } finally {
      healthy.close();
      c.client.close();
      await srv.close();
    }
  });

  test('with the default limits, 40 streams of 500,000 names each all end with RESOURCE_EXHAUSTED and hold nothing', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const healthy = await healthyStream(srv.xdsPort);
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      // Short names, so that 500,000 fit in one request under the 4 MiB limit (as in the report
      // that ran the heap out of memory): the names limit, not the request size, must refuse them.
      const names = Array.from({ length: 500_000 }, (_, i) => i.toString(36));
      const floods = Array.from({ length: 40 }, () => c.open<DiscoveryResponseWire>('StreamRoutes'));
      for (const s of floods) s.send(sotwReq(names));
      for (const s of floods) {
        const e = await s.failure(60_000);
        assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(e.details ?? '', /500000 resource names: over the limit of 10000 \(--xds-max-names-per-stream\)/);
      }
      await until(() => srv.xds.streams().length === 1, 'only the healthy stream to remain');
      await stillServed(srv, dir, healthy.stream, 'after-flood');
    } finally {
      healthy.close();
      c.client.close();
      await srv.close();
    }
  });

  test('a resource name longer than the limit ends its stream with RESOURCE_EXHAUSTED, its status clipped', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { xdsLimits: { maxNameLength: 300 } });
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const s = c.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO, 'n'.repeat(100_000)]));
      const e = await s.failure(5000);
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(e.details ?? '', /has 100000 characters: over the limit of 300 \(--xds-max-name-length\)$/);
      assert.ok((e.details ?? '').length < 300, 'the status names the limit without echoing the name');
    } finally {
      c.client.close();
      await srv.close();
    }
  });

  test('a request over the configured size ends its stream with RESOURCE_EXHAUSTED; the healthy stream goes on', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { xdsLimits: { maxRequestBytes: 2000 } });
    const healthy = await healthyStream(srv.xdsPort);
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const s = c.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO, 'x'.repeat(3000)]));
      const e = await s.failure(5000);
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(e.details ?? '', /larger than max \(\d+ vs\.? 2000\)/);
      await stillServed(srv, dir, healthy.stream, 'after-size');
    } finally {
      healthy.close();
      c.client.close();
      await srv.close();
    }
  });

  test('a stream over the per-connection limit ends with RESOURCE_EXHAUSTED; the open ones go on, and a closed one frees its place', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { xdsLimits: { maxStreamsPerConnection: 3 } });
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const open = async () => {
        const s = c.open<DiscoveryResponseWire>('StreamRoutes');
        s.send(sotwReq([DUBBO]));
        const r = await s.next(5000);
        s.send(sotwReq([DUBBO], { version_info: r.version_info, response_nonce: r.nonce }));
        return s;
      };
      const three = [await open(), await open(), await open()];
      const fourth = c.open<DiscoveryResponseWire>('StreamRoutes');
      fourth.send(sotwReq([DUBBO]));
      const e = await fourth.failure(5000);
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(e.details, 'stream refused: 3 streams already open on this connection: over the limit of 3 (--xds-max-streams-per-connection)');
      assert.ok(srv.logs.lines.some((l) => l.event === 'refused' && l.what === 'stream'));
      await stillServed(srv, dir, three[0]!, 'after-streams');
      await Promise.all(three.slice(1).map((s) => s.next()));
      three[2]!.close();
      await until(() => srv.xds.streams().length === 2, 'the closed stream to be released');
      const again = await open();
      assert.equal(srv.xds.streams().length, 3);
      again.close();
    } finally {
      c.client.close();
      await srv.close();
    }
  });

  test('a connection over the limit is closed at once; the open ones go on', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { xdsLimits: { maxConnections: 2 } });
    const first = await healthyStream(srv.xdsPort);
    const second = await healthyStream(srv.xdsPort);
    const third = client(services.RdsClient, srv.xdsPort, undefined, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const s = third.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      const e = await s.failure(10_000);
      assert.equal(e.code, grpc.status.UNAVAILABLE);
      const refused = srv.logs.lines.find((l) => l.event === 'refused' && l.what === 'connection');
      assert.ok(refused, 'the refusal is logged');
      assert.equal(refused.message, 'connection refused: too many open connections: over the limit of 2 (--xds-max-connections)');
      await stillServed(srv, dir, first.stream, 'after-connections');
      assert.equal((await second.stream.next()).resources.length, 1);
    } finally {
      first.close();
      second.close();
      third.client.close();
      await srv.close();
    }
  });

  test('a 3 MB node id and a 3 MB NACK message give log lines of a few hundred bytes', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const node = { id: `huge-${'x'.repeat(3_000_000)}` };
      const s = c.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO], { node }));
      const r = await s.next();
      // Like Envoy, the node only in the first request (both would be over the 4 MiB request limit).
      s.send(sotwReq([DUBBO], { node: null, version_info: '', response_nonce: r.nonce, error_detail: { code: 3, message: `bad ${'y'.repeat(3_000_000)}` } }));
      await until(() => srv.logs.lines.some((l) => l.event === 'nack'), 'the NACK line');
      s.close();
      await until(() => srv.logs.lines.some((l) => l.event === 'disconnect'), 'the disconnect line');
      const lines = srv.logs.lines.filter((l) => ['connect', 'nack', 'disconnect'].includes(String(l.event)));
      assert.equal(lines.length, 3);
      for (const l of lines) {
        assert.ok(JSON.stringify(l).length < 3000, `${String(l.event)} line is ${JSON.stringify(l).length} characters`);
        assert.match(String(l.nodeId), /^huge-x+…\(\d+ more characters\)$/);
      }
      assert.match(String(lines[1]!.message), /^bad y+…\(\d+ more characters\)$/);
    } finally {
      c.client.close();
      await srv.close();
    }
  });
});
