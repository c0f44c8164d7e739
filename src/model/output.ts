/** Kubernetes objects metamesh emits. Specs are proto3 JSON of the Istio API types. */

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'metamesh';
/** What an emitted object is for: outbound, inbound, gateway, xds-cluster, gateway-listener, vip. */
export const ROLE_LABEL = 'metamesh.io/role';
/** The resource(s) an emitted object was derived from (`Kind ns/name`, comma-separated). */
export const SOURCE_ANNOTATION = 'metamesh.io/source';

export interface OutputMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface OutputObject {
  apiVersion: string;
  kind: string;
  metadata: OutputMeta;
  spec: Record<string, unknown>;
}
