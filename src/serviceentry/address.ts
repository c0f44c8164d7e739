/**
 * Where the address of a ServiceEntry without `spec.addresses` comes from, read from the object
 * itself so that every replica, and every restart, reaches the same answer from what is live:
 *
 *   1. `spec.addresses` the user wrote: used as they are; nothing is allocated.
 *   2. An address metamesh allocated earlier: the object carries it in `spec.addresses` **and** in
 *      the annotation `metamesh.io/allocated-address` (the apply sink writes both; `metamesh
 *      generate` prints both). It is read back as the request's `previous` and kept (vip.ts).
 *      It comes before Istio's status because istiod already uses `spec.addresses` over its own.
 *   3. Istio's auto-allocated `status.addresses` (Istio 1.23+, written by istiod when the object has
 *      no `spec.addresses`): used as the service's address, so nothing is allocated or written.
 *   4. Otherwise metamesh allocates one (vip.ts), which the sink writes as in 2.
 *
 * `addressView` gives what detection should see: the object without 2 (so it still "needs" an
 * address and the allocator can keep it) and, while 2 holds, without 3.
 */
import type { ServiceEntry, ServiceEntryStatus } from '../model/resources.js';
import { addressIp } from '../util/hosts.js';
import { isIPv4 } from '../util/ip.js';

/** Set by metamesh on every ServiceEntry it gave an address (with that address as the value). */
export const ALLOCATED_ADDRESS_ANNOTATION = 'metamesh.io/allocated-address';

interface Addressed {
  readonly metadata: { readonly annotations?: Readonly<Record<string, string>> | undefined };
  readonly spec?: { readonly addresses?: readonly string[] | undefined } | undefined;
}

/**
 * The address metamesh allocated to this object earlier: the annotation's value when
 * `spec.addresses` is exactly that address (a user who changed the addresses owns them again).
 */
export function allocationOf(se: Addressed): string | undefined {
  const ip = se.metadata.annotations?.[ALLOCATED_ADDRESS_ANNOTATION];
  const addresses = se.spec?.addresses ?? [];
  if (ip === undefined || addresses.length !== 1 || addressIp(addresses[0]!) !== ip) return undefined;
  return ip;
}

/** The object as address decisions see it: without metamesh's earlier allocation (see above). */
export function addressView(se: ServiceEntry): ServiceEntry {
  if (allocationOf(se) === undefined) return se;
  const { addresses: _ours, ...spec } = se.spec;
  const { [ALLOCATED_ADDRESS_ANNOTATION]: _ann, ...annotations } = se.metadata.annotations ?? {};
  const { status: _istio, ...rest } = se;
  return { ...rest, metadata: { ...se.metadata, annotations }, spec };
}

/**
 * Istio's auto-allocated IPv4 addresses for the object's first host (the one sidecar patches are
 * for; an address without a host is for every host). IPv6 ones are left out: the outbound listener
 * Istio names `<ip>_<port>` is the IPv4 one, and metamesh's block is IPv4.
 */
export function istioAddresses(se: { readonly spec: { readonly hosts?: readonly string[] }; readonly status?: ServiceEntryStatus | undefined }): string[] {
  const first = se.spec.hosts?.[0];
  return (se.status?.addresses ?? []).filter((a) => (a.host === undefined || a.host === first) && isIPv4(a.value)).map((a) => a.value);
}

/**
 * A ServiceEntry metamesh generates (from a registry) with the allocation its live copy carries,
 * so the allocator keeps it: a freshly generated object has no address, and without this every
 * restart would allocate again from scratch (and move addresses whose hash slots collide).
 */
export function carryOverAllocation(generated: ServiceEntry, live: Addressed | undefined): ServiceEntry {
  const ip = live ? allocationOf(live) : undefined;
  if (ip === undefined || (generated.spec.addresses ?? []).length > 0) return generated;
  return {
    ...generated,
    metadata: { ...generated.metadata, annotations: { ...generated.metadata.annotations, [ALLOCATED_ADDRESS_ANNOTATION]: ip } },
    spec: { ...generated.spec, addresses: [ip] },
  };
}
