/**
 * Robustness of the xDS server, with real @grpc/grpc-js clients on 127.0.0.1:
 * clients vanishing in the middle of a push, a thousand clients reconnecting at once, garbage and
 * oversized requests, and a client that never reads. In every case the server stays up and the
 * other streams keep converging. Waits are deadlines on events, never fixed sleeps.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { DUBBO, RDS, client, decode, editFile, examplesCopy, removeTemps, services, sotwReq, start, until, type Stream } from '../support/xds.js';

after(removeTemps);

type Client = ReturnType<typeof client>;

/** Opens `n` SotW streams spread over `channels` client channels, each subscribed to DUBBO. */
function openMany(clients: Client[], n: number): Stream<DiscoveryResponseWire>[] {
  const streams: Stream<DiscoveryResponseWire>[] = [];
  for (let i = 0; i < n; i++) {
    const s = clients[i % clients.length]!.open<DiscoveryResponseWire>('StreamRoutes');
    s.send(sotwReq([DUBBO]));
    streams.push(s);
  }
  return streams;
}

/** Receives one response on every stream and ACKs it; returns the versions seen. */
async function receiveAndAck(streams: Stream<DiscoveryResponseWire>[], timeoutMs = 20_000): Promise<Set<string>> {
  const versions = new Set<string>();
  await Promise.all(
    streams.map(async (s) => {
      const r = await s.next(timeoutMs);
      versions.add(r.version_info);
      s.send(sotwReq([DUBBO], { version_info: r.version_info, response_nonce: r.nonce }));
    }),
  );
  return versions;
}

function channels(port: number, k: number): Client[] {
  return Array.from({ length: k }, () => client(services.RdsClient, port));
}

function closeAll(clients: Client[]): void {
  for (const c of clients) c.client.close();
}

