/**
 * Incremental (delta) xDS stream state machine, one per (gRPC stream, type URL): a thin adapter
 * that maps delta requests and responses onto the shared Subscription (subscription.ts), which
 * keeps the ACK/NACK/pending bookkeeping. Pure.
 *
 * Contracts (RDS is non-wildcard: names, including '*', are taken literally):
 * - Subscriptions are diffs: resource_names_subscribe adds, resource_names_unsubscribe removes
 *   (a name in both ends unsubscribed). Subscribing a name the client did not declare in
 *   initial_resource_versions means it lacks it: it is (re)sent if it exists.
 * - initial_resource_versions is honoured on the stream's first request only: a resource whose
 *   version the client already has is not resent; one that no longer exists is reported removed.
 * - Responses carry only resources whose version differs from what the client has (per-resource
 *   versions), and removed_resources for subscribed names the client has that no longer exist.
 *   Nothing to say → no response (never an empty placeholder).
 * - Nonces as in SotW. A non-empty response_nonce other than the latest sent one is stale: its
 *   ACK/NACK is ignored (event 'stale-nonce-ignored'), but its subscription diffs ARE applied,
 *   because delta clients never repeat them. An empty response_nonce is a pure subscription change.
 * - With the latest nonce: no error_detail → ACK, else NACK: recorded in `state().nack`, the
 *   new versions (and removals) in that response are marked rejected and not resent until the
 *   resource's content changes; the client keeps its last ACKed versions.
 * - At most one response is un-ACKed; changes meanwhile are coalesced in `pending` (⊆ subscribed).
 * - A request for another type URL, or one that would take the subscription over a name limit
 *   (limits.ts), returns `error` and changes nothing.
 */
import { checkNames, DEFAULT_XDS_LIMITS, type NameLimits } from './limits.js';
import { createNonceSource, unknownTypeUrl, versionInfoOf, type ErrorDetail, type NonceSource, type ResourceSource, type Step, type StreamEvent, type XdsError, type XdsResource } from './protocol.js';
import { REMOVED_VERSION, Subscription, type ProtocolRules, type SubscriptionState, type XdsMachine } from './subscription.js';

export interface DeltaRequest {
  readonly typeUrl: string;
  readonly resourceNamesSubscribe?: readonly string[];
  readonly resourceNamesUnsubscribe?: readonly string[];
  readonly initialResourceVersions?: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly errorDetail?: ErrorDetail | null;
  readonly node?: { readonly id?: string } | null;
}

export interface DeltaResponse {
  /** versionInfoOf the pairs carried, removals as (name, ''); for debugging only. */
  readonly systemVersionInfo: string;
  readonly nonce: string;
  readonly typeUrl: string;
  /** Sent as Resource{name, version, resource: Any(typeUrl, bytes)} (envelope.ts). */
  readonly resources: XdsResource[];
  readonly removedResources: string[];
}

/** Delta reports removals; system_version_info covers only what the response carries. */
const DELTA_RULES: ProtocolRules = {
  signalsRemovals: true,
  versionInfo: (_sub, resources, removed) =>
    versionInfoOf([...resources.map((r) => [r.name, r.version] as const), ...removed.map((n) => [n, REMOVED_VERSION] as const)]),
};

export class DeltaStream implements XdsMachine<DeltaRequest, DeltaResponse> {
  private readonly sub: Subscription;
  private started = false;

  constructor(
    source: ResourceSource,
    nonces: NonceSource = createNonceSource(),
    private readonly limits: NameLimits = DEFAULT_XDS_LIMITS,
  ) {
    this.sub = new Subscription(source, nonces, DELTA_RULES);
  }

  get pending(): ReadonlySet<string> {
    return this.sub.pending;
  }

  onRequest(req: DeltaRequest): Step<DeltaResponse> {
    const sub = this.sub;
    if (req.typeUrl !== sub.typeUrl) return { responses: [], events: [], error: unknownTypeUrl(req.typeUrl, [sub.typeUrl]) };
    const error = this.checkLimits(req);
    if (error) return { responses: [], events: [], error };
    if (req.node?.id) sub.nodeId = req.node.id;
    const events: StreamEvent[] = [];
    if (req.responseNonce !== '') {
      const e = req.responseNonce === sub.lastNonce ? sub.resolve(req.responseNonce, req.errorDetail ?? undefined, undefined) : sub.stale(req.responseNonce);
      if (e) events.push(e);
    }
    // Subscription diffs apply even with a stale nonce: delta clients never repeat them.
    const initial = this.started ? {} : (req.initialResourceVersions ?? {});
    this.started = true;
    for (const n of req.resourceNamesSubscribe ?? []) {
      sub.subscribe(n);
      sub.declareHeld(n, Object.hasOwn(initial, n) ? initial[n] : undefined);
    }
    for (const n of req.resourceNamesUnsubscribe ?? []) sub.unsubscribe(n);
    return { responses: this.flush(), events };
  }

  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<DeltaResponse> {
    this.sub.noteChange(changed, removed);
    return { responses: this.flush(), events: [] };
  }

  isSubscribed(name: string): boolean {
    return this.sub.has(name);
  }

  state(): SubscriptionState {
    return this.sub.state();
  }

  /** The subscription's size once `req`'s diffs are applied, checked before any is. */
  private checkLimits(req: DeltaRequest): XdsError | undefined {
    const subscribe = req.resourceNamesSubscribe ?? [];
    const unsubscribe = new Set(req.resourceNamesUnsubscribe ?? []);
    let total = this.sub.size;
    for (const n of new Set(subscribe)) if (!this.sub.has(n) && !unsubscribe.has(n)) total++;
    for (const n of unsubscribe) if (this.sub.has(n)) total--;
    return checkNames(subscribe, total, this.limits);
  }

  private flush(): DeltaResponse[] {
    const out = this.sub.flush();
    return out ? [{ systemVersionInfo: out.versionInfo, nonce: out.nonce, typeUrl: this.sub.typeUrl, resources: out.resources, removedResources: out.removed }] : [];
  }
}
