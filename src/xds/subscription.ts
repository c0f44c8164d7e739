/**
 * What one xDS stream knows about one type URL, shared by the two protocol variants: sotw.ts and
 * delta.ts are thin adapters that turn their requests into calls on a Subscription and its
 * outgoing changes into their responses. Pure: the cache is read through a ResourceSource, nonces
 * come from the stream's NonceSource, and nothing here does I/O.
 *
 * The state, per (stream, type URL):
 * - subscribed: the names the client asked for (RDS is non-wildcard: names are literal);
 * - held: per resource, the version the client runs (ACKed, or declared on a reconnect);
 * - rejected: per resource, the version the client NACKed (REMOVED_VERSION = a rejected removal),
 *   never sent again until the resource's content changes;
 * - pending: subscribed names to look at when the next response may be sent (a set of subscribed
 *   names, so it never outgrows the subscription);
 * - inFlight: the one response sent and not yet ACKed or NACKed (at most one at a time);
 * - nack: the NACK record shown on /debug/xds.
 *
 * Contracts the adapters rely on:
 * - flush() sends nothing while a response is in flight; afterwards it sends, in one response,
 *   every pending name whose current version the client neither holds nor rejected (and, when
 *   removals can be signalled, every held name that no longer exists, unless that removal was
 *   rejected). Nothing to send → no response, never an empty placeholder.
 * - resolve() is called only for the latest nonce: no error → ACK (the carried versions become
 *   held, their rejections are cleared); error → NACK (the carried versions the client does not
 *   already hold become rejected; held versions stay as they were).
 */
import { clip } from '../util/clip.js';
import { emptyNackState, recordOf, type ErrorDetail, type NackState, type NonceSource, type ResourceSource, type Step, type StreamEvent, type XdsResource, versionInfoOf } from './protocol.js';

/** Marks a rejected removal in `rejected` (content versions are never empty). */
export const REMOVED_VERSION = '';

/** A response's content, now in flight: resources to send (sorted by name), names reported removed. */
export interface Dispatched {
  readonly resources: XdsResource[];
  readonly removed: string[];
  readonly nonce: string;
  readonly versionInfo: string;
}

/** A plain snapshot of a Subscription, for tests and the dashboard. */
export interface SubscriptionState {
  readonly typeUrl: string;
  readonly nodeId: string | undefined;
  readonly subscribed: string[];
  /** Per resource, the version the client runs (ACKed, or declared on a reconnect). */
  readonly held: Record<string, string>;
  /** version_info (SotW) or system_version_info (delta) of the last ACKed or resumed response. */
  readonly ackedVersionInfo: string;
  readonly lastNonce: string | undefined;
  readonly inFlight: { nonce: string; versionInfo: string; resources: Record<string, string>; removed: string[] } | undefined;
  readonly pending: string[];
  readonly nack: NackState;
  /** Per resource, the rejected version (REMOVED_VERSION = a rejected removal). */
  readonly rejected: Record<string, string>;
}

/** A protocol adapter over a Subscription, as the gRPC session drives it. */
export interface XdsMachine<Req, Res> {
  onRequest(req: Req): Step<Res>;
  /** Feed every cache change (cache.subscribe). Names not subscribed are ignored. */
  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<Res>;
  isSubscribed(name: string): boolean;
  state(): SubscriptionState;
}

interface InFlight {
  readonly nonce: string;
  readonly versionInfo: string;
  readonly resources: ReadonlyMap<string, string>;
  readonly removed: readonly string[];
}

/**
 * What differs between the variants in the shared bookkeeping. One constant object per variant,
 * shared by every subscription (nothing per stream).
 */
export interface ProtocolRules {
  /** Delta can report removed resources; SotW cannot for a non-wildcard type, so it stays silent. */
  readonly signalsRemovals: boolean;
  /** The version_info / system_version_info of a response about to carry `resources` and `removed`. */
  versionInfo(sub: Subscription, resources: readonly XdsResource[], removed: readonly string[]): string;
}

export class Subscription {
  nodeId: string | undefined;
  private readonly subscribed = new Set<string>();
  private readonly held = new Map<string, string>();
  private readonly rejected = new Map<string, string>();
  private readonly pendingNames = new Set<string>();
  private inFlight: InFlight | undefined;
  private latestNonce: string | undefined;
  private ackedVersionInfo = '';
  private readonly nack: NackState = emptyNackState();

  constructor(
    private readonly source: ResourceSource,
    private readonly nonces: NonceSource,
    private readonly rules: ProtocolRules,
  ) {}

  get typeUrl(): string {
    return this.source.typeUrl;
  }

  /** The nonce of the last response sent; undefined before the first. */
  get lastNonce(): string | undefined {
    return this.latestNonce;
  }

  /** Subscribed names waiting for the next response. */
  get pending(): ReadonlySet<string> {
    return this.pendingNames;
  }

  /** How many names are subscribed. */
  get size(): number {
    return this.subscribed.size;
  }

  has(name: string): boolean {
    return this.subscribed.has(name);
  }

  /** The subscribed names, live: unsubscribing the current name while iterating is safe. */
  names(): IterableIterator<string> {
    return this.subscribed.values();
  }

  /** Adds `name` (or asks again for a subscribed one) and marks it for the next response. */
  subscribe(name: string): void {
    this.subscribed.add(name);
    this.pendingNames.add(name);
  }

  /** Drops `name` and everything known about it: a client that unsubscribes forgets the resource. */
  unsubscribe(name: string): void {
    this.subscribed.delete(name);
    this.held.delete(name);
    this.rejected.delete(name);
    this.pendingNames.delete(name);
  }

