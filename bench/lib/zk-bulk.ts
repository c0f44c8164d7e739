/**
 * Writing a large ZooKeeper tree fast: creates in multi-op transactions of `batch` nodes, with up to
 * `inFlight` transactions pipelined on one session. A session's requests are applied in order, so a
 * parent created in an earlier transaction exists when a later one creates its children.
 */
import zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import type { NodeSpec } from './dubbo-layout.js';

const OPEN = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))];

export function connectWriter(connect: string, sessionTimeout = 10_000): Promise<Client> {
  const client = zookeeper.createClient(connect, { sessionTimeout, spinDelay: 200 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`cannot connect a writer to ZooKeeper at ${connect}`)), 20_000);
    client.once('connected', () => {
      clearTimeout(t);
      resolve(client);
    });
    client.connect();
  });
}

export async function createAll(client: Client, nodes: readonly NodeSpec[], batch = 500, inFlight = 8): Promise<void> {
  let next = 0;
  let failed: Error | undefined;
  const commitOne = (from: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = client.transaction();
      for (const n of nodes.slice(from, from + batch)) t.create(n.path, Buffer.from(n.data), OPEN, n.ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT);
      t.commit((e) => (e ? reject(new Error(`creating nodes ${from}…${from + batch} (${nodes[from]!.path}) failed: ${String(e)}`)) : resolve()));
    });
  const worker = async (): Promise<void> => {
    while (next < nodes.length && failed === undefined) {
      const from = next;
      next += batch;
      await commitOne(from).catch((e: Error) => {
        failed ??= e;
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (failed) throw failed;
}

export function createNode(client: Client, path: string, ephemeral: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    client.create(path, Buffer.from('127.0.0.1'), OPEN, ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT, (e) => (e ? reject(new Error(`create ${path}: ${String(e)}`)) : resolve())),
  );
}

export function removeNode(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) => client.remove(path, -1, (e) => (e ? reject(new Error(`remove ${path}: ${String(e)}`)) : resolve())));
}