describe('xDS server robustness', () => {
  test('clients that disconnect in the middle of a push do not stop the others from converging', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const clients = channels(srv.xdsPort, 4);
    try {
      const streams = openMany(clients, 200);
      const [v1] = [...(await receiveAndAck(streams))];
      editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-robust}');
      // Half of the clients vanish while the new version is being pushed.
      const [gone, staying] = [streams.slice(0, 100), streams.slice(100)];
      for (const s of gone) s.close();
      const v2 = await receiveAndAck(staying);
      assert.equal(v2.size, 1);
      assert.ok(!v2.has(v1!));
      await until(() => srv.xds.streams().length === 100, 'the server to drop the closed streams');
    } finally {
      closeAll(clients);
      await srv.close();
    }
  });

  test('a thousand clients reconnecting at once all get their routes', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    let clients = channels(srv.xdsPort, 10);
    try {
      const first = openMany(clients, 1000);
      const v1 = await receiveAndAck(first);
      assert.equal(v1.size, 1);
      // Everyone drops at once (as when a node restarts or a load balancer flaps)…
      for (const s of first) s.close();
      closeAll(clients);
      await until(() => srv.xds.streams().length === 0, 'the server to see every stream closed', 20_000);
      // …and comes back at once.
      clients = channels(srv.xdsPort, 10);
      const again = openMany(clients, 1000);
      const v2 = await receiveAndAck(again, 30_000);
      assert.deepEqual([...v2], [...v1], 'same content, same version after the reconnect');
      await until(() => srv.xds.streams().filter((s) => s.ackedVersions[DUBBO] !== undefined).length === 1000, 'every ACK to be recorded', 20_000);
    } finally {
      closeAll(clients);
      await srv.close();
    }
  });

  test('garbage and oversized requests fail their own stream only', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const [good, bad] = [client(services.RdsClient, srv.xdsPort), client(services.RdsClient, srv.xdsPort, undefined, { 'grpc.max_send_message_length': 64 * 1024 * 1024 })];
    try {
      const healthy = good.open<DiscoveryResponseWire>('StreamRoutes');
      healthy.send(sotwReq([DUBBO]));
      const r1 = await healthy.next();
      healthy.send(sotwReq([DUBBO], { version_info: r1.version_info, response_nonce: r1.nonce }));

      // A wrong type URL on RDS.
      const wrongType = bad.open<DiscoveryResponseWire>('StreamRoutes');
      wrongType.send(sotwReq([DUBBO], { type_url: 'type.googleapis.com/not.a.Type' }));
      assert.equal((await wrongType.failure()).code, grpc.status.INVALID_ARGUMENT);

      // No node, thousands of junk names, a nonce nobody sent: answered or ignored, never a crash.
      const junk = bad.open<DiscoveryResponseWire>('StreamRoutes');
      junk.send({ type_url: RDS, resource_names: Array.from({ length: 5000 }, (_, i) => `junk-${i}\u0000\u{1F4A5}`), response_nonce: 'never-sent', version_info: 'x' });
      junk.send({ type_url: RDS, resource_names: [DUBBO] });
      const rj = await junk.next();
      assert.equal(rj.resources.length, 1);

      // A request larger than the server accepts (16 MiB).
      const huge = bad.open<DiscoveryResponseWire>('StreamRoutes');
      huge.send(sotwReq(['x'.repeat(17 * 1024 * 1024)]));
      assert.equal((await huge.failure(20_000)).code, grpc.status.RESOURCE_EXHAUSTED);

      // The healthy stream still gets the next version.
      editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-after-garbage}');
      const r2 = await healthy.next();
      assert.notEqual(r2.version_info, r1.version_info);
    } finally {
      good.client.close();
      bad.client.close();
      await srv.close();
    }
  });

  test('a client that never reads does not hold back the others or queue without bound', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const c = client(services.RdsClient, srv.xdsPort);
    try {
      const stuck = c.open<DiscoveryResponseWire>('StreamRoutes');
      stuck.send(sotwReq([DUBBO]));
      stuck.call.pause(); // never reads, never ACKs
      const live = c.open<DiscoveryResponseWire>('StreamRoutes');
      live.send(sotwReq([DUBBO]));
      let last = await live.next();
      live.send(sotwReq([DUBBO], { version_info: last.version_info, response_nonce: last.nonce }));
      for (let i = 0; i < 20; i++) {
        editFile(path.join(dir, 'dubbo.yaml'), i === 0 ? 'value: metamesh}' : `value: edit-${i - 1}}`, `value: edit-${i}}`);
        // The live client follows every edit, each as soon as it is made.
        const r = await live.next();
        assert.match(JSON.stringify(decode(r.resources[0]!)), new RegExp(`edit-${i}"`));
        live.send(sotwReq([DUBBO], { version_info: r.version_info, response_nonce: r.nonce }));
        last = r;
      }
      const current = srv.cache.get(DUBBO)!.version;
      await until(() => srv.xds.streams().some((s) => s.ackedVersions[DUBBO] === current), 'the live ACK of the last edit');
      const info = srv.xds.streams();
      assert.equal(info.length, 2);
      assert.ok(info.some((s) => Object.keys(s.ackedVersions).length === 0), 'the stuck stream is still there, with nothing ACKed');
      // The stuck stream was sent only its first response: with one response in flight and no
      // ACK, the 20 edits were coalesced, not queued. Once it reads and ACKs, the very next
      // response is the last edit, and the one after that is the next change (a barrier: nothing
      // older was waiting in between).
      stuck.call.resume();
      const original = await stuck.next();
      assert.doesNotMatch(JSON.stringify(decode(original.resources[0]!)), /edit-\d+"/);
      stuck.send(sotwReq([DUBBO], { version_info: original.version_info, response_nonce: original.nonce }));
      const coalesced = await stuck.next();
      assert.equal(coalesced.version_info, last.version_info, 'the last edit, as the live client has it');
      assert.match(JSON.stringify(decode(coalesced.resources[0]!)), /edit-19"/);
      stuck.send(sotwReq([DUBBO], { version_info: coalesced.version_info, response_nonce: coalesced.nonce }));
      editFile(path.join(dir, 'dubbo.yaml'), 'value: edit-19}', 'value: edit-20}');
      assert.match(JSON.stringify(decode((await stuck.next()).resources[0]!)), /edit-20"/);
    } finally {
      c.client.close();
      await srv.close();
    }
  });
});
