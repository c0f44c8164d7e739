/**
 * The incremental paths of the registry sync give exactly what a fresh computation gives:
 *
 * - ZkParser fed the watcher's mirror and the paths changed since its last read (what the runtime
 *   does) equals parseZkTree of a copy of the same tree, after every one of many random edits;
 * - syncRegistries stepping from its previous state with snapshots that reuse the objects of
 *   unchanged services (what the parser gives) equals the same step from deep copies of the
 *   previous state and snapshots (so that nothing can be recognised by identity).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_CATALOG_OPTIONS } from '../../src/catalog/model.js';
import type { RegistryInstance, RegistryService, RegistrySnapshot, RegistryStatus } from '../../src/model/registry.js';
import { DEFAULT_REGISTRY_SYNC_OPTIONS, EMPTY_SYNC_STATE, syncRegistries, type RegistrySyncOptions, type SyncResult, type SyncState } from '../../src/registry/sync.js';
import { parseNacos } from '../../src/registry/nacos/parse.js';
import type { NacosParseOptions, NacosRead, NacosServiceRead } from '../../src/registry/nacos/read.js';
import { ZkMirror } from '../../src/registry/zookeeper/mirror.js';
import { parseZkTree, ZkParser } from '../../src/registry/zookeeper/parse.js';
import type { ZkParseOptions } from '../../src/registry/zookeeper/options.js';
import { mulberry32 } from '../support/random.js';

function javaEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

const INSTANCE = (ip: string, port: number, revision = 'a'.repeat(32)) =>
  JSON.stringify({ name: 'x', address: ip, port, payload: { metadata: { 'dubbo.endpoints': JSON.stringify([{ port, protocol: 'dubbo' }]), 'dubbo.metadata.revision': revision } } });

describe('ZkParser on the mirror, with the changed paths', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`equals parseZkTree after each of 300 random edits (seed ${seed})`, () => {
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      // Seeds 5 and 6 also hold the application-level layout (mapping, instances), and 6 reads it per application.
      const options: ZkParseOptions = { registry: 'zookeeper://test', roots: ['/dubbo'], servicesPath: '/services', level: seed === 6 ? 'application' : 'interface', serverSets: [{ path: '/aurora/job' }] };
      const mirror = new ZkMirror();
      const parser = new ZkParser(options);
      const ifaces = ['demo.A', 'demo.B', 'demo.C', 'demo.D', 'demo.Outer$Inner', 'demo.E'];
      const apps = ['app-a', 'app-b', 'app-c'];
      const providerUrl = () => {
        const iface = pick(ifaces);
        const scheme = rnd() < 0.1 ? 'tri' : 'dubbo';
        const params = [
          `application=${pick(apps)}`,
          `interface=${iface}`,
          ...(rnd() < 0.3 ? [`group=${pick(['g1', 'g2'])}`] : []),
          ...(rnd() < 0.5 ? ['version=1.0.0'] : []),
          ...(rnd() < 0.1 ? ['weight=x'] : rnd() < 0.2 ? ['weight=50'] : []),
          ...(rnd() < 0.05 ? ['category=consumers'] : []),
        ];
        const host = rnd() < 0.03 ? '' : `10.0.${Math.floor(rnd() * 3)}.${1 + Math.floor(rnd() * 6)}`;
        return { iface, name: javaEncode(`${scheme}://${host}:${pick([20880, 20881])}/${iface}?${params.join('&')}`) };
      };
      const put = (path: string, data = ''): void => {
        // What the watcher does: every ancestor is mirrored before a node; a provider or
        // configurator URL node is a name-only leaf.
        const parts = path.split('/').filter((p) => p !== '');
        for (let k = 1; k < parts.length; k++) {
          const p = `/${parts.slice(0, k).join('/')}`;
          if (!mirror.has(p)) mirror.put(p, '');
        }
        const cut = path.lastIndexOf('/');
        if (/\/(providers|configurators)\/[^/]+$/.test(path)) mirror.putLeaf(path.slice(0, cut), path.slice(cut + 1));
        else mirror.put(path, data);
      };
      const existing = (prefix: string): string[] => [...mirror.tree().keys()].filter((p) => p.startsWith(prefix));
      const edits: (() => void)[] = [
        () => {
          const p = providerUrl();
          put(`/dubbo/${javaEncode(p.iface)}/providers/${p.name}`);
        },
        () => {
          const p = providerUrl();
          put(`/dubbo/${javaEncode(p.iface)}/providers/${p.name}`);
        },
        () => {
          const gone = existing('/dubbo/').filter((p) => p.includes('/providers/'));
          if (gone.length > 0) mirror.drop(pick(gone));
        },
        () => {
          const iface = pick(ifaces);
          const o = pick([`override://0.0.0.0/${iface}?category=configurators&dynamic=false&weight=7`, `override://10.0.0.1:20880/${iface}?category=configurators&disabled=true`, 'empty://0.0.0.0/x?category=configurators']);
          put(`/dubbo/${javaEncode(iface)}/configurators/${javaEncode(o)}`);
        },
        () => {
          const gone = existing('/dubbo/').filter((p) => p.includes('/configurators/'));
          if (gone.length > 0) mirror.drop(pick(gone));
        },
        () => put(`/dubbo/${javaEncode(pick(ifaces))}/providers/not-a-url-${Math.floor(rnd() * 3)}`),
        () => {
          const dirs = existing('/dubbo/').filter((p) => p.split('/').length === 3 && !['/dubbo/mapping', '/dubbo/metadata'].includes(p));
          if (rnd() < 0.3 && dirs.length > 0) mirror.drop(pick(dirs));
        },
        () => {
          if (seed < 5) return;
          put(`/dubbo/mapping/${pick(ifaces)}`, [...new Set([pick(apps), pick(apps)])].join(','));
        },
        () => {
          if (seed < 5) return;
          put(`/services/${pick(apps)}/10.1.0.${1 + Math.floor(rnd() * 4)}:20880`, rnd() < 0.1 ? 'not json' : INSTANCE(`10.1.0.${1 + Math.floor(rnd() * 4)}`, 20880));
        },
        () => {
          if (seed < 5) return;
          const gone = existing('/services/').filter((p) => p.split('/').length === 4);
          if (gone.length > 0) mirror.drop(pick(gone));
        },
        () => put(`/aurora/job/member_000000000${Math.floor(rnd() * 4)}`, JSON.stringify({ serviceEntendpoint: {}, serviceEndpoint: { host: '10.2.0.1', port: 9000 + Math.floor(rnd() * 3) }, status: 'ALIVE' })),
      ];
      let fast = 0;
      let updates = 0;
      const update = parser['update'].bind(parser);
      parser['update'] = (nodes, changed) => {
        const r = update(nodes, changed);
        if (r !== undefined) updates++;
        return r;
      };
      for (let step = 0; step < 300; step++) {
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) pick(edits)();
        const changed = mirror.takeChanges();
        const before = parser['last']?.snapshot;
        const got = parser.parse(mirror, changed);
        if (before !== undefined && got.services.some((s, i) => s === before.services[i])) fast++;
        assert.deepEqual(got, parseZkTree(mirror.tree(), options), `after step ${step}`);
      }
      assert.ok(fast > 0, 'some reads reused services');
      // The interface-level runs also take the path that reads only the changed directories.
      if (options.level === 'interface') assert.ok(updates > 10, `${updates} reads of the changed directories only`);
    });
  }
});

describe('parseNacos given the same hosts arrays again', () => {
  test('equals a parse of deep copies, over 300 random reads', () => {
    const rnd = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const options: NacosParseOptions = { registry: 'nacos://test', protocols: ['dubbo', 'thrift'], maxInstancesPerService: 3 };
    const names = ['providers:demo.A:1.0.0:', 'providers:demo.B::g1', 'providers:demo.C___Inner::', 'app-x', 'plain-http', 'thrift-svc', 'consumers:demo.A::', 'providers:demo.A'];
    const host = (name: string): unknown => {
      if (rnd() < 0.03) return 'not an object';
      const metadata: Record<string, unknown> = { application: pick(['app-x', 'app-y']), version: '1.0.0' };
      if (name.startsWith('providers:')) metadata.protocol = rnd() < 0.15 ? 'tri' : 'dubbo';
      if (name === 'thrift-svc') metadata.protocol = 'thrift';
      if (name === 'app-x' && rnd() < 0.7) metadata['dubbo.endpoints'] = rnd() < 0.1 ? 'nope' : JSON.stringify([{ port: 20880, protocol: 'dubbo' }]);
      return { ip: `10.0.0.${1 + Math.floor(rnd() * 5)}`, port: pick([20880, 20881, '20882']), weight: pick([1, 0.5, 0]), healthy: rnd() > 0.1, enabled: rnd() > 0.1, metadata };
    };
    const services = new Map<string, NacosServiceRead>(names.map((n) => [n, { namespace: 'public', group: 'DEFAULT_GROUP', name: n, hosts: Array.from({ length: 3 }, () => host(n)) }]));
    let mappings: NacosRead['mappings'] = [];
    let reused = 0;
    let previous: ReturnType<typeof parseNacos> | undefined;
    for (let step = 0; step < 300; step++) {
      const r = rnd();
      if (r < 0.5) {
        const n = pick(names);
        services.set(n, { ...services.get(n)!, hosts: Array.from({ length: Math.floor(rnd() * 5) }, () => host(n)) });
      } else if (r < 0.6) mappings = rnd() < 0.5 ? [{ namespace: 'public', interface: 'demo.X', content: 'app-x' }] : [];
      // A new read object every time, with the unchanged services' hosts arrays as they were.
      const read: NacosRead = { services: [...services.values()].map((x) => ({ ...x })), mappings: [...mappings] };
      const got = parseNacos(read, options);
      assert.deepEqual(got, parseNacos(structuredClone(read), { ...options }), `step ${step}`);
      if (previous !== undefined && got.services.some((x) => previous!.services.includes(x))) reused++;
      previous = got;
    }
    assert.ok(reused > 100, `${reused} reads reused services`);
  });
});

describe('ZkMirror', () => {
  test('nodes and name-only leaves read like the tree they stand for, after random puts and drops', () => {
    const rnd = mulberry32(99);
    const mirror = new ZkMirror();
    const model = new Map<string, string>();
    const dirs = ['/a', '/a/b', '/a/c', '/d'];
    for (const d of dirs) {
      mirror.put(d, '');
      model.set(d, '');
    }
    for (let step = 0; step < 2000; step++) {
      const parent = dirs[Math.floor(rnd() * dirs.length)]!;
      const name = `n${Math.floor(rnd() * 6)}`;
      const path = `${parent}/${name}`;
      // As the watcher does: a node's ancestors are mirrored before it.
      for (const a of parent === '/d' ? ['/d'] : parent === '/a' ? ['/a'] : ['/a', parent]) {
        if (!model.has(a)) {
          mirror.put(a, '');
          model.set(a, '');
        }
      }
      const r = rnd();
      if (r < 0.35) {
        mirror.putLeaf(parent, name);
        if (!model.has(path)) model.set(path, '');
      } else if (r < 0.6) {
        const data = rnd() < 0.5 ? '' : `x${Math.floor(rnd() * 3)}`;
        mirror.put(path, data);
        model.set(path, data);
      } else if (r < 0.9) {
        mirror.drop(path);
        for (const k of [...model.keys()]) if (k === path || k.startsWith(`${path}/`)) model.delete(k);
      } else {
        const listed = Array.from({ length: 4 }, (_, i) => `n${i}`).filter(() => rnd() < 0.5);
        mirror.setChildren(parent, listed);
        for (const k of [...model.keys()]) {
          const rest = k.startsWith(`${parent}/`) ? k.slice(parent.length + 1) : undefined;
          if (rest !== undefined && !listed.includes(rest.split('/')[0]!)) model.delete(k);
        }
      }
      const tree = mirror.tree();
      assert.deepEqual([...tree], [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), `step ${step}`);
      for (const d of [...dirs, '/', path]) {
        assert.deepEqual(mirror.childrenOf(d), [...new Set([...model.keys()].filter((k) => k.startsWith(d === '/' ? '/' : `${d}/`)).map((k) => k.slice(d === '/' ? 1 : d.length + 1).split('/')[0]!))].sort(), `children of ${d}, step ${step}`);
        assert.equal(mirror.get(d), model.get(d));
        assert.equal(mirror.has(d), model.has(d));
      }
    }
  });
});

describe('syncRegistries from its previous state equals a step from copies', () => {
  const ZK = 'zookeeper://zk';
  const NACOS = 'nacos://nacos';

  // Noisy runs: two registries sharing hosts, outages, grace periods, bad records. Quiet runs: one
  // registry whose services change one at a time, which the incremental paths are for.
  for (const [seed, quiet] of [[11, false], [12, false], [13, false], [14, true], [15, true]] as const) {
    test(`over 200 random steps (seed ${seed}${quiet ? ', quiet' : ''})`, () => {
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const options: RegistrySyncOptions = { ...DEFAULT_REGISTRY_SYNC_OPTIONS, catalog: { ...DEFAULT_CATALOG_OPTIONS, removalGraceMs: quiet ? 0 : 3000, protectionHoldMs: 10_000 } };
      const noise = quiet ? 0 : 1;
      const instance = (): RegistryInstance => ({
        address: rnd() < 0.03 * noise ? 'host.name' : `10.0.0.${1 + Math.floor(rnd() * 8)}`,
        port: 20880,
        labels: rnd() < 0.05 * noise ? { version: '1.0.0', 'bad label!': 'x' } : { version: '1.0.0' },
        weight: rnd() < 0.05 * noise ? 0 : 100,
        healthy: rnd() > 0.05 * noise,
        enabled: rnd() > 0.05 * noise,
      });
      const service = (registry: string, n: number): RegistryService => ({
        key: `dubbo:demo.S${n}`,
        // Hosts 0..2 are shared by both registries (merged or, for S2, a protocol conflict).
        host: n === 7 && !quiet ? 'bad_host!' : `demo.s${n}`,
        protocol: registry === NACOS && n === 2 ? 'thrift' : 'dubbo',
        interface: `demo.S${n}`,
        instances: Array.from({ length: quiet ? 2 : Math.floor(rnd() * 4) }, instance),
      });
      // The services each registry lists now, by number; objects are kept until changed.
      const listed = new Map<string, Map<number, RegistryService>>([
        [ZK, new Map(Array.from({ length: 12 }, (_, n) => [n, service(ZK, n)] as const))],
        [NACOS, new Map(Array.from({ length: quiet ? 0 : 4 }, (_, n) => [n, service(NACOS, n)] as const))],
      ]);
      const up = new Map([
        [ZK, true],
        [NACOS, true],
      ]);
      let state: SyncState = EMPTY_SYNC_STATE;
      let now = 1000;
      let unchangedSteps = 0;
      for (let s = 0; s < 200; s++) {
        now += Math.floor(rnd() * 1500);
        const registry = quiet || rnd() < 0.8 ? ZK : NACOS;
        const services = listed.get(registry)!;
        const r = quiet ? rnd() * 0.6 + (rnd() < 0.3 ? 0.4 : 0) : rnd();
        if (r < 0.6) {
          // Mostly: one service's instances change.
          const n = pick([...services.keys()]);
          if (n !== undefined) services.set(n, { ...services.get(n)!, instances: Array.from({ length: quiet ? 2 : Math.floor(rnd() * 4) }, instance) });
        } else if (r < 0.7 && !quiet) {
          const n = Math.floor(rnd() * 14);
          if (services.has(n)) services.delete(n);
          else services.set(n, service(registry, n));
        } else if (r < 0.75 && !quiet) {
          up.set(registry, !up.get(registry));
        } else if (r < 0.78 && !quiet) {
          services.clear();
        }
        // else: nothing changed (a periodic tick)
        const snapshots: RegistrySnapshot[] = [...listed].map(([name, m]) => ({
          registry: name,
          services: [...m.keys()].sort((a, b) => String(a).localeCompare(String(b))).map((n) => m.get(n)!),
          diagnostics: [],
        }));
        const statuses: RegistryStatus[] = [...up].map(([name, ok]) => ({ registry: name, state: ok ? 'synced' : 'disconnected' }));
        const reference = syncRegistries(structuredClone(state), structuredClone(snapshots), statuses, options, now);
        const before = state;
        const got = syncRegistries(state, snapshots, statuses, options, now);
        if (got.state.generated === before.generated) unchangedSteps++;
        assert.deepEqual(plain(got), plain(reference), `step ${s}`);
        state = got.state;
      }
      // A step that changes nothing keeps the very same state when every stage recognised that by identity.
      if (quiet) assert.ok(unchangedSteps > 20, `${unchangedSteps} steps recognised as changing nothing`);
    });
  }
});

/** A result as plain data (the generated map as sorted entries). */
function plain(r: SyncResult) {
  return { ...r, state: { catalog: r.state.catalog, generated: [...r.state.generated].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) } };
}
