/**
 * Faults against a real ZooKeeper: a restart, a session expiry, a registry down at start-up, and
 * credentials. Each asserts that nothing known is lost meanwhile and that the watcher converges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREATOR_ONLY, until, ZkServer, ZkWriter } from '../support/zookeeper.js';
import { TcpGate } from '../support/tcp-gate.js';
import { BASE_TREE, PROVIDER_A, watching, writeBase } from '../support/zookeeper-watching.js';

const A = `/dubbo/demo.A/providers/${PROVIDER_A}`;

/** A server with the base tree written (persistent nodes, so they outlive every session). */
async function serverWithBase(): Promise<ZkServer> {
  const server = await ZkServer.start();
  const w = await ZkWriter.connect(server.connect);
  await writeBase(w);
  w.close();
  return server;
}

/** Every snapshot reported holds the whole base tree: nothing known was dropped at any point. */
function assertNothingLost(snapshots: readonly { tree: ReadonlyMap<string, string> }[]): void {
  for (const [i, s] of snapshots.entries()) {
    for (const [p, d] of BASE_TREE) assert.equal(s.tree.get(p), d, `snapshot ${i} lost ${p}`);
  }
}

test('a ZooKeeper restart: disconnected, then synced again, nothing lost in between, and changes are followed after it', async () => {
  const server = await serverWithBase();
  const z = watching(server.connect);
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    await server.stop();
    await z.untilStates('disconnected', (s) => s.includes('disconnected'));
    assert.ok(z.tree().has(A), 'the tree is kept while disconnected');
    await server.start();
    await z.untilStates('synced again', (s) => s.at(-1) === 'synced' && s.includes('disconnected'));
    const w = await ZkWriter.connect(server.connect);
    await w.create('/dubbo/demo.A/providers/after-restart');
    w.close();
    await z.until('a change after the restart', (t) => t.has('/dubbo/demo.A/providers/after-restart'));
    assertNothingLost(z.snapshots);
    assert.deepEqual(z.states.slice(0, 3), ['connecting', 'synced', 'disconnected']);
  } finally {
    z.watch.close();
    await server.close();
  }
});

test('a session expiry: a new session, a full re-read, nothing lost meanwhile, and changes followed in the new session', async () => {
  const server = await serverWithBase();
  // The watcher reaches the server through a relay the test cuts: a partition, while the server
  // runs on and expires the session itself. (No replacement client meanwhile: freshClientMs.)
  const gate = await TcpGate.start(server.port);
  const z = watching(`127.0.0.1:${gate.port}`, { freshClientMs: 600_000 });
  const w = await ZkWriter.connect(server.connect);
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    const first = z.watch.session()!;
    assert.ok(await server.hasSession(first.id), 'the server lists the session it gave');
    const before = z.snapshots.length;
    gate.cut();
    await z.untilStates('disconnected', (s) => s.includes('disconnected'));
    // A provider arrives while the session is dying: only the re-read in a new session can see it.
    await w.create('/dubbo/demo.A/providers/added-meanwhile');
    await until(async () => !(await server.hasSession(first.id)), 20_000, () => 'the server did not expire the session');
    assert.ok(z.tree().has(A), 'the tree is kept while the session is gone');
    gate.restore();
    await z.untilStates('expired, then synced in a new session', (s) => s.includes('expired') && s.at(-1) === 'synced');
    assert.deepEqual(z.states.slice(0, 4), ['connecting', 'synced', 'disconnected', 'expired']);
    assert.notDeepEqual(z.watch.session()!.id, first.id);
    await z.until('the node created meanwhile', (t) => t.has('/dubbo/demo.A/providers/added-meanwhile'));
    await w.remove('/dubbo/demo.A/providers/added-meanwhile');
    await w.create('/dubbo/demo.A/providers/after-expiry');
    await z.until('changes in the new session', (t) => t.has('/dubbo/demo.A/providers/after-expiry') && !t.has('/dubbo/demo.A/providers/added-meanwhile'));
    assertNothingLost(z.snapshots);
    assert.ok(z.snapshots.length > before);
  } finally {
    w.close();
    z.watch.close();
    await gate.close();
    await server.close();
  }
});

test('the server paused past the session timeout, then resumed: nothing lost meanwhile, and the watcher converges whether the server expired the session or renewed it', async () => {
  const server = await serverWithBase();
  const z = watching(server.connect);
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    // Twice the 2 s session. On waking, the server expires the session unless the client's queued
    // pings reach it first (a race a busy machine can lose); the client library itself notices no
    // silence, so either way the watcher must end synced with everything.
    server.pause();
    await new Promise((r) => setTimeout(r, 4000));
    server.resume();
    const w = await ZkWriter.connect(server.connect);
    await w.create('/dubbo/demo.A/providers/after-pause');
    w.close();
    await z.until('a change after the pause', (t) => t.has('/dubbo/demo.A/providers/after-pause'));
    await z.untilStates('synced', (s) => s.at(-1) === 'synced');
    assertNothingLost(z.snapshots);
  } finally {
    server.resume();
    z.watch.close();
    await server.close();
  }
});

test('a registry down at start-up: connecting, then failing, then synced once it comes up', async () => {
  const server = await ZkServer.create();
  const z = watching(server.connect);
  try {
    await z.untilStates('failing', (s) => s.includes('failing'));
    assert.equal(z.snapshots.length, 0, 'nothing is reported before a complete read');
    assert.deepEqual(z.states.slice(0, 2), ['connecting', 'failing']);
    await server.start();
    const w = await ZkWriter.connect(server.connect);
    await writeBase(w);
    w.close();
    await z.until('the whole tree', (t) => BASE_TREE.every(([p, d]) => t.get(p) === d));
    assert.equal(z.states.at(-1), 'synced');
  } finally {
    z.watch.close();
    await server.close();
  }
});

test('a chroot and digest credentials: nodes only their creator may read are mirrored, paths relative to the chroot', async () => {
  const server = await ZkServer.start();
  const w = await ZkWriter.connect(server.connect, 'dubbo:secret');
  let plain: ReturnType<typeof watching> | undefined;
  try {
    await w.mkdirp('/team');
    await w.create('/team/dubbo', '', false, CREATOR_ONLY);
    await w.create('/team/dubbo/demo.A', '', false, CREATOR_ONLY);
    await w.create('/team/dubbo/demo.A/providers', '', false, CREATOR_ONLY);
    await w.create(`/team/dubbo/demo.A/providers/${PROVIDER_A}`, '', false, CREATOR_ONLY);
    const z = watching(`${server.connect}/team`, { roots: [{ path: '/dubbo', kind: 'dubbo' }], digest: 'dubbo:secret' });
    try {
      await z.until('the provider', (t) => t.has(A));
      assert.deepEqual([...z.tree().keys()], ['/dubbo', '/dubbo/demo.A', '/dubbo/demo.A/providers', A]);
    } finally {
      z.watch.close();
    }
    // Without the credentials the read fails, and says so; nothing is reported as read.
    plain = watching(`${server.connect}/team`, { roots: [{ path: '/dubbo', kind: 'dubbo' }] });
    await plain.untilStates('failing', (s) => s.at(-1) === 'failing' || plain!.snapshots.length > 0);
    assert.equal(plain.snapshots.length, 0);
    assert.match(plain.watch.status().error ?? '', /NO_AUTH/);
  } finally {
    plain?.watch.close();
    w.close();
    await server.close();
  }
});
