/**
 * Finagle / twitter-commons / Aurora ServerSets: under a configured group path, `member_*` nodes
 * hold JSON `{"serviceEndpoint":{"host","port"}, "additionalEndpoints":{name:{host,port}},
 * "status":"ALIVE", "shard":3}`. Other children (Finagle's `vector_*`, anything else) are not members.
 *
 * Status: only `ALIVE` members are healthy, as Finagle's resolver uses only them; a member in any
 * other status (STARTING, WARNING, STOPPING, STOPPED, DEAD, UNKNOWN, or none) is kept with
 * `healthy: false`, so it is visible but gets no traffic. Members are never `enabled: false`: a
 * ServerSet has no operator switch. `shard` becomes the `shard` label. Data that is not JSON (the
 * older Thrift-binary encoding included) is reported and the member skipped.
 */
import { diag } from '../../model/diagnostics.js';
import type { ServiceCollector } from './collect.js';
import { isObject, isPort, readJsonObject } from './json.js';
import { serverSetHost } from './naming.js';
import { joinPath, type ResolvedZkOptions } from './options.js';
import { zkObject, type ZkIndex } from './tree.js';

/** ServerSet members carry no weight; every one counts the same as a Dubbo provider by default. */
const MEMBER_WEIGHT = 100;

export function readServerSets(zk: ZkIndex, o: ResolvedZkOptions, out: ServiceCollector): void {
  for (const set of o.serverSets) {
    const head = { key: `serverset:${set.path}`, host: set.host ?? serverSetHost(set.path) };
    const protocol = set.protocol ?? o.serverSetProtocol;
    for (const name of zk.childrenOf(set.path)) {
      if (!name.startsWith('member_')) continue;
      const path = joinPath(set.path, name);
      const object = zkObject(path);
      const json = readJsonObject(zk, path, 'a ServerSet member');
      if (json === undefined) continue;
      const endpoint = set.endpoint === undefined ? json.serviceEndpoint : isObject(json.additionalEndpoints) ? json.additionalEndpoints[set.endpoint] : undefined;
      const host = isObject(endpoint) && typeof endpoint.host === 'string' ? endpoint.host.trim() : '';
      const port = isObject(endpoint) ? endpoint.port : undefined;
      if (host === '' || !isPort(port)) {
        const which = set.endpoint === undefined ? 'serviceEndpoint' : `additionalEndpoints.${set.endpoint}`;
        zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, `The member has no ${which} with a host and a port from 1 to 65535; it was ignored.`));
        continue;
      }
      const shard = json.shard;
      const labels: Record<string, string> = typeof shard === 'number' && Number.isInteger(shard) ? { shard: String(shard) } : {};
      out.add(head, { protocol, object, instance: { address: host, port, labels, weight: MEMBER_WEIGHT, healthy: json.status === 'ALIVE', enabled: true } });
    }
  }
}
