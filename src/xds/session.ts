/**
 * One gRPC xDS stream: feeds its requests and the cache's changes to a typed state machine per
 * type URL (a StreamProtocol's machine, sotw.ts or delta.ts; all sharing the stream's one
 * NonceSource), writes what they return, and reports every event to the XdsCallbacks.
 *
 * - The cache's type URL (RDS) is served, and the type URLs of the stream's family if it has one
 *   (family.ts: the MCP sink on ADS SotW streams), each by its own machine. A request for any
 *   other type URL ends THIS stream with INVALID_ARGUMENT; other streams are unaffected. A stream
 *   that opens more of the family's type URLs than it allows ends with RESOURCE_EXHAUSTED.
 * - Responses are written already encoded (envelope.ts) around the cache's shared resource bytes;
 *   a resource is never re-encoded per stream.
 * - Flow control: when call.write() returns false, nothing more is written until 'drain'. Requests
 *   are not read meanwhile (the call is paused) and cache changes to subscribed names are held as
 *   name sets (so they never outgrow the subscriptions); on 'drain' they are fed to the machines,
 *   whose coalescing sends only the latest versions. The family's changes are held the same way,
 *   as the keys that changed. A session subscribes to its family's changes only once it opens one
 *   of its type URLs (sidecar streams never do).
 * - A request over a name limit (limits.ts) ends THIS stream with RESOURCE_EXHAUSTED.
 * - The node id is clipped (clip.ts) before it is kept or reported.
 * - Callbacks are called in the order callbacks.ts documents.
 */
import type * as grpc from '@grpc/grpc-js';
import { foldChange, type CacheListener, type ResourceCache } from './cache.js';
import type { StreamMode, StreamService, XdsCallbacks } from './callbacks.js';
import { clip } from '../util/clip.js';
import type { FamilyChange, FamilyMachine, TypeFamily } from './family.js';
import { DEFAULT_XDS_LIMITS, GRPC_RESOURCE_EXHAUSTED, type NameLimits } from './limits.js';
import { createNonceSource, GRPC_INVALID_ARGUMENT, unknownTypeUrl, type StreamEvent, type XdsError } from './protocol.js';
import type { RequestWire, StreamProtocol } from './stream-protocol.js';
import type { XdsMachine } from './subscription.js';
import type { StreamInfo } from './stream-info.js';

export type { StreamInfo } from './stream-info.js';

/** A session whatever its variant, as the server keeps it. */
export interface OpenStream {
  readonly id: number;
  readonly service: StreamService;
  readonly mode: StreamMode;
  readonly peer: string;
  readonly connectedAt: string;
  /** Per type URL served on this stream; empty before the first request. */
  info(): StreamInfo[];
  /** Ends the stream from the server side (shutdown). */
  end(): void;
}

export interface SessionOptions<W extends RequestWire, Req, Res extends { readonly nonce: string }> {
  readonly id: number;
  readonly service: StreamService;
  readonly protocol: StreamProtocol<W, Req, Res>;
  readonly call: grpc.ServerDuplexStream<W, Buffer>;
  readonly cache: ResourceCache;
  readonly callbacks: XdsCallbacks;
  readonly onClose: (s: OpenStream) => void;
  /** How the session hears of cache changes: the server's FanOut; the cache itself by default. */
  readonly subscribe?: (listener: CacheListener) => () => void;
  /** Name limits of every subscription on the stream; DEFAULT_XDS_LIMITS by default. */
  readonly limits?: NameLimits;
  /** Type URLs served besides RDS, by the family's own machines (family.ts). */
  readonly family?: TypeFamily<Req, Res> | undefined;
  /** False: the cache's type URL (RDS) is not served, only the family's. Default true. */
  readonly routes?: boolean;
}

export class StreamSession<W extends RequestWire, Req, Res extends { readonly nonce: string }> implements OpenStream {
  readonly id: number;
  readonly service: StreamService;
  readonly connectedAt = new Date().toISOString();
  readonly peer: string;
  private readonly protocol: StreamProtocol<W, Req, Res>;
  private readonly call: grpc.ServerDuplexStream<W, Buffer>;
  private readonly cache: ResourceCache;
  private readonly cb: XdsCallbacks;
  private readonly onClose: (s: OpenStream) => void;
  private readonly limits: NameLimits;
  private nodeId: string | undefined;
  private readonly nonces = createNonceSource();
  private readonly machines = new Map<string, XdsMachine<Req, Res>>();
  private readonly family: TypeFamily<Req, Res> | undefined;
  private readonly routes: boolean;
  private readonly familyMachines = new Map<string, FamilyMachine<Req, Res>>();
  private unsubscribeFamily: (() => void) | undefined;
  private blocked = false;
  /** Cache changes that arrived while blocked, folded together. */
  private held = { changed: new Set<string>(), removed: new Set<string>() };
  /** Family changes that arrived while blocked. */
  private heldFamily: Set<string> | 'all' = new Set();
  private closed = false;
  private opened = false;
  private readonly unsubscribe: () => void;

