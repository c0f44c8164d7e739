/**
 * The ZooKeeper watcher as tests drive it: a recording watcher and the base tree the tests write.
 */
import type { RegistryState } from '../../src/model/registry.js';
import type { ZkAddress } from '../../src/registry/zookeeper/address.js';
import type { ZkRoot } from '../../src/registry/zookeeper/policy.js';
import { watchZooKeeper, type ZkSnapshot, type ZkWatchOptions } from '../../src/registry/zookeeper/watch.js';
import { until, type ZkWriter } from './zookeeper.js';

export const ROOTS: readonly ZkRoot[] = [
  { path: '/dubbo', kind: 'dubbo' },
  { path: '/services', kind: 'services' },
  { path: '/aurora', kind: 'serverset' },
];
export const PROVIDER_A = 'dubbo%3A%2F%2F10.0.0.1%3A20880%2Fdemo.A%3Fapplication%3Dapp-a%26interface%3Ddemo.A';
export const PROVIDER_A2 = 'dubbo%3A%2F%2F10.0.0.2%3A20880%2Fdemo.A%3Fapplication%3Dapp-a%26interface%3Ddemo.A';
export const INSTANCE = '{"name":"app-a","address":"10.0.0.1","port":20880,"payload":{"metadata":{"dubbo.endpoints":"[{\\"port\\":20880,\\"protocol\\":\\"dubbo\\"}]"}}}';
export const MEMBER = '{"serviceEndpoint":{"host":"10.0.0.9","port":9090},"additionalEndpoints":{},"status":"ALIVE","shard":0}';
export const REVISION = '6be04ab1936affe601473b7f5f6673b3';

/** A watcher recording every snapshot and state; `tree()` is the last snapshot's tree. */
export function watching(connect: string, over: Partial<ZkWatchOptions> & { roots?: readonly ZkRoot[]; digest?: string } = {}) {
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
    /** Waits until the states reported so far satisfy `check`. */
    untilStates: (what: string, check: (states: readonly RegistryState[]) => boolean, ms = 20_000) =>
      until(() => check(states), ms, () => `${what}; states ${states.join(' → ')}`),
    /** Waits until the last snapshot satisfies `check`. */
    until: (what: string, check: (t: ReadonlyMap<string, string>) => boolean, ms = 20_000) =>
      until(() => snapshots.length > 0 && check(snapshots.at(-1)!.tree), ms, () => `${what}; states ${states.join(' → ')}; last tree: ${[...(snapshots.at(-1)?.tree.keys() ?? [])].slice(0, 40).join(' ')}`),
  };
}

/** The interface-level, application-level and ServerSet nodes every test starts from. */
export async function writeBase(w: ZkWriter): Promise<void> {
  await w.create(`/dubbo/demo.A/providers/${PROVIDER_A}`);
  await w.create('/dubbo/demo.A/consumers/consumer%3A%2F%2F10.0.0.5%2Fdemo.A');
  await w.create('/dubbo/demo.A/routers/x');
  await w.mkdirp('/dubbo/demo.A/configurators');
  await w.create('/dubbo/config/dubbo/dubbo.properties', 'a=b');
  await w.create('/dubbo/mapping/demo.A', 'app-a');
  await w.create(`/dubbo/metadata/app-a/${REVISION}`, '{"app":"app-a"}');
  await w.create('/dubbo/metadata/demo.A/1.0.0/provider/app-a', '{"canonicalName":"demo.A"}');
  await w.create('/dubbo/metadata/demo.A/1.0.0/consumer/app-c', '{"side":"consumer"}');
  await w.create('/services/app-a/10.0.0.1:20880', INSTANCE);
  await w.create('/aurora/www/prod/hello/member_0000000001', MEMBER);
}

export const BASE_TREE: ReadonlyArray<[string, string]> = [
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
  ['/dubbo/metadata/demo.A', ''],
  ['/dubbo/metadata/demo.A/1.0.0', ''],
  ['/dubbo/metadata/demo.A/1.0.0/provider', ''],
  ['/dubbo/metadata/demo.A/1.0.0/provider/app-a', '{"canonicalName":"demo.A"}'],
  ['/services', ''],
  ['/services/app-a', ''],
  ['/services/app-a/10.0.0.1:20880', INSTANCE],
];
