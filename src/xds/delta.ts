/**
 * Incremental (delta) xDS stream state machine, one per (gRPC stream, type URL). Pure.
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

/** Marks a rejected removal in `rejected` (content versions are never empty). */
export const REMOVED_VERSION = '';

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
  /** Wrap each as Resource{name, version, resource: anyOf(typeUrl, bytes)}. */
  readonly resources: XdsResource[];
  readonly removedResources: string[];
}

interface InFlight {
  readonly nonce: string;
  readonly systemVersionInfo: string;
  readonly resources: ReadonlyMap<string, string>;
  readonly removed: readonly string[];
}

export interface DeltaState {
  readonly typeUrl: string;
  readonly nodeId: string | undefined;
  readonly subscribed: string[];
  /** Per resource, the version the client has (ACKed, or declared in initial_resource_versions). */
  readonly clientVersions: Record<string, string>;
  readonly lastNonce: string | undefined;
  readonly inFlight: { nonce: string; resources: Record<string, string>; removed: string[] } | undefined;
  readonly pending: string[];
  readonly nack: NackState;
  /** Per resource, the rejected version ('' = a rejected removal). */
  readonly rejected: Record<string, string>;
}

export class DeltaStream {
  private readonly subscribed = new Set<string>();
  private readonly clientHas = new Map<string, string>();
  private readonly rejected = new Map<string, string>();
  private readonly pendingNames = new Set<string>();
  private inFlight: InFlight | undefined;
  private lastNonce: string | undefined;
  private started = false;
  private readonly nack: NackState = emptyNackState();
  private nodeId: string | undefined;

  constructor(
    private readonly source: ResourceSource,
    private readonly nonces: NonceSource = createNonceSource(),
  ) {}

  get pending(): ReadonlySet<string> {
    return this.pendingNames;
  }

  onRequest(req: DeltaRequest): Step<DeltaResponse> {
    if (req.typeUrl !== this.source.typeUrl) {
      return { responses: [], events: [], error: unknownTypeUrl(req.typeUrl, [this.source.typeUrl]) };
    }
    if (req.node?.id) this.nodeId = req.node.id;
    const events: StreamEvent[] = [];
    if (req.responseNonce !== '') {
      if (req.responseNonce === this.lastNonce) this.resolve(req, events);
      else events.push({ kind: 'stale-nonce-ignored', nonce: req.responseNonce, latestNonce: this.lastNonce ?? '' });
    }
    const initial = this.started ? {} : (req.initialResourceVersions ?? {});
    this.started = true;
    for (const n of req.resourceNamesSubscribe ?? []) {
      this.subscribed.add(n);
      this.pendingNames.add(n);
      const v = Object.hasOwn(initial, n) ? initial[n] : undefined;
      if (v !== undefined && v !== REMOVED_VERSION) this.clientHas.set(n, v);
      else this.clientHas.delete(n);
    }
    for (const n of req.resourceNamesUnsubscribe ?? []) {
      this.subscribed.delete(n);
      this.clientHas.delete(n);
      this.rejected.delete(n);
      this.pendingNames.delete(n);
    }
    return { responses: this.flush(), events };
  }

  /** Feed every cache change (cache.subscribe). Names not subscribed are ignored. */
  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<DeltaResponse> {
    for (const n of changed) if (this.subscribed.has(n)) this.pendingNames.add(n);
    for (const n of removed) if (this.subscribed.has(n)) this.pendingNames.add(n);
    return { responses: this.flush(), events: [] };
  }

  state(): DeltaState {
    const f = this.inFlight;
    return {
      typeUrl: this.source.typeUrl,
      nodeId: this.nodeId,
      subscribed: [...this.subscribed].sort(),
      clientVersions: recordOf(this.clientHas),
      lastNonce: this.lastNonce,
      inFlight: f && { nonce: f.nonce, resources: recordOf(f.resources), removed: [...f.removed] },
      pending: [...this.pendingNames].sort(),
      nack: { ...this.nack },
      rejected: recordOf(this.rejected),
    };
  }

  private resolve(req: DeltaRequest, events: StreamEvent[]): void {
    const f = this.inFlight;
    this.inFlight = undefined;
    const err = req.errorDetail ?? undefined;
    if (!err) {
      if (!f) return; // already resolved: a subscription change that repeats the nonce
      for (const [n, v] of f.resources) {
        this.clientHas.set(n, v);
        this.rejected.delete(n);
      }
      for (const n of f.removed) {
        this.clientHas.delete(n);
        this.rejected.delete(n);
      }
      events.push({ kind: 'ack', nonce: f.nonce, versionInfo: f.systemVersionInfo });
      return;
    }
    const rejected: Array<[string, string]> = [];
    for (const [n, v] of f?.resources ?? []) {
      if (this.clientHas.get(n) === v) continue;
      this.rejected.set(n, v);
      rejected.push([n, v]);
    }
    for (const n of f?.removed ?? []) {
      this.rejected.set(n, REMOVED_VERSION);
      rejected.push([n, REMOVED_VERSION]);
    }
    this.nack.count++;
    this.nack.lastMessage = err.message;
    this.nack.lastCode = err.code;
    this.nack.lastNonce = req.responseNonce;
    events.push({ kind: 'nack', nonce: req.responseNonce, versionInfo: this.clientVersionInfo(), code: err.code, message: err.message, rejected });
  }

  private clientVersionInfo(): string {
    return versionInfoOf(this.clientHas);
  }

  private flush(): DeltaResponse[] {
    if (this.inFlight) return [];
    const resources: XdsResource[] = [];
    const removedResources: string[] = [];
    for (const n of [...this.pendingNames].sort()) {
      const r = this.source.get(n);
      const rejected = this.rejected.get(n);
      if (r) {
        if (r.version !== this.clientHas.get(n) && r.version !== rejected) resources.push(r);
      } else if (this.clientHas.has(n) && rejected !== REMOVED_VERSION) {
        removedResources.push(n);
      }
    }
    this.pendingNames.clear();
    if (resources.length === 0 && removedResources.length === 0) return [];
    const pairs = [...resources.map((r) => [r.name, r.version] as const), ...removedResources.map((n) => [n, REMOVED_VERSION] as const)];
    const systemVersionInfo = versionInfoOf(pairs);
    const nonce = this.nonces.next();
    this.inFlight = { nonce, systemVersionInfo, resources: new Map(resources.map((r) => [r.name, r.version])), removed: removedResources };
    this.lastNonce = nonce;
    return [{ systemVersionInfo, nonce, typeUrl: this.source.typeUrl, resources, removedResources }];
  }
}
