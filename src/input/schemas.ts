/**
 * Decoders for every resource kind metamesh reads. Istio and Kubernetes specs are `open` (fields
 * metamesh does not use pass through untouched); metamesh's own and Aeraki's CRDs are closed.
 */
import type * as R from '../model/resources.js';
import { bool, int, intOrString, list, map, nullable, num, object, oneOf, str, type Decoder } from '../util/decode.js';

const labels = map(str);

export const objectMeta = object<R.ObjectMeta>(
  {
    name: str,
    namespace: str,
    labels,
    annotations: labels,
    creationTimestamp: str,
    generation: int(),
  },
  true,
);

const port = int(1, 65535);

export const serviceEntrySpec = object<R.ServiceEntrySpec>(
  {
    hosts: list(str),
    addresses: list(str),
    ports: list(object<R.ServicePort>({ number: port, name: str, protocol: str, targetPort: port }, true, ['number'])),
    location: oneOf('MESH_EXTERNAL', 'MESH_INTERNAL'),
    resolution: oneOf('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
    endpoints: list(
      object<R.WorkloadEntrySpec>(
        {
          address: str,
          ports: map(port),
          labels,
          network: str,
          locality: str,
          weight: int(0, 2 ** 32 - 1),
          serviceAccount: str,
        },
        true,
      ),
    ),
    workloadSelector: object<{ labels?: Record<string, string> }>({ labels }, true),
    exportTo: list(str),
    subjectAltNames: list(str),
  },
  true,
);

const trafficPolicy = object<R.TrafficPolicy>(
  {
    loadBalancer: object<NonNullable<R.TrafficPolicy['loadBalancer']>>(
      { consistentHash: object<R.ConsistentHash>({ httpHeaderName: str }, true) },
      true,
    ),
  },
  true,
);

export const destinationRuleSpec = object<R.DestinationRuleSpec>(
  {
    host: str,
    trafficPolicy,
    subsets: list(object<R.Subset>({ name: str, labels, trafficPolicy }, true, ['name'])),
    exportTo: list(str),
  },
  true,
);

export const gatewaySpec = object<R.GatewaySpec>(
  {
    selector: labels,
    servers: list(
      object<R.GatewayServer>(
        {
          port: object<R.GatewayServer['port']>({ number: port, name: str, protocol: str, targetPort: port }, true, ['number']),
          hosts: list(str),
          bind: str,
          name: str,
        },
        true,
        ['port'],
      ),
    ),
  },
  true,
);

export const kubeServiceSpec = object<R.KubeServiceSpec>(
  {
    ports: list(
      object<R.KubeServicePort>(
        { name: str, port, targetPort: intOrString, protocol: str, appProtocol: str },
        true,
        ['port'],
      ),
    ),
    selector: labels,
    clusterIP: str,
    clusterIPs: list(str),
    type: str,
  },
  true,
);

// --- metaprotocol.aeraki.io (closed: a typo must not pass silently) -----------------------------

const stringMatch = object<R.StringMatch>({ exact: str, prefix: str, regex: str });
const metaRouteMatch = object<R.MetaRouteMatch>({ attributes: map(nullable(stringMatch)) });
const destination = object<R.Destination>({
  host: str,
  subset: str,
  port: object<{ number?: number }>({ number: int(0, 65535) }),
});
const keyValues = list(object<R.KeyValue>({ key: str, value: str }));
const tokenBucket = object<R.TokenBucket>({
  maxTokens: int(0, 2 ** 32 - 1),
  tokensPerFill: nullable(int(0, 2 ** 32 - 1)),
  fillInterval: str,
});

export const metaRouterSpec = object<R.MetaRouterSpec>({
  hosts: list(str),
  gateways: list(str),
  routes: list(
    object<R.MetaRoute>({
      name: str,
      match: metaRouteMatch,
      route: list(object<R.MetaRouteDestination>({ destination, weight: int(0, 2 ** 32 - 1) })),
      mirror: destination,
      mirrorPercentage: object<{ value?: number }>({ value: num }),
      requestMutation: keyValues,
      responseMutation: keyValues,
    }),
  ),
  localRateLimit: object<R.LocalRateLimit>({
    tokenBucket,
    conditions: list(
      object<NonNullable<R.LocalRateLimit['conditions']>[number]>({ match: metaRouteMatch, tokenBucket }),
    ),
  }),
  globalRateLimit: object<R.GlobalRateLimit>({
    match: metaRouteMatch,
    domain: str,
    requestTimeout: str,
    denyOnFail: bool,
    rateLimitService: str,
    descriptors: list(object<{ property?: string; descriptorKey?: string }>({ property: str, descriptorKey: str })),
  }),
  exportTo: list(str),
});

export const applicationProtocolSpec = object<R.ApplicationProtocolSpec>({ protocol: str, codec: str });

/**
 * The part of a ServiceEntry's status metamesh reads: the addresses istiod allocated (Istio 1.23+).
 * Written by istiod, not by users, so anything malformed is left out without a diagnostic.
 */
export function serviceEntryStatus(raw: unknown): R.ServiceEntryStatus | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const list = (raw as { addresses?: unknown }).addresses;
  if (!Array.isArray(list)) return undefined;
  const addresses: R.ServiceEntryAddress[] = [];
  for (const a of list) {
    if (a === null || typeof a !== 'object' || typeof (a as { value?: unknown }).value !== 'string') continue;
    const { value, host } = a as { value: string; host?: unknown };
    addresses.push(typeof host === 'string' ? { value, host } : { value });
  }
  return addresses.length > 0 ? { addresses } : undefined;
}

export const SPEC_DECODERS: Record<string, Decoder<unknown>> = {
  ServiceEntry: serviceEntrySpec,
  Service: kubeServiceSpec,
  DestinationRule: destinationRuleSpec,
  Gateway: gatewaySpec,
  MetaRouter: metaRouterSpec,
  ApplicationProtocol: applicationProtocolSpec,
};
