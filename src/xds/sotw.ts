/**
 * State-of-the-world (SotW) xDS stream state machine, one per (gRPC stream, type URL). Pure: the
 * gRPC layer feeds it requests and cache changes and sends whatever responses it returns.
 *
 * Contracts (RDS is a non-wildcard type: resource names are taken literally, an empty list
 * subscribes to nothing):
 * - Nonces come from the stream's NonceSource: unique and increasing per stream.
 * - Once a response has been sent, a request whose response_nonce is not the latest sent nonce is
 *   stale and ignored entirely (event 'stale-nonce-ignored'); the client will send a fresh one for
 *   the latest response. Before any response, every request is accepted.
 * - A request with the latest nonce resolves the in-flight response. As the xDS protocol defines it,
 *   no error_detail → ACK (the client now runs those versions, whatever version_info it echoes);
 *   error_detail set → NACK (recorded
 *   in `state().nack`; the versions new in that response are marked rejected and not resent until
 *   the resource's content changes; the last ACKed versions stay the client's versions).
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
 * - A request for another type URL returns `error` and changes nothing.
 */
import {
  createNonceSource,
  emptyNackState,
  recordOf,
  unknownTypeUrl,
  versionInfoOf,
  type ErrorDetail,
  type NackState,
  type NonceSource,
  type ResourceSource,
  type Step,
  type StreamEvent,
  type XdsResource,
} from './protocol.js';

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
}

interface InFlight {
  readonly nonce: string;
  readonly versionInfo: string;
  readonly resources: ReadonlyMap<string, string>;
}

export interface SotwState {
  readonly typeUrl: string;
  readonly nodeId: string | undefined;
  readonly subscribed: string[];
  /** Per resource, the version the client last ACKed. */
  readonly acked: Record<string, string>;
  readonly ackedVersionInfo: string;
  readonly lastNonce: string | undefined;
  readonly inFlight: { nonce: string; versionInfo: string; resources: Record<string, string> } | undefined;
  readonly pending: string[];
  readonly nack: NackState;
  /** Per resource, the version the client rejected (cleared when a later version is ACKed). */
  readonly rejected: Record<string, string>;
}

export class SotwStream {
  private readonly subscribed = new Set<string>();
  private readonly acked = new Map<string, string>();
  private readonly rejected = new Map<string, string>();
  private readonly pendingNames = new Set<string>();
  private inFlight: InFlight | undefined;
  private lastNonce: string | undefined;
  private ackedVersionInfo = '';
  private readonly nack: NackState = emptyNackState();
  private nodeId: string | undefined;

  constructor(
    private readonly source: ResourceSource,
    private readonly nonces: NonceSource = createNonceSource(),
  ) {}

  /** Subscribed names changed while a response was un-ACKed, awaiting one coalesced response. */
  get pending(): ReadonlySet<string> {
    return this.pendingNames;
  }

  onRequest(req: SotwRequest): Step<SotwResponse> {
    if (req.typeUrl !== this.source.typeUrl) {
      return { responses: [], events: [], error: unknownTypeUrl(req.typeUrl, [this.source.typeUrl]) };
    }
    if (this.lastNonce !== undefined && req.responseNonce !== this.lastNonce) {
      return { responses: [], events: [{ kind: 'stale-nonce-ignored', nonce: req.responseNonce, latestNonce: this.lastNonce }] };
    }
    if (req.node?.id) this.nodeId = req.node.id;
    const events: StreamEvent[] = [];
    const resuming = this.lastNonce === undefined;
    if (!resuming) this.resolve(req, events);
    this.resubscribe(req.resourceNames);
    if (resuming && req.versionInfo !== '') this.resume(req.versionInfo);
    return { responses: this.flush(), events };
  }

  /** Feed every cache change (cache.subscribe). Names not subscribed are ignored. */
  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<SotwResponse> {
    for (const n of changed) if (this.subscribed.has(n)) this.pendingNames.add(n);
    for (const n of removed) this.pendingNames.delete(n);
    return { responses: this.flush(), events: [] };
  }

  state(): SotwState {
    const f = this.inFlight;
    return {
      typeUrl: this.source.typeUrl,
      nodeId: this.nodeId,
      subscribed: [...this.subscribed].sort(),
      acked: recordOf(this.acked),
      ackedVersionInfo: this.ackedVersionInfo,
      lastNonce: this.lastNonce,
      inFlight: f && { nonce: f.nonce, versionInfo: f.versionInfo, resources: recordOf(f.resources) },
      pending: [...this.pendingNames].sort(),
      nack: { ...this.nack },
      rejected: recordOf(this.rejected),
    };
  }

  /** ACK or NACK of the latest response (the caller checked the nonce). */
  private resolve(req: SotwRequest, events: StreamEvent[]): void {
    const f = this.inFlight;
    this.inFlight = undefined;
    const err = req.errorDetail ?? undefined;
    if (!err && f) {
      for (const [n, v] of f.resources) {
        this.acked.set(n, v);
        this.rejected.delete(n);
      }
      this.ackedVersionInfo = f.versionInfo;
      events.push({ kind: 'ack', nonce: f.nonce, versionInfo: f.versionInfo });
      return;
    }
    if (!err) return; // a later request on an already-resolved nonce: subscription change only
    const detail = err;
    const rejected: Array<[string, string]> = [];
    for (const [n, v] of f?.resources ?? []) {
      if (this.acked.get(n) === v) continue;
      this.rejected.set(n, v);
      rejected.push([n, v]);
    }
    this.nack.count++;
    this.nack.lastMessage = detail.message;
    this.nack.lastCode = detail.code;
    this.nack.lastNonce = req.responseNonce;
    events.push({ kind: 'nack', nonce: req.responseNonce, versionInfo: req.versionInfo, code: detail.code, message: detail.message, rejected });
  }

  private resubscribe(names: readonly string[]): void {
    const next = new Set(names);
    for (const n of this.subscribed) {
      if (next.has(n)) continue;
      this.subscribed.delete(n);
      this.acked.delete(n);
      this.rejected.delete(n);
      this.pendingNames.delete(n);
    }
    for (const n of next) {
      if (this.subscribed.has(n)) continue;
      this.subscribed.add(n);
      this.pendingNames.add(n);
    }
  }

  /** Reconnect: the client already runs exactly the current content iff its version_info matches. */
  private resume(versionInfo: string): void {
    const pairs = this.currentPairs();
    if (pairs.length === 0 || versionInfoOf(pairs) !== versionInfo) return;
    for (const [n, v] of pairs) this.acked.set(n, v);
    this.ackedVersionInfo = versionInfo;
  }

  private currentPairs(): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    for (const n of this.subscribed) {
      const r = this.source.get(n);
      if (r && this.rejected.get(n) !== r.version) pairs.push([n, r.version]);
    }
    return pairs;
  }

  private flush(): SotwResponse[] {
    if (this.inFlight) return [];
    const carried: XdsResource[] = [];
    for (const n of [...this.pendingNames].sort()) {
      const r = this.source.get(n);
      if (r && r.version !== this.acked.get(n) && r.version !== this.rejected.get(n)) carried.push(r);
    }
    this.pendingNames.clear();
    if (carried.length === 0) return [];
    const held = new Map(this.acked);
    for (const r of carried) held.set(r.name, r.version);
    const versionInfo = versionInfoOf(held);
    const nonce = this.nonces.next();
    this.inFlight = { nonce, versionInfo, resources: new Map(carried.map((r) => [r.name, r.version])) };
    this.lastNonce = nonce;
    return [{ versionInfo, nonce, typeUrl: this.source.typeUrl, resources: carried }];
  }
}
