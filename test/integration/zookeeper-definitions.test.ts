/**
 * The providers' service definitions (`/dubbo/metadata/<interface>/<version>/<group>/provider/<app>`,
 * where an instance-mode provider with local metadata states its group and version) against a real
 * ZooKeeper (Debian `zookeeper`, loopback): they cost no watch in any register-mode layout, and a
 * definition Dubbo writes after the mapping and the instance, one level at a time, is still picked up
 * (by an instance change, the follow-up reads, or the periodic rescan) without anything known being
 * dropped meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { allModeAdditions, hostOf, iface, INTERFACES_PER_APP, instanceLayout, interfaceLayout, type NodeSpec } from '../../bench/lib/dubbo-layout.js';
import type { RegistrySnapshot, ZkTree } from '../../src/model/registry.js';
import { parseZkTree } from '../../src/registry/zookeeper/parse.js';
import type { ZkRoot } from '../../src/registry/zookeeper/policy.js';
import { until, ZkServer, ZkWriter } from '../support/zookeeper.js';
import { watching } from '../support/zookeeper-watching.js';

let server: ZkServer;
let writer: ZkWriter;
before(async () => {
  server = await ZkServer.start();
  writer = await ZkWriter.connect(server.connect);
});
after(async () => {
  writer?.close();
  await server?.close();
});

async function write(w: ZkWriter, specs: readonly NodeSpec[]): Promise<void> {
  for (const s of specs) await w.create(s.path, s.data, s.ephemeral);
}

function parse(tree: ZkTree, root: string, servicesPath: string): RegistrySnapshot {
  return parseZkTree(tree, { registry: 'zookeeper://test', roots: [root], servicesPath });
}

/** N interfaces (10 per application), P providers each: every layout's watches, definitions included. */
const N = 30;
const P = 2;
const APPS = N / INTERFACES_PER_APP;

const LAYOUTS: ReadonlyArray<{ name: string; root: string; services: string; write: () => Promise<void>; watches: number; why: string }> = [
  {
    name: 'interface',
    root: '/dubbo',
    services: '/services',
    write: () => write(writer, interfaceLayout('/dubbo', N, P)),
    // providers/ and configurators/ of each interface; the root, metadata/, and an existence watch on the absent services root.
    watches: 2 * N + 3,
    why: '2 per interface + 3',
  },
  {
    name: 'all',
    root: '/all',
    services: '/all-services',
    write: async () => {
      await write(writer, interfaceLayout('/all', N, P));
      await write(writer, allModeAdditions('/all', '/all-services', N, P));
    },
    // The same, plus each mapping node, each application directory and each instance; the root, mapping/, metadata/, the services root.
    watches: 2 * N + N + APPS + APPS * P + 4,
    why: '3 per interface + 1 per application + 1 per instance + 4',
  },
  {
    name: 'instance',
    root: '/inst',
    services: '/inst-services',
    write: () => write(writer, instanceLayout('/inst', '/inst-services', N, P)),
    watches: N + APPS + APPS * P + 4,
    why: '1 per interface + 1 per application + 1 per instance + 4',
  },
];

for (const layout of LAYOUTS) {
  test(`register-mode ${layout.name}: the service definitions cost no watch (${layout.why}), and every interface has its group and version`, async () => {
    await layout.write();
    assert.equal(await server.watchCount(), 0, 'no other watcher is left');
    const roots: ZkRoot[] = [
      { path: layout.root, kind: 'dubbo' },
      { path: layout.services, kind: 'services' },
    ];
    const z = watching(server.connect, { roots });
    try {
      await z.until('the first snapshot', (t) => t.size > 0);
      const hosts = new Set(parse(z.tree(), layout.root, layout.services).services.map((s) => s.host));
      const want = Array.from({ length: N }, (_, i) => hostOf(iface(i)));
      assert.deepEqual(want.filter((h) => !hosts.has(h)), [], 'every interface under the host with its group and version');
      assert.ok(want.some((h) => h.includes('-g')), 'some interfaces have a group');
      assert.equal(await server.watchCount(), layout.watches);
    } finally {
      z.watch.close();
    }
    await until(async () => (await server.watchCount()) === 0, 10_000, () => 'the watcher\'s watches gone with its session');
  });
}

/** A Dubbo 3 instance of `app` (Curator JSON) at `ip`, with a timestamp to change it in place. */
function instance(app: string, ip: string, ts = '1795972984230'): string {
  const metadata = { 'dubbo.endpoints': '[{"port":20880,"protocol":"dubbo"}]', 'dubbo.metadata.revision': '420892e34dbc5f5f0630676ebd739d08', 'dubbo.metadata.storage-type': 'local', timestamp: ts };
  return JSON.stringify({ name: app, id: `${ip}:20880`, address: ip, port: 20880, payload: { metadata } });
}

function definition(iface: string, app: string, group: string, version: string): string {
  return JSON.stringify({ canonicalName: iface, parameters: { application: app, group, version, interface: iface, side: 'provider' } });
}

/** Creates each level of `path` in turn, as Curator's creatingParentsIfNeeded does, the last with `data`. */
async function createLevelByLevel(path: string, data: string, between: () => Promise<void> = async () => {}): Promise<void> {
  const parts = path.split('/').filter((p) => p !== '');
  for (let k = 1; k <= parts.length; k++) {
    const p = `/${parts.slice(0, k).join('/')}`;
    if ((await writer.data(p)) !== undefined) continue;
    await writer.create(p, k === parts.length ? data : '127.0.0.1');
    await between();
  }
}

/** Host → the addresses of its instances, for every service of the last snapshot under `root`. */
function served(tree: ZkTree, root: string): Map<string, string[]> {
  return new Map(parse(tree, root, '/late-services').services.map((s) => [s.host, s.instances.map((i) => i.address).sort()]));
}

