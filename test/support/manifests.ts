/** Small manifests the store and watcher tests write to files. */

/** A MetaRouter of host svc.ns.svc.cluster.local whose one route adds header k=`value`: editing `value` changes its route table. */
export const mutationRouter = (name: string, value: string) => `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ${name}, namespace: ns}
spec:
  hosts: [svc.ns.svc.cluster.local]
  routes:
  - name: r
    route:
    - destination: {host: svc.ns.svc.cluster.local}
    requestMutation:
    - {key: k, value: ${value}}
`;
