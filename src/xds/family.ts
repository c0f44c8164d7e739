/**
 * A family of type URLs that a stream serves besides the RDS cache's, with its own content and
 * state machines: the MCP sink for istiod (src/mcp/) is one. The session (session.ts) hands a
 * request whose type URL the family claims to that type URL's machine, and the family's change
 * notifications to the machines it opened; everything else about the stream (nonces, flow control,
 * callbacks, limits on names and request size) is shared with RDS.
 *
 * The family is defined here, and implemented outside xds/, so that the xDS layer does not depend
 * on what a family serves.
 */
import type { NameLimits } from './limits.js';
import type { NonceSource, Step } from './protocol.js';
import type { SubscriptionState } from './subscription.js';

/** What changed in a family's content: the keys concerned, or 'all'. */
export type FamilyChange = ReadonlySet<string> | 'all';

export interface FamilyMachine<Req, Res> {
  /** The content key whose changes concern this machine (the MCP collection). */
  readonly key: string;
  onRequest(req: Req): Step<Res>;
  /** The content of `key` changed (or the family became ready): respond if the client needs it. */
  onChange(): Step<Res>;
  state(): SubscriptionState;
}

export interface TypeFamily<Req, Res> {
  /** Whether a type URL belongs to the family. */
  serves(typeUrl: string): boolean;
  /** The family's type URLs one stream may open; one more ends the stream (RESOURCE_EXHAUSTED). */
  readonly maxTypesPerStream: number;
  /** A new machine for one (stream, type URL); nonces are the stream's. */
  machine(typeUrl: string, nonces: NonceSource, limits: NameLimits): FamilyMachine<Req, Res>;
  /** Registers a listener of content changes; returns its unsubscribe function. */
  subscribe(listener: (change: FamilyChange) => void): () => void;
}