const LATE_CASES = [
  { trigger: 'an instance change', options: { definitionSettleMaxMs: 0, definitionRescanMs: 0 }, change: true },
  { trigger: 'the follow-up reads', options: { definitionSettleMs: 100, definitionRescanMs: 0 }, change: false },
  { trigger: 'the periodic rescan', options: { definitionSettleMaxMs: 0, definitionRescanMs: 300 }, change: false },
] as const;

for (const [k, c] of LATE_CASES.entries()) {
  test(`a definition written after the mapping and the instance, level by level, is picked up by ${c.trigger}`, async () => {
    const root = `/late${k}`;
    const roots: ZkRoot[] = [
      { path: root, kind: 'dubbo' },
      { path: '/late-services', kind: 'services' },
    ];
    const app = `late-app-${k}`;
    const ip = `10.1.${k}.1`;
    await writer.mkdirp(`${root}/mapping`);
    const z = watching(server.connect, { roots, ...c.options });
    try {
      await z.until('the first snapshot', (t) => t.size > 0);
      // Dubbo's order in instance mode: the instance, the mapping, and the definition last (asynchronously).
      await writer.create(`/late-services/${app}/${ip}:20880`, instance(app, ip), true);
      await writer.create(`${root}/mapping/demo.Late`, app);
      await z.until('the mapping and the instance', (t) => served(t, root).get('demo.late')?.[0] === ip);
      await createLevelByLevel(`${root}/metadata/demo.Late/1.0.0/g1/provider/${app}`, definition('demo.Late', app, 'g1', '1.0.0'));
      if (c.change) await writer.setData(`/late-services/${app}/${ip}:20880`, instance(app, ip, '1795972999999'));
      await z.until('the group and version', (t) => served(t, root).get('demo.late-g1-1-0-0')?.[0] === ip && !served(t, root).has('demo.late'));
    } finally {
      z.watch.close();
    }
  });
}

test('a second group written level by level while reads happen: the first stays in every snapshot, the second is added', async () => {
  const root = '/seq';
  const roots: ZkRoot[] = [
    { path: root, kind: 'dubbo' },
    { path: '/late-services', kind: 'services' },
  ];
  const app = 'seq-app';
  const ip = '10.2.0.1';
  await writer.create(`/late-services/${app}/${ip}:20880`, instance(app, ip), true);
  await writer.create(`${root}/metadata/demo.Seq/1.0.0/g1/provider/${app}`, definition('demo.Seq', app, 'g1', '1.0.0'));
  await writer.create(`${root}/mapping/demo.Seq`, app);
  const z = watching(server.connect, { roots, definitionSettleMs: 20, definitionRescanMs: 0 });
  try {
    await z.until('the first group', (t) => served(t, root).get('demo.seq-g1-1-0-0')?.[0] === ip);
    const first = z.snapshots.length - 1;
    // Each level is followed by an instance change, so reads see the tree at each stage.
    let ts = 1795972990000;
    await createLevelByLevel(`${root}/metadata/demo.Seq/1.0.0/g2/provider/${app}`, definition('demo.Seq', app, 'g2', '1.0.0'), async () => {
      await writer.setData(`/late-services/${app}/${ip}:20880`, instance(app, ip, String(++ts)));
      const seen = z.snapshots.length;
      await z.until('the instance change', () => z.snapshots.length > seen);
    });
    await z.until('the second group', (t) => served(t, root).get('demo.seq-g2-1-0-0')?.[0] === ip);
    for (const s of z.snapshots.slice(first)) {
      const hosts = served(s.tree, root);
      assert.deepEqual(hosts.get('demo.seq-g1-1-0-0'), [ip], 'the first group in every snapshot');
      assert.equal(hosts.has('demo.seq'), false, 'never without a group');
    }
  } finally {
    z.watch.close();
  }
});

test('an application added to a mapping is reported with the definition it published, never without', async () => {
  const root = '/add';
  const roots: ZkRoot[] = [
    { path: root, kind: 'dubbo' },
    { path: '/late-services', kind: 'services' },
  ];
  await writer.create('/late-services/add-x/10.3.0.1:20880', instance('add-x', '10.3.0.1'), true);
  await writer.create(`${root}/metadata/demo.Add/1.0.0/g1/provider/add-x`, definition('demo.Add', 'add-x', 'g1', '1.0.0'));
  await writer.create(`${root}/mapping/demo.Add`, 'add-x');
  // No follow-up reads and no rescan: only the mapping change can bring add-y's definition in.
  const z = watching(server.connect, { roots, definitionSettleMaxMs: 0, definitionRescanMs: 0 });
  try {
    await z.until('add-x', (t) => served(t, root).get('demo.add-g1-1-0-0')?.[0] === '10.3.0.1');
    const first = z.snapshots.length - 1;
    await writer.create(`${root}/metadata/demo.Add/1.0.0/g1/provider/add-y`, definition('demo.Add', 'add-y', 'g1', '1.0.0'));
    await writer.create('/late-services/add-y/10.3.0.2:20880', instance('add-y', '10.3.0.2'), true);
    await z.until('add-y\'s instance', (t) => t.has('/late-services/add-y/10.3.0.2:20880'));
    await writer.setData(`${root}/mapping/demo.Add`, 'add-x,add-y');
    await z.until('add-y mapped', (t) => served(t, root).get('demo.add-g1-1-0-0')?.join() === '10.3.0.1,10.3.0.2');
    for (const s of z.snapshots.slice(first)) assert.equal(served(s.tree, root).has('demo.add'), false, 'add-y never without its group and version');
  } finally {
    z.watch.close();
  }
});
