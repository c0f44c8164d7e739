/**
 * metamesh's own options: everything about the mesh that the stages need and cannot read from the
 * resources themselves. Given as a `MetameshOptions` document (apiVersion metamesh.io/v1alpha1)
 * among the inputs; src/config validates them and fills in the defaults below.
 */

export type XdsTlsMode = 'ISTIO_MUTUAL' | 'DISABLE';
export type AccessLogEncoding = 'TEXT' | 'JSON';

export interface XdsOptions {
  /** Name of the Envoy cluster the sidecars use to reach metamesh's xDS server. */
  clusterName: string;
  /** DNS name or IP of metamesh's xDS server as seen from the sidecars. */
  address: string;
  port: number;
  /** ISTIO_MUTUAL: sidecars present their Istio workload certificate (SDS `default`, `ROOTCA`). */
  tls: XdsTlsMode;
  /** Namespace metamesh runs in (its service account's namespace); by default the root namespace. */
  namespace: string;
  /** Kubernetes service account metamesh runs as. */
  serviceAccount: string;
  /**
   * With ISTIO_MUTUAL, the exact subject alternative names the xDS server's certificate must carry,
   * so that no other mesh workload can pose as metamesh. By default metamesh's SPIFFE id,
   * `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`; given, they replace it.
   */
  subjectAltNames: string[];
}

export interface MeshOptions {
  /** Mirrors Istio mesh config `accessLogFile`; empty means no access log. */
  accessLogFile: string;
  accessLogEncoding: AccessLogEncoding;
  /** Mirrors `accessLogFormat`: a text format, or a JSON object (as a string) when encoding is JSON. */
  accessLogFormat: string;
  /** Mirrors `enableTracing`. */
  enableTracing: boolean;
  /** Mirrors `defaultConfig.tracing.sampling`, in percent (0..100). */
  tracingSampling: number;
}

export interface Options {
  /** Istio's config root namespace: mesh-wide EnvoyFilters live here. */
  rootNamespace: string;
  /** The cluster DNS domain used to expand short host names. */
  domain: string;
  /** Istio's trust domain (mesh config `trustDomain`): the authority of workload SPIFFE ids. */
  trustDomain: string;
  /**
   * Labels of the workloads that run the MetaProtocol proxy. Sidecar patches are scoped to them so
   * that sidecars without the filter never receive a config they would reject. `{}` = every sidecar.
   */
  proxySelector: Record<string, string>;
  /** Address block from which ServiceEntries without addresses get a stable virtual IP. */
  vipCidr: string;
  xds: XdsOptions;
  mesh: MeshOptions;
}

/** The SPIFFE id Istio gives a workload: what its certificate carries as a URI SAN. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export const DEFAULT_OPTIONS: Options = Object.freeze({
  rootNamespace: 'istio-system',
  domain: 'cluster.local',
  trustDomain: 'cluster.local',
  proxySelector: { 'metamesh.io/proxy': 'metaprotocol' },
  vipCidr: '240.240.0.0/16',
  xds: {
    clusterName: 'metamesh-xds',
    address: 'metamesh.istio-system.svc.cluster.local',
    port: 15010,
    tls: 'ISTIO_MUTUAL',
    namespace: 'istio-system',
    serviceAccount: 'metamesh',
    subjectAltNames: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'],
  },
  mesh: {
    accessLogFile: '',
    accessLogEncoding: 'TEXT',
    accessLogFormat: '',
    enableTracing: false,
    tracingSampling: 1,
  },
}) as Options;
