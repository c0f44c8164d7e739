/**
 * The state machine of one MCP type URL on one ADS stream (state of the world), as istiod uses it.
 * Pure: the session (src/xds/session.ts) feeds it requests and store changes and sends what it
 * returns.
 *
 * Contracts:
 * - Wildcard: a request without resource names means the whole collection (istiod's); names, if
 *   given, narrow the set to them (checked against the name limits).
 * - Every response is the complete set for its type URL, sorted by name: an object left out is
 *   deleted by istiod. Resources are Anys of istio.mcp.v1alpha1.Resource; the response's
 *   type_url is the request's (`networking.istio.io/v1/ServiceEntry`, …).
 * - The first request is always answered, with an empty set when there is nothing: istiod is not
 *   ready until every type URL it asked for has been answered. While the store is not ready
 *   (sources not read yet) answers wait, so istiod never gets a partial set.
 * - Nonces: a request is taken whatever its response_nonce until the first response (istiod's
 *   first requests carry a timestamp there); afterwards only a request with the latest nonce
 *   counts, any other is stale and ignored.
 * - At most one response in flight. The request with its nonce ACKs it (no error_detail) or NACKs
 *   it (error_detail). Changes meanwhile are answered after it, with the content current then.
 * - A set is sent only when its version_info differs from the one the client ACKed and from the
 *   one it NACKed last (a NACKed set is not sent again until the content changes).
 * - version_info is the hash of the set's (name, metadata.version) pairs: equal content, equal
 *   string, across streams, restarts and replicas.
 */
import type { FamilyMachine, TypeFamily } from '../xds/family.js';
import { checkNames, type NameLimits } from '../xds/limits.js';
import { emptyNackState, recordOf, unknownTypeUrl, versionInfoOf, type NonceSource, type Step, type StreamEvent, type XdsResource } from '../xds/protocol.js';
import type { SotwRequest, SotwResponse } from '../xds/sotw.js';
import type { SubscriptionState } from '../xds/subscription.js';
import type { McpStore } from './store.js';
import { collectionOf, isMcpTypeUrl, MAX_MCP_TYPES_PER_STREAM, MCP_RESOURCE_TYPE_URL } from './types.js';

interface InFlight {
  readonly nonce: string;
  readonly versionInfo: string;
  readonly resources: ReadonlyMap<string, string>;
  readonly removed: readonly string[];
}

export class McpStream implements FamilyMachine<SotwRequest, SotwResponse> {
  readonly key: string;
  private nodeId: string | undefined;
  /** undefined: the whole collection. */
  private names: ReadonlySet<string> | undefined;
  private held = new Map<string, string>();
  private ackedVersionInfo = '';
  private rejected = new Map<string, string>();
  private rejectedVersionInfo: string | undefined;
  private inFlight: InFlight | undefined;
  private lastNonce: string | undefined;
  private answered = false;
  private pending = false;
  private readonly nack = emptyNackState();

  constructor(
    readonly typeUrl: string,
    private readonly store: McpStore,
    private readonly nonces: NonceSource,
    private readonly limits: NameLimits,
  ) {
    this.key = collectionOf(typeUrl);
  }

  onRequest(req: SotwRequest): Step<SotwResponse> {
    if (req.typeUrl !== this.typeUrl) return { responses: [], events: [], error: unknownTypeUrl(req.typeUrl, [this.typeUrl]) };
    if (this.lastNonce !== undefined && req.responseNonce !== this.lastNonce) {
      return { responses: [], events: [{ kind: 'stale-nonce-ignored', nonce: req.responseNonce, latestNonce: this.lastNonce }] };
    }
    const requested = new Set(req.resourceNames);
    const error = checkNames(requested, requested.size, this.limits);
    if (error) return { responses: [], events: [], error };
    if (req.node?.id) this.nodeId = req.node.id;
    const events: StreamEvent[] = [];
    if (this.inFlight) events.push(this.resolve(req));
    const names = requested.size === 0 ? undefined : requested;
    if (!sameNames(names, this.names)) {
      this.names = names;
      this.pending = true;
    }
    if (!this.answered) this.pending = true;
    return { responses: this.flush(), events };
  }

  onChange(): Step<SotwResponse> {
    this.pending = true;
    return { responses: this.flush(), events: [] };
  }

  state(): SubscriptionState {
    const f = this.inFlight;
    return {
      typeUrl: this.typeUrl,
      nodeId: this.nodeId,
      subscribed: this.names ? [...this.names].sort() : [],
      held: recordOf(this.held),
      ackedVersionInfo: this.ackedVersionInfo,
      lastNonce: this.lastNonce,
      inFlight: f && { nonce: f.nonce, versionInfo: f.versionInfo, resources: recordOf(f.resources), removed: [...f.removed] },
      pending: this.pending ? [this.key] : [],
      nack: { ...this.nack },
      rejected: recordOf(this.rejected),
    };
  }

  private resolve(req: SotwRequest): StreamEvent {
    const f = this.inFlight!;
    this.inFlight = undefined;
    const error = req.errorDetail ?? undefined;
    if (!error) {
      this.held = new Map(f.resources);
      this.ackedVersionInfo = f.versionInfo;
      this.rejected.clear();
      this.rejectedVersionInfo = undefined;
      return { kind: 'ack', nonce: f.nonce, versionInfo: f.versionInfo, resources: f.resources, removed: f.removed };
    }
    const rejected: Array<readonly [string, string]> = [];
    for (const [n, v] of f.resources) if (this.held.get(n) !== v) rejected.push([n, v]);
    for (const n of f.removed) rejected.push([n, '']);
    this.rejected = new Map(rejected);
    this.rejectedVersionInfo = f.versionInfo;
    this.nack.count++;
    this.nack.lastMessage = error.message;
    this.nack.lastCode = error.code;
    this.nack.lastNonce = f.nonce;
    return { kind: 'nack', nonce: f.nonce, versionInfo: req.versionInfo || this.ackedVersionInfo, code: error.code, message: error.message, rejected };
  }

  private flush(): SotwResponse[] {
    if (this.inFlight || !this.pending || !this.store.ready) return [];
    this.pending = false;
    const set = this.store.set(this.key);
    const names = this.names;
    const resources: readonly XdsResource[] = names ? set.resources.filter((r) => names.has(r.name)) : set.resources;
    const versionInfo = names ? versionInfoOf(resources.map((r) => [r.name, r.version] as const)) : set.versionInfo;
    if (this.answered && (versionInfo === this.ackedVersionInfo || versionInfo === this.rejectedVersionInfo)) return [];
    const carried = new Map(resources.map((r) => [r.name, r.version]));
    const removed = [...this.held.keys()].filter((n) => !carried.has(n)).sort();
    const nonce = this.nonces.next();
    this.inFlight = { nonce, versionInfo, resources: carried, removed };
    this.lastNonce = nonce;
    this.answered = true;
    return [{ versionInfo, nonce, typeUrl: this.typeUrl, resources: [...resources], resourceTypeUrl: MCP_RESOURCE_TYPE_URL }];
  }
}

function sameNames(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}

/** The MCP sink as a family of type URLs on the xDS server's ADS streams (src/xds/family.ts). */
export function mcpFamily(store: McpStore): TypeFamily<SotwRequest, SotwResponse> {
  return {
    serves: isMcpTypeUrl,
    maxTypesPerStream: MAX_MCP_TYPES_PER_STREAM,
    machine: (typeUrl, nonces, limits) => new McpStream(typeUrl, store, nonces, limits),
    subscribe: (listener) => store.subscribe(listener),
  };
}
