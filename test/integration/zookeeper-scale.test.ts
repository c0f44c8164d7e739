/**
 * Large and hostile trees against a real ZooKeeper: 100,000 children under one node, oversized
 * node data, and the number of watches the watcher holds as instances and consumers multiply.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ZK_LIMITS } from '../../src/registry/zookeeper/limits.js';
import { ZkServer, ZkWriter } from '../support/zookeeper.js';
import { MEMBER, watching } from '../support/zookeeper-watching.js';

test('100,000 providers under one node are mirrored; past a lower limit the node is left unread with MM_ZK_TOO_MANY_CHILDREN', async () => {
  const server = await ZkServer.start();
  const w = await ZkWriter.connect(server.connect);
  try {
    await w.mkdirp('/dubbo/demo.Big/providers');
    const names = Array.from({ length: 100_000 }, (_, i) => `dubbo%3A%2F%2F10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}%3A20880%2Fdemo.Big`);
    await w.createMany('/dubbo/demo.Big/providers', names);
    const roots = [{ path: '/dubbo', kind: 'dubbo' as const }];
    // A session as long as the server allows (20 ticks): a loaded machine may take seconds here.
    const z = watching(server.connect, { roots, sessionTimeoutMs: 10_000 });
    try {
      await z.until('every provider', (t) => t.size === 100_003, 60_000);
      assert.ok(z.tree().has(`/dubbo/demo.Big/providers/${names[99_999]}`));
      assert.deepEqual(z.snapshots.at(-1)!.diagnostics, []);
    } finally {
      z.watch.close();
    }
    const limited = watching(server.connect, { roots, sessionTimeoutMs: 10_000, limits: { ...DEFAULT_ZK_LIMITS, maxChildren: 50_000 } });
    try {
      await limited.until('the first snapshot', (t) => t.size > 0, 30_000);
      assert.deepEqual([...limited.tree().keys()], ['/dubbo', '/dubbo/demo.Big']);
      const d = limited.snapshots.at(-1)!.diagnostics;
      assert.deepEqual(d.map((x) => [x.code, x.object]), [['MM_ZK_TOO_MANY_CHILDREN', 'ZooKeeper zookeeper://test /dubbo/demo.Big/providers']]);
      assert.match(d[0]!.message, /100000 children, more than the 50000/);
    } finally {
      limited.watch.close();
    }
  } finally {
    w.close();
    await server.close();
  }
});

test('a 1 MiB node is not read (MM_ZK_NODE_TOO_LARGE); 1,000,000 bytes are read whole; an instance that shrinks is read', async () => {
  // The server's own packet limit is raised so that it can hold a 1 MiB node (one byte past the default).
  const server = await ZkServer.start({ jvmFlags: ['-Djute.maxbuffer=4000000'] });
  const w = await ZkWriter.connect(server.connect);
  const big = 'x'.repeat(1024 * 1024);
  const large = `{"pad":"${'y'.repeat(1_000_000 - 10)}"}`;
  try {
    await w.create('/aurora/job/member_0000000000', big);
    await w.create('/aurora/job/member_0000000001', large);
    await w.create('/services/app/10.0.0.1:1', big);
    const z = watching(server.connect, { roots: [{ path: '/aurora', kind: 'serverset' }, { path: '/services', kind: 'services' }] });
    try {
      await z.until('the first snapshot', (t) => t.size > 0, 30_000);
      const t = z.tree();
      assert.equal(t.get('/aurora/job/member_0000000001'), large);
      assert.equal(t.has('/aurora/job/member_0000000000'), false);
      assert.equal(t.has('/services/app/10.0.0.1:1'), false);
      const d = z.snapshots.at(-1)!.diagnostics;
      assert.deepEqual(d.map((x) => [x.code, x.object]), [
        ['MM_ZK_NODE_TOO_LARGE', 'ZooKeeper zookeeper://test /aurora/job/member_0000000000'],
        ['MM_ZK_NODE_TOO_LARGE', 'ZooKeeper zookeeper://test /services/app/10.0.0.1:1'],
      ]);
      // An instance's data is watched even while too large: once it shrinks it is read.
      await w.setData('/services/app/10.0.0.1:1', MEMBER);
      await z.until('the shrunk instance', (tree) => tree.get('/services/app/10.0.0.1:1') === MEMBER);
      assert.equal(z.snapshots.at(-1)!.diagnostics.length, 1);
    } finally {
      z.watch.close();
    }
  } finally {
    w.close();
    await server.close();
  }
});

test('the watches grow with services, not with providers or consumers: two per interface', async () => {
  const server = await ZkServer.start();
  const w = await ZkWriter.connect(server.connect);
  const interfaces = Array.from({ length: 20 }, (_, i) => `demo.S${i}`);
  try {
    for (const s of interfaces) {
      await w.create(`/dubbo/${s}/providers/dubbo%3A%2F%2F10.0.0.1%3A20880%2F${s}`);
      await w.mkdirp(`/dubbo/${s}/configurators`);
    }
    const z = watching(server.connect, { roots: [{ path: '/dubbo', kind: 'dubbo' }] });
    try {
      await z.until('the first snapshot', (t) => t.size > 0);
      const few = await server.watchCount();
      // The root's children, then providers and configurators of each interface.
      assert.equal(few, 1 + 2 * interfaces.length);
      for (const s of interfaces) {
        await w.createMany(`/dubbo/${s}/providers`, Array.from({ length: 30 }, (_, i) => `dubbo%3A%2F%2F10.0.1.${i}%3A20880%2F${s}`));
        await w.create(`/dubbo/${s}/consumers/consumer%3A%2F%2F10.0.2.1%2F${s}`);
      }
      await z.until('every provider', (t) => interfaces.every((s) => t.has(`/dubbo/${s}/providers/dubbo%3A%2F%2F10.0.1.29%3A20880%2F${s}`)));
      assert.equal(await server.watchCount(), few);
    } finally {
      z.watch.close();
    }
  } finally {
    w.close();
    await server.close();
  }
});
