/**
 * The ZooKeeper watcher against a real ZooKeeper (Debian `zookeeper`), started here on loopback:
 * what it mirrors, how it follows changes, and that faults never lose what is known.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZkServer, ZkWriter } from '../support/zookeeper.js';
import { BASE_TREE, INSTANCE, MEMBER, PROVIDER_A2, ROOTS, watching, writeBase } from '../support/zookeeper-watching.js';

let server: ZkServer;
let writer: ZkWriter;
before(async () => {
  server = await ZkServer.start();
  writer = await ZkWriter.connect(server.connect);
  await writeBase(writer);
});
after(async () => {
  writer?.close();
  await server?.close();
});

test('the initial read mirrors providers, mapping, revisions, provider definitions, instances and ServerSet members, and skips consumers, routers, config and consumer definitions', async () => {
  const z = watching(server.connect);
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    assert.deepEqual([...z.tree()], BASE_TREE);
    assert.deepEqual(z.states, ['connecting', 'synced']);
    assert.ok(z.watch.status().lastSyncMs! > 0);
  } finally {
    z.watch.close();
  }
});

test('a provider that comes and goes, an instance whose data changes and a new ServerSet member show up', async () => {
  const z = watching(server.connect);
  const provider = await ZkWriter.connect(server.connect);
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    await provider.create(`/dubbo/demo.A/providers/${PROVIDER_A2}`, '10.0.0.2', true);
    await z.until('the new provider', (t) => t.has(`/dubbo/demo.A/providers/${PROVIDER_A2}`));
    await writer.setData('/services/app-a/10.0.0.1:20880', `${INSTANCE} `);
    await z.until('the changed instance', (t) => t.get('/services/app-a/10.0.0.1:20880') === `${INSTANCE} `);
    await writer.create('/aurora/www/prod/hello/member_0000000002', MEMBER);
    await z.until('the new member', (t) => t.get('/aurora/www/prod/hello/member_0000000002') === MEMBER);
    // The provider's session ends: its ephemeral node goes, and so does it from the tree.
    provider.close();
    await z.until('the provider gone', (t) => !t.has(`/dubbo/demo.A/providers/${PROVIDER_A2}`));
    await writer.remove('/aurora/www/prod/hello/member_0000000002');
    await writer.setData('/services/app-a/10.0.0.1:20880', INSTANCE);
    await z.until('the base tree again', (t) => JSON.stringify([...t]) === JSON.stringify(BASE_TREE));
    // A watch fired by each change was armed again: the same node changes a second time.
    await writer.setData('/dubbo/mapping/demo.A', 'app-a,app-b');
    await z.until('the mapping changed', (t) => t.get('/dubbo/mapping/demo.A') === 'app-a,app-b');
    await writer.setData('/dubbo/mapping/demo.A', 'app-a');
    await z.until('the mapping back', (t) => t.get('/dubbo/mapping/demo.A') === 'app-a');
  } finally {
    provider.close();
    z.watch.close();
  }
});

test('a category directory created after the interface, and a root created after the start, are picked up', async () => {
  const z = watching(server.connect, { roots: [...ROOTS, { path: '/late', kind: 'serverset' }] });
  try {
    await z.until('the first snapshot', (t) => t.size > 0);
    await writer.create('/dubbo/demo.B/consumers/c');
    await z.until('the interface', (t) => t.has('/dubbo/demo.B'));
    await writer.create('/dubbo/demo.B/providers/dubbo%3A%2F%2F10.0.0.3%3A20880%2Fdemo.B');
    await z.until('the provider of the late directory', (t) => t.has('/dubbo/demo.B/providers/dubbo%3A%2F%2F10.0.0.3%3A20880%2Fdemo.B'));
    await writer.create('/late/job/member_0000000000', MEMBER);
    await z.until('the late root', (t) => t.get('/late/job/member_0000000000') === MEMBER);
  } finally {
    z.watch.close();
  }
});
