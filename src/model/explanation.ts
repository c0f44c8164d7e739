/**
 * What `metamesh explain` answers (src/explain/explain.ts), as plain data: facts, each one sentence
 * a person can read, grouped in sections, and the diagnostics that concern the objects involved.
 * The same object is printed as text by the CLI, as JSON by `-o json`, and served by
 * `GET /debug/explain` of `metamesh serve` (with the proxies' state added).
 */

/** The sections of an explanation, in the order they are printed. */
export const SECTIONS = ['service', 'metarouter', 'destinationrules', 'envoyfilters', 'routes', 'gateways', 'proxies'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Fact {
  readonly section: Section;
  /** The object the fact is about (`Kind ns/name`), when it is one. */
  readonly object?: string;
  readonly sentence: string;
}

/** A diagnostic about one of the objects involved, with where docs/errors.md explains it. */
export interface ExplainedDiagnostic {
  readonly code: string;
  readonly severity: string;
  readonly object: string;
  readonly message: string;
  /** Whether the code means that something written does not take effect (docs/errors.md). */
  readonly notInEffect: boolean;
  /** `docs/errors.md#<code in lower case>`. */
  readonly doc: string;
}

export type Subject =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'metarouter'; readonly ref: string }
  /** Nothing of that name is known; `closeMatches` lists what the query may have meant. */
  | { readonly kind: 'unknown' };

/** One xDS stream's state for one route table (online only). */
export interface ProxyRouteState {
  readonly nodeId: string;
  readonly stream: number;
  readonly routeConfiguration: string;
  /** The version metamesh serves now; absent when it serves no table of that name. */
  readonly currentVersion?: string;
  /** The version the proxy runs (ACKed), if any. */
  readonly heldVersion?: string;
  readonly state: 'acked' | 'nacked' | 'sent' | 'outdated' | 'none' | 'missing';
  /** The stream's last NACK message, for `nacked`. */
  readonly nackMessage?: string;
}

export interface Explanation {
  /** The query as given. */
  readonly query: string;
  readonly subject: Subject;
  /** Whether everything asked about takes effect as written (the exit code is 0 exactly then). */
  readonly inEffect: boolean;
  /** One or two sentences: the answer in short. */
  readonly summary: string;
  readonly facts: readonly Fact[];
  readonly diagnostics: readonly ExplainedDiagnostic[];
  /** The RDS tables involved (sidecar and gateway), which proxies subscribe to. */
  readonly routeConfigurations: readonly string[];
  /** For an unknown subject, or a MetaRouter host that matches no service: the nearest names. */
  readonly closeMatches: readonly string[];
  /** Online only: the proxies subscribed to routeConfigurations, and what they hold. */
  readonly proxies?: readonly ProxyRouteState[];
}