  constructor(o: SessionOptions<W, Req, Res>) {
    this.id = o.id;
    this.service = o.service;
    this.protocol = o.protocol;
    this.call = o.call;
    this.cache = o.cache;
    this.cb = o.callbacks;
    this.onClose = o.onClose;
    this.limits = o.limits ?? DEFAULT_XDS_LIMITS;
    this.family = o.family;
    this.routes = o.routes ?? true;
    this.peer = peerOf(o.call);
    const subscribe = o.subscribe ?? ((l: CacheListener) => o.cache.subscribe(l));
    this.unsubscribe = this.routes ? subscribe((changed, removed) => this.onCacheChange(changed, removed)) : () => undefined;
    const call = o.call;
    call.on('data', (msg: W) => this.onData(msg));
    call.on('drain', () => this.onDrain());
    // A client that half-closes is done with the stream: finish the call with OK, as a gRPC
    // handler that returns would, instead of leaving it open until the connection drops.
    call.on('end', () => this.finish('client closed the stream'));
    call.on('cancelled', () => this.close('cancelled'));
    call.on('error', (e: Error) => this.close(`error: ${e.message}`));
    call.on('close', () => this.close('closed'));
  }

  get mode(): StreamMode {
    return this.protocol.mode;
  }

  info(): StreamInfo[] {
    const all: Array<[string, { state(): ReturnType<XdsMachine<Req, Res>['state']> }]> = [...this.machines, ...this.familyMachines];
    return all.map(([typeUrl, m]) => {
      const s = m.state();
      return {
        id: this.id,
        service: this.service,
        mode: this.mode,
        peer: this.peer,
        nodeId: s.nodeId ?? this.nodeId,
        connectedAt: this.connectedAt,
        typeUrl,
        subscribed: s.subscribed,
        ackedVersions: s.held,
        nackCount: s.nack.count,
        lastNackMessage: s.nack.lastMessage,
        rejectedVersions: s.rejected,
        sentVersions: s.inFlight?.resources ?? {},
      };
    });
  }

  end(): void {
    this.finish('server shutdown');
  }

  private onData(w: W): void {
    if (this.closed) return;
    if (w.node?.id) this.nodeId = clip(w.node.id);
    if (!this.opened) {
      this.opened = true;
      this.cb.streamOpened?.({ stream: this.id, nodeId: this.nodeId, peer: this.peer, service: this.service, mode: this.mode });
    }
    // A non-aggregated RDS stream may leave type_url empty: it can only mean RDS.
    const typeUrl = w.type_url || (this.service === 'rds' ? this.cache.typeUrl : '');
    const req = this.protocol.request(w, typeUrl, this.cache);
    this.cb.request?.({ stream: this.id, nodeId: this.nodeId, typeUrl, responseNonce: w.response_nonce ?? '', ...this.protocol.requested(req) });
    if (typeUrl !== this.cache.typeUrl || !this.routes) {
      if (this.family?.serves(typeUrl)) return this.onFamilyRequest(this.family, typeUrl, req);
      const served = [...(this.routes ? [this.cache.typeUrl] : []), ...(this.family ? ['Istio config types (MCP)'] : [])];
      return this.fail(typeUrl, unknownTypeUrl(typeUrl || '(empty)', served));
    }
    let m = this.machines.get(typeUrl);
    if (!m) {
      m = this.protocol.machine(this.cache, this.nonces, this.limits);
      this.machines.set(typeUrl, m);
    }
    const step = m.onRequest(req);
    if (step.error) return this.fail(typeUrl, step.error);
    for (const e of step.events) this.report(typeUrl, e);
    this.send(typeUrl, step.responses);
  }

