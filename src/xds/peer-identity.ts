/**
 * Who a mutual-TLS client is, from its verified certificate, and whether it may use the xDS
 * server. Pure: the certificate's subjectAltName text in (as node:tls prints it:
 * `URI:spiffe://cluster.local/ns/dubbo/sa/consumer, DNS:foo`), a refusal reason or undefined out.
 *
 * The TLS handshake already proved that the mesh CA (--tls-ca) signed the certificate. A mesh CA
 * may sign for several trust domains (a multi-cluster or migrated mesh); --tls-client-trust-domain
 * narrows who may connect to workloads of the named ones, as Istio's own xDS server does with its
 * trust domain. Istio workload certificates carry exactly one SPIFFE id.
 */

/** The SPIFFE ids among the URI SANs, in order. */
export function spiffeIds(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  // node:tls joins entries with ", "; a value holding ", " is printed as a JSON string instead.
  for (const m of subjectAltName.matchAll(/(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    let v = m[1]!;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    if (v.startsWith('spiffe://')) out.push(v);
  }
  return out;
}

/** The trust domain of a SPIFFE id (`spiffe://<domain>/<path>`), lower-cased; undefined if malformed. */
export function trustDomainOf(id: string): string | undefined {
  const m = /^spiffe:\/\/([^/]+)\/./i.exec(id);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Why a client with this certificate may not use the server, or undefined when it may. `domains`
 * empty: any client the CA signed may.
 */
export function clientRefusal(subjectAltName: string | undefined, domains: readonly string[]): string | undefined {
  if (domains.length === 0) return undefined;
  const ids = spiffeIds(subjectAltName);
  if (ids.length === 0) {
    return `the client certificate carries no SPIFFE id (URI SAN spiffe://…); only workloads of trust domain ${domains.join(', ')} may connect (--tls-client-trust-domain)`;
  }
  if (ids.some((id) => domains.includes(trustDomainOf(id) ?? ''))) return undefined;
  return `the client's SPIFFE id ${ids.join(', ')} is not in trust domain ${domains.join(', ')} (--tls-client-trust-domain)`;
}
