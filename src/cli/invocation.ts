/**
 * What a command line asks for, as plain data: the output of the argument parser (args.ts) and
 * the input of each command.
 */
import type { CatalogOptions } from '../catalog/model.js';
import type { InputLimits } from '../input/limits.js';
import type { RegistryConfig } from '../registry/config.js';
import type { ServiceEntryOptions } from '../serviceentry/generate.js';
import type { XdsLimits } from '../xds/limits.js';
import type { CommandName } from './commands.js';
import type { KubeFlags, McpFlags, WebhookFlags, WriteFlags } from './serve-flags.js';

export interface TlsFlags {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
  /** --tls-expiry-warning in milliseconds, when given. */
  readonly expiryWarningMs: number | undefined;
  /** --tls-client-trust-domain: client SPIFFE ids must be in one of these (none: any the CA signed). */
  readonly clientTrustDomains: readonly string[];
}

export type GenerateFormat = 'yaml' | 'json' | 'manifests';
export type ValidateFormat = 'text' | 'json';
export type ExplainFormat = 'text' | 'json';

export type Invocation =
  | { readonly kind: 'help'; readonly command?: CommandName }
  | { readonly kind: 'version' }
  /** A usage error: `reason` is one line; `command` picks the help the hint points to. */
  | { readonly kind: 'usage'; readonly reason: string; readonly command?: CommandName }
  | ({ readonly kind: 'generate'; readonly files: string[]; readonly output: GenerateFormat; readonly limits: InputLimits } & Registries)
  | ({ readonly kind: 'validate'; readonly files: string[]; readonly output: ValidateFormat; readonly strict: boolean; readonly limits: InputLimits } & Registries)
  | ({ readonly kind: 'serve'; readonly files: string[] } & Registries & ServeFlags)
  | ({ readonly kind: 'explain'; readonly query: string; readonly output: ExplainFormat } & ExplainSource);

/** The registries to read, and where the ServiceEntries made of their services go. */
export interface Registries {
  readonly registries: RegistryConfig[];
  readonly serviceEntries: ServiceEntryOptions;
}

/** Where `explain` looks: files and registries (offline), or a running `metamesh serve`. */
export type ExplainSource =
  | ({ readonly source: 'files'; readonly files: string[]; readonly limits: InputLimits } & Registries)
  | { readonly source: 'server'; readonly server: string; readonly httpTokenFile: string | undefined };

export interface ServeFlags {
  readonly xdsAddress: string;
  readonly httpAddress: string;
  readonly tls: TlsFlags | undefined;
  readonly httpTokenFile: string | undefined;
  readonly httpHostNames: string[];
  /** Undefined when not given: serve() applies its defaults. */
  readonly httpIdleTimeoutMs: number | undefined;
  readonly httpMaxConnections: number | undefined;
  readonly shutdownGraceMs: number | undefined;
  /** --ready-timeout, when given (0: never report). */
  readonly readyTimeoutMs: number | undefined;
  readonly rescanIntervalMs: number | undefined;
  readonly limits: InputLimits;
  /** Only the xDS limits given on the command line; the server's defaults cover the rest. */
  readonly xdsLimits: Partial<XdsLimits>;
  /** Only the outage-policy options given (--registry-removal-grace …); the catalog's defaults cover the rest. */
  readonly catalog: Partial<CatalogOptions>;
  /** --mcp: the MCP sink for istiod (--mcp-revision, --mcp-address, --mcp-plaintext). */
  readonly mcp: McpFlags | undefined;
  /** --webhook-address with its TLS files: the validating admission webhook. */
  readonly webhook: WebhookFlags | undefined;
  /** Read the Kubernetes API too (--kubernetes or --kubeconfig). */
  readonly kubernetes: KubeFlags | undefined;
  /** Write to it (--apply, --status, --leader-elect). */
  readonly writes: WriteFlags | undefined;
}


