/**
 * State-of-the-world (SotW) xDS stream state machine, one per (gRPC stream, type URL): a thin
 * adapter that maps SotW requests and responses onto the shared Subscription (subscription.ts),
 * which keeps the ACK/NACK/pending bookkeeping. Pure: the gRPC layer feeds it requests and cache
 * changes and sends whatever responses it returns.
 *
 * Contracts (RDS is a non-wildcard type: resource names are taken literally, an empty list
 * subscribes to nothing):
 * - Nonces come from the stream's NonceSource: unique and increasing per stream.
 * - Once a response has been sent, a request whose response_nonce is not the latest sent nonce is
 *   stale and ignored entirely (event 'stale-nonce-ignored'); the client will send a fresh one for
 *   the latest response. Before any response, every request is accepted.
 * - A request with the latest nonce resolves the in-flight response. As the xDS protocol defines
 *   it, no error_detail → ACK (the client now runs those versions, whatever version_info it
 *   echoes); error_detail set → NACK (recorded in `state().nack`; the versions new in that
 *   response are marked rejected and not resent until the resource's content changes; the last
 *   ACKed versions stay the client's versions). A later request with the same nonce is a
 *   subscription change only.
 * - At most one response is un-ACKed at a time. Changes meanwhile are coalesced in `pending` (a
 *   set of subscribed names, so it never outgrows the subscription) and answered by one response
 *   with the latest versions once the in-flight one is resolved.
 * - A response carries exactly the subscribed, existing resources whose current version the client
 *   does not run yet (differs from its ACKed version) and has not rejected; nothing else, and no
 *   response when there is no such resource (never an empty placeholder). The xDS protocol requires
 *   the complete set in every SotW response only for Listener and Cluster; for RouteConfiguration
 *   (like the incremental variants) a response may carry just the resources that changed, and a
 *   resource left out is neither removed nor reset. One changed route table therefore costs one
 *   resource per stream, not the whole subscription.
 * - A resource removed from the cache is not signalled (SotW cannot for non-wildcard types); the
 *   client keeps it until it unsubscribes.
 * - version_info = versionInfoOf(the (name, version) pairs the client holds once it accepts the
 *   response: its ACKed versions overlaid with the ones carried). A first request whose
 *   version_info equals that hash for the current content (a reconnect) gets no resend.
 * - A request for another type URL, or one that would take the subscription over a name limit
 *   (limits.ts), returns `error` and changes nothing.
 */
import { checkNames, DEFAULT_XDS_LIMITS, type NameLimits } from './limits.js';
import { createNonceSource, unknownTypeUrl, versionInfoOf, type ErrorDetail, type NonceSource, type ResourceSource, type Step, type StreamEvent, type XdsResource } from './protocol.js';
import { Subscription, type ProtocolRules, type SubscriptionState, type XdsMachine } from './subscription.js';

export interface SotwRequest {
  readonly typeUrl: string;
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
  readonly responseNonce: string;
  readonly errorDetail?: ErrorDetail | null;
  readonly node?: { readonly id?: string } | null;
}

export interface SotwResponse {
  readonly versionInfo: string;
  readonly nonce: string;
  readonly typeUrl: string;
  /** Encoded resources, sorted by name: the ones the client does not run yet. */
  readonly resources: XdsResource[];
  /**
   * The type URL of each resource's Any, when it is not `typeUrl` (MCP: every resource is an
   * istio.mcp.v1alpha1.Resource whatever collection the response answers).
   */
  readonly resourceTypeUrl?: string;
}

/** SotW cannot report removals; version_info covers everything the client holds afterwards. */
const SOTW_RULES: ProtocolRules = {
  signalsRemovals: false,
  versionInfo: (sub, resources, removed) => versionInfoOf(sub.heldAfter(resources, removed)),
};

export class SotwStream implements XdsMachine<SotwRequest, SotwResponse> {
  private readonly sub: Subscription;

  constructor(
    source: ResourceSource,
    nonces: NonceSource = createNonceSource(),
    private readonly limits: NameLimits = DEFAULT_XDS_LIMITS,
  ) {
    this.sub = new Subscription(source, nonces, SOTW_RULES);
  }

  /** Subscribed names changed while a response was un-ACKed, awaiting one coalesced response. */
  get pending(): ReadonlySet<string> {
    return this.sub.pending;
  }

  onRequest(req: SotwRequest): Step<SotwResponse> {
    const sub = this.sub;
    if (req.typeUrl !== sub.typeUrl) return { responses: [], events: [], error: unknownTypeUrl(req.typeUrl, [sub.typeUrl]) };
    if (sub.lastNonce !== undefined && req.responseNonce !== sub.lastNonce) return { responses: [], events: [sub.stale(req.responseNonce)] };
    const names = new Set(req.resourceNames);
    const error = checkNames(names, names.size, this.limits);
    if (error) return { responses: [], events: [], error };
    if (req.node?.id) sub.nodeId = req.node.id;
    const events: StreamEvent[] = [];
    const resuming = sub.lastNonce === undefined;
    if (!resuming) {
      const e = sub.resolve(req.responseNonce, req.errorDetail ?? undefined, req.versionInfo);
      if (e) events.push(e);
    }
    this.resubscribe(names);
    if (resuming && req.versionInfo !== '') this.resume(req.versionInfo);
    return { responses: this.flush(), events };
  }

  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<SotwResponse> {
    this.sub.noteChange(changed, removed);
    return { responses: this.flush(), events: [] };
  }

  isSubscribed(name: string): boolean {
    return this.sub.has(name);
  }

  state(): SubscriptionState {
    return this.sub.state();
  }

  /** SotW requests carry the whole subscription: names left out are unsubscribed. */
  private resubscribe(next: ReadonlySet<string>): void {
    for (const n of this.sub.names()) if (!next.has(n)) this.sub.unsubscribe(n);
    for (const n of next) if (!this.sub.has(n)) this.sub.subscribe(n);
  }

  /** Reconnect: the client already runs exactly the current content iff its version_info matches. */
  private resume(versionInfo: string): void {
    const pairs = this.sub.currentPairs();
    if (pairs.length > 0 && versionInfoOf(pairs) === versionInfo) this.sub.resume(pairs, versionInfo);
  }

  private flush(): SotwResponse[] {
    const out = this.sub.flush();
    return out ? [{ versionInfo: out.versionInfo, nonce: out.nonce, typeUrl: this.sub.typeUrl, resources: out.resources }] : [];
  }
}
