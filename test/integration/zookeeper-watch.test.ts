/**
 * The ZooKeeper watcher against a real ZooKeeper (Debian `zookeeper`), started here on loopback:
 * what it mirrors, how it follows changes, and that faults never lose what is known.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RegistryState } from '../../src/model/registry.js';
import type { ZkAddress } from '../../src/registry/zookeeper/address.js';
import type { ZkRoot } from '../../src/registry/zookeeper/policy.js';
import { watchZooKeeper, type ZkSnapshot, type ZkWatchOptions } from '../../src/registry/zookeeper/watch.js';
import { CREATOR_ONLY, until, ZkServer, ZkWriter } from '../support/zookeeper.js';

const ROOTS: readonly ZkRoot[] = [
  { path: '/dubbo', kind: 'dubbo' },
  { path: '/services', kind: 'services' },
  { path: '/aurora', kind: 'serverset' },
];
const PROVIDER_A = 'dubbo%3A%2F%2F10.0.0.1%3A20880%2Fdemo.A%3Fapplication%3Dapp-a%26interface%3Ddemo.A';
const PROVIDER_A2 = 'dubbo%3A%2F%2F10.0.0.2%3A20880%2Fdemo.A%3Fapplication%3Dapp-a%26interface%3Ddemo.A';
const INSTANCE = '{"name":"app-a","address":"10.0.0.1","port":20880,"payload":{"metadata":{"dubbo.endpoints":"[{\\"port\\":20880,\\"protocol\\":\\"dubbo\\"}]"}}}';
const MEMBER = '{"serviceEndpoint":{"host":"10.0.0.9","port":9090},"additionalEndpoints":{},"status":"ALIVE","shard":0}';
const REVISION = '6be04ab1936affe601473b7f5f6673b3';

/** A watcher recording every snapshot and state; `tree()` is the last snapshot's tree. */
function watching(connect: string, over: Partial<ZkWatchOptions> & { roots?: readonly ZkRoot[]; digest?: string } = {}) {
  const snapshots: ZkSnapshot[] = [];
  const states: RegistryState[] = [];
  const address: ZkAddress = { connect, roots: over.roots ?? ROOTS, ...(over.digest ? { digest: over.digest } : {}) };
  const watch = watchZooKeeper({
    registry: 'zookeeper://test',
    address,
    sessionTimeoutMs: 2000,
    debounceMs: 20,
    connectTimeoutMs: 500,
    readTimeoutMs: 5000,
    retryMs: 200,
    ...over,
    onSnapshot: (s) => snapshots.push(s),
    onStatus: (s) => states.push(s.state),
  });
  return {
    watch,
    snapshots,
    states,
    tree: () => snapshots.at(-1)?.tree ?? new Map<string, string>(),
    /** Waits until the last snapshot satisfies `check`. */
    until: (what: string, check: (t: ReadonlyMap<string, string>) => boolean, ms = 20_000) =>
      until(() => snapshots.length > 0 && check(snapshots.at(-1)!.tree), ms, () => `${what}; states ${states.join(' → ')}; last tree: ${[...(snapshots.at(-1)?.tree.keys() ?? [])].slice(0, 40).join(' ')}`),
  };
}

/** The interface-level, application-level and ServerSet nodes every test starts from. */
async function writeBase(w: ZkWriter): Promise<void> {
  await w.create(`/dubbo/demo.A/providers/${PROVIDER_A}`);
  await w.create('/dubbo/demo.A/consumers/consumer%3A%2F%2F10.0.0.5%2Fdemo.A');
  await w.create('/dubbo/demo.A/routers/x');
  await w.mkdirp('/dubbo/demo.A/configurators');
  await w.create('/dubbo/config/dubbo/dubbo.properties', 'a=b');
  await w.create('/dubbo/mapping/demo.A', 'app-a');
  await w.create(`/dubbo/metadata/app-a/${REVISION}`, '{"app":"app-a"}');
  await w.create('/dubbo/metadata/demo.A/1.0.0/provider/app-a', '{"canonicalName":"demo.A"}');
  await w.create('/services/app-a/10.0.0.1:20880', INSTANCE);
  await w.create('/aurora/www/prod/hello/member_0000000001', MEMBER);
}

const BASE_TREE: ReadonlyArray<[string, string]> = [
  ['/aurora', ''],
  ['/aurora/www', ''],
  ['/aurora/www/prod', ''],
  ['/aurora/www/prod/hello', ''],
  ['/aurora/www/prod/hello/member_0000000001', MEMBER],
  ['/dubbo', ''],
  ['/dubbo/demo.A', ''],
  ['/dubbo/demo.A/configurators', ''],
  ['/dubbo/demo.A/providers', ''],
  [`/dubbo/demo.A/providers/${PROVIDER_A}`, ''],
  ['/dubbo/mapping', ''],
  ['/dubbo/mapping/demo.A', 'app-a'],
  ['/dubbo/metadata', ''],
  ['/dubbo/metadata/app-a', ''],
  [`/dubbo/metadata/app-a/${REVISION}`, '{"app":"app-a"}'],
  ['/services', ''],
  ['/services/app-a', ''],
  ['/services/app-a/10.0.0.1:20880', INSTANCE],
];

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

test('the initial read mirrors providers, mapping, revisions, instances and ServerSet members, and skips consumers, routers, config and definitions', async () => {
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