  private onFamilyRequest(family: TypeFamily<Req, Res>, typeUrl: string, req: Req): void {
    let m = this.familyMachines.get(typeUrl);
    if (!m) {
      if (this.familyMachines.size >= family.maxTypesPerStream) {
        const message = `the request would open type URL number ${this.familyMachines.size + 1} on this stream: over the limit of ${family.maxTypesPerStream}`;
        return this.fail(typeUrl, { kind: 'limit-exceeded', grpcCode: GRPC_RESOURCE_EXHAUSTED, message });
      }
      m = family.machine(typeUrl, this.nonces, this.limits);
      this.familyMachines.set(typeUrl, m);
      this.unsubscribeFamily ??= family.subscribe((change) => this.onFamilyChange(change));
    }
    const step = m.onRequest(req);
    if (step.error) return this.fail(typeUrl, step.error);
    for (const e of step.events) this.report(typeUrl, e);
    this.send(typeUrl, step.responses);
  }

  private onFamilyChange(change: FamilyChange): void {
    if (this.closed) return;
    if (this.blocked) {
      if (change === 'all') this.heldFamily = 'all';
      else if (this.heldFamily !== 'all') for (const k of change) this.heldFamily.add(k);
      return;
    }
    for (const [typeUrl, m] of this.familyMachines) {
      if (change === 'all' || change.has(m.key)) this.send(typeUrl, m.onChange().responses);
    }
  }

  private onCacheChange(changed: ReadonlySet<string>, removed: ReadonlySet<string>): void {
    if (this.closed) return;
    if (this.blocked) {
      const subscribed = (names: ReadonlySet<string>) => [...names].filter((n) => [...this.machines.values()].some((m) => m.isSubscribed(n)));
      foldChange(this.held, subscribed(changed), subscribed(removed));
      return;
    }
    for (const [typeUrl, m] of this.machines) this.send(typeUrl, m.onCacheChange(changed, removed).responses);
  }

  private onDrain(): void {
    if (this.closed || !this.blocked) return;
    this.blocked = false;
    this.call.resume();
    const family = this.heldFamily;
    if (family === 'all' || family.size > 0) {
      this.heldFamily = new Set();
      this.onFamilyChange(family);
    }
    const { changed, removed } = this.held;
    if (changed.size === 0 && removed.size === 0) return;
    this.held = { changed: new Set(), removed: new Set() };
    this.onCacheChange(changed, removed);
  }

  private send(typeUrl: string, responses: readonly Res[]): void {
    for (const r of responses) {
      const flowing = this.call.write(this.protocol.encode(r));
      this.cb.responseSent?.({ stream: this.id, nodeId: this.nodeId, typeUrl, nonce: r.nonce, ...this.protocol.sent(r) });
      if (!flowing) {
        // Stop producing until the transport drains; stop reading too, so requests wait with it.
        this.blocked = true;
        this.call.pause();
      }
    }
  }

  /** Each event is built only when a subscriber listens to its hook (`?.` skips the arguments). */
  private report(typeUrl: string, e: StreamEvent): void {
    const { id: stream, nodeId } = this;
    switch (e.kind) {
      case 'ack':
        this.cb.ack?.({ stream, nodeId, typeUrl, nonce: e.nonce, version: e.versionInfo, names: [...e.resources.keys(), ...e.removed] });
        return;
      case 'nack':
        this.cb.nack?.({ stream, nodeId, typeUrl, nonce: e.nonce, version: e.versionInfo, rejected: e.rejected.map(([n]) => n), code: e.code, message: e.message });
        return;
      case 'stale-nonce-ignored':
        this.cb.staleNonce?.({ stream, nodeId, typeUrl, nonce: e.nonce, latestNonce: e.latestNonce });
        return;
    }
  }

  private fail(typeUrl: string, err: XdsError): void {
    const code = err.grpcCode ?? GRPC_INVALID_ARGUMENT;
    this.cb.requestRejected?.({ stream: this.id, nodeId: this.nodeId, peer: this.peer, typeUrl, code, message: err.message });
    this.close(`error sent: ${err.message}`);
    this.call.emit('error', { code, details: err.message });
  }

  /** Closes the session and ends the call with status OK. */
  private finish(reason: string): void {
    if (this.closed) return;
    this.close(reason);
    try {
      this.call.end();
    } catch {
      // the call is already over
    }
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.unsubscribeFamily?.();
    this.cb.streamClosed?.({ stream: this.id, nodeId: this.nodeId, peer: this.peer, reason });
    this.onClose(this);
  }
}

/** The call's peer address, or 'unknown' once the transport is gone (getPeer then throws). */
export function peerOf(call: { getPeer(): string }): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}
