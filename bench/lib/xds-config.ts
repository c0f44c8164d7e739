/**
 * Synthetic but realistic input for the xDS benchmarks: S Dubbo services, each with a ServiceEntry,
 * a DestinationRule (subsets v1/v2) and a MetaRouter with R routes (exact / prefix / regex /
 * presence matches, weighted splits, mirrors, header mutations, a catch-all split), built into
 * RDS RouteConfigurations by the real pipeline (createEngine). Written for bench/xds-fanout.ts.
 */
import type { ConfigSet } from '../../src/input/read.js';
import { OPTIONS_KIND } from '../../src/input/read.js';
import { resolveOptions } from '../../src/config/options.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import type * as R from '../../src/model/resources.js';

const TS = '2024-01-01T00:00:00Z';
export const hostOf = (i: number) => `com.example.bench${i}.api.orderservice`;
const ns = (i: number) => `bench-${i % 4}`;
const meta = (i: number): R.ObjectMeta => ({ name: `bench${i}`, namespace: ns(i), creationTimestamp: TS, labels: { app: `bench${i}` } });

function serviceEntry(i: number): R.ServiceEntry {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: meta(i),
    spec: {
      hosts: [hostOf(i)],
      addresses: [`10.20.${i >> 8}.${(i & 255) + 1}`],
      ports: [{ number: 20880, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' }],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      workloadSelector: { labels: { app: `bench${i}-provider` } },
      endpoints: [
        { address: `172.20.${i}.1`, labels: { version: 'v1' } },
        { address: `172.20.${i}.2`, labels: { version: 'v2' } },
      ],
    },
  };
}

function destinationRule(i: number): R.DestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: meta(i),
    spec: {
      host: hostOf(i),
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' }, ...(i % 3 === 0 ? { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'userId' } } } } : {}) },
      ],
    },
  };
}

const d = (i: number, subset: 'v1' | 'v2'): R.Destination => ({ host: hostOf(i), subset });

function route(i: number, k: number, total: number, weight: number): R.MetaRoute {
  if (k === total - 1) {
    return { name: 'default-split', route: [{ destination: d(i, 'v1'), weight }, { destination: d(i, 'v2'), weight: 100 - weight }] };
  }
  const method = `${['getOrder', 'listOrders', 'createOrder', 'cancelOrder', 'refund'][k % 5]!}${k}`;
  switch (k % 4) {
    case 0:
      return { name: `canary-${k}`, match: { attributes: { method: { exact: method }, env: { prefix: 'gray' } } }, route: [{ destination: d(i, 'v2') }], requestMutation: [{ key: 'routed-by', value: 'metamesh' }] };
    case 1:
      return {
        name: `split-${k}`,
        match: { attributes: { interface: { prefix: `com.example.bench${i}.api.` }, method: { exact: method } } },
        route: [{ destination: d(i, 'v1'), weight: 20 }, { destination: d(i, 'v2'), weight: 80 }],
        mirror: d(i, 'v2'),
        mirrorPercentage: { value: 50 },
      };
    case 2:
      return { name: `regex-${k}`, match: { attributes: { method: { regex: `^(get|list)[A-Z][a-zA-Z]*${k}$` } } }, route: [{ destination: d(i, 'v1') }], responseMutation: [{ key: 'x-served-by', value: 'v1' }] };
    default:
      return { name: `version-${k}`, match: { attributes: { version: { exact: `2.${k}.0` }, tenant: null } }, route: [{ destination: d(i, 'v2') }] };
  }
}

export function metaRouter(i: number, routes: number, weight = 20): R.MetaRouter {
  const list: R.MetaRoute[] = [];
  for (let k = 0; k < routes; k++) list.push(route(i, k, routes, weight));
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: meta(i), spec: { hosts: [hostOf(i)], routes: list } };
}

export function benchConfig(services: number, routes: number): ConfigSet {
  const diags: Diagnostic[] = [];
  const options = resolveOptions(undefined, OPTIONS_KIND, diags);
  if (diags.length > 0) throw new Error(`bug: default options gave diagnostics: ${JSON.stringify(diags)}`);
  const config: ConfigSet = { serviceEntries: [], services: [], destinationRules: [], gateways: [], metaRouters: [], applicationProtocols: [], options };
  for (let i = 0; i < services; i++) {
    config.serviceEntries.push(serviceEntry(i));
    config.destinationRules.push(destinationRule(i));
    config.metaRouters.push(metaRouter(i, routes));
  }
  return config;
}