  /** The client declares the version it holds (undefined: none), e.g. delta initial_resource_versions. */
  declareHeld(name: string, version: string | undefined): void {
    if (version === undefined || version === REMOVED_VERSION) this.held.delete(name);
    // The client chose this string: clipped, it still differs from every content version (16 hex).
    else this.held.set(name, clip(version));
  }

  /** A reconnecting client runs exactly `pairs`, which a response of `versionInfo` carried. */
  resume(pairs: ReadonlyArray<readonly [string, string]>, versionInfo: string): void {
    for (const [n, v] of pairs) this.held.set(n, v);
    this.ackedVersionInfo = versionInfo;
  }

  /** (name, version) of every subscribed resource that exists and is not rejected. */
  currentPairs(): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    for (const n of this.subscribed) {
      const r = this.source.get(n);
      if (r && this.rejected.get(n) !== r.version) pairs.push([n, r.version]);
    }
    return pairs;
  }

  /** The pairs the client will hold once it accepts a response: held overlaid with what it carries. */
  heldAfter(resources: readonly XdsResource[], removed: readonly string[]): Map<string, string> {
    const pairs = new Map(this.held);
    for (const r of resources) pairs.set(r.name, r.version);
    for (const n of removed) pairs.delete(n);
    return pairs;
  }

  /** Marks the subscribed names among a cache change for the next response. */
  noteChange(changed: Iterable<string>, removed: Iterable<string>): void {
    for (const n of changed) if (this.subscribed.has(n)) this.pendingNames.add(n);
    for (const n of removed) {
      if (!this.subscribed.has(n)) continue;
      if (this.rules.signalsRemovals) this.pendingNames.add(n);
      else this.pendingNames.delete(n);
    }
  }

  /** The event for a request whose nonce is not the latest; nothing changes. */
  stale(nonce: string): StreamEvent {
    return { kind: 'stale-nonce-ignored', nonce, latestNonce: this.latestNonce ?? '' };
  }

  /**
   * ACK (no error) or NACK (error) of the latest response; the caller checked the nonce.
   * `clientVersionInfo` is what the NACK event reports the client still runs: the version_info
   * a SotW client echoes, or (undefined) the hash of the held pairs. A request repeating an
   * already resolved nonce (a subscription change), with or without error_detail, yields no event.
   */
  resolve(nonce: string, error: ErrorDetail | undefined, clientVersionInfo: string | undefined): StreamEvent | undefined {
    const f = this.inFlight;
    this.inFlight = undefined;
    // The nonce was resolved already: a repeat (a subscription change) is neither ACK nor NACK.
    if (!f) return undefined;
    if (!error) {
      // Names unsubscribed since the response was sent are forgotten, whatever the answer.
      for (const [n, v] of f.resources) {
        if (!this.subscribed.has(n)) continue;
        this.held.set(n, v);
        this.rejected.delete(n);
      }
      for (const n of f.removed) {
        this.held.delete(n);
        this.rejected.delete(n);
      }
      this.ackedVersionInfo = f.versionInfo;
      return { kind: 'ack', nonce: f.nonce, versionInfo: f.versionInfo, resources: f.resources, removed: f.removed };
    }
    const rejected: Array<readonly [string, string]> = [];
    for (const [n, v] of f.resources) {
      if (this.held.get(n) === v || !this.subscribed.has(n)) continue;
      this.rejected.set(n, v);
      rejected.push([n, v]);
    }
    for (const n of f.removed) {
      if (!this.subscribed.has(n)) continue;
      this.rejected.set(n, REMOVED_VERSION);
      rejected.push([n, REMOVED_VERSION]);
    }
    this.nack.count++;
    this.nack.lastMessage = error.message;
    this.nack.lastCode = error.code;
    this.nack.lastNonce = nonce;
    return { kind: 'nack', nonce, versionInfo: clientVersionInfo ?? versionInfoOf(this.held), code: error.code, message: error.message, rejected };
  }

  /**
   * Unless a response is in flight: takes the pending names, and if the client lacks any of
   * them, puts the change in flight with the next nonce and the variant's version.
   */
  flush(): Dispatched | undefined {
    if (this.inFlight) return undefined;
    const resources: XdsResource[] = [];
    const removed: string[] = [];
    for (const n of [...this.pendingNames].sort()) {
      const r = this.source.get(n);
      const rejected = this.rejected.get(n);
      if (r) {
        if (r.version !== this.held.get(n) && r.version !== rejected) resources.push(r);
      } else if (this.rules.signalsRemovals && this.held.has(n) && rejected !== REMOVED_VERSION) {
        removed.push(n);
      }
    }
    this.pendingNames.clear();
    if (resources.length === 0 && removed.length === 0) return undefined;
    const versionInfo = this.rules.versionInfo(this, resources, removed);
    const nonce = this.nonces.next();
    this.inFlight = { nonce, versionInfo, resources: new Map(resources.map((r) => [r.name, r.version])), removed };
    this.latestNonce = nonce;
    return { resources, removed, nonce, versionInfo };
  }

  state(): SubscriptionState {
    const f = this.inFlight;
    return {
      typeUrl: this.source.typeUrl,
      nodeId: this.nodeId,
      subscribed: [...this.subscribed].sort(),
      held: recordOf(this.held),
      ackedVersionInfo: this.ackedVersionInfo,
      lastNonce: this.latestNonce,
      inFlight: f && { nonce: f.nonce, versionInfo: f.versionInfo, resources: recordOf(f.resources), removed: [...f.removed] },
      pending: [...this.pendingNames].sort(),
      nack: { ...this.nack },
      rejected: recordOf(this.rejected),
    };
  }
}
