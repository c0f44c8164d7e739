/**
 * The commands of `metamesh` and the flags each one takes, as data: the argument parser
 * (args.ts) and the help text (help.ts) are both derived from this table, so a flag cannot be
 * accepted by one command and documented for another.
 */
import { DEFAULT_CATALOG_OPTIONS } from '../catalog/model.js';
import { DEFAULT_INPUT_LIMITS } from '../input/limits.js';
import { DEFAULT_HTTP_LIMITS } from '../runtime/http.js';
import { DEFAULT_KUBE_SYNC_TIMEOUT_MS, DEFAULT_READY_TIMEOUT_MS, DEFAULT_SHUTDOWN_GRACE_MS } from '../runtime/serve.js';
import { formatDuration } from '../runtime/readiness.js';
import { DEFAULT_MESH_CONFIG } from '../store/kubernetes/kinds.js';
import { DEFAULT_XDS_LIMITS, LIMIT_FLAGS, type XdsLimits } from '../xds/limits.js';

const LIMIT_HELP: Readonly<Record<keyof XdsLimits, string>> = {
  maxConnections: 'open xDS connections; one more is closed as soon as it is accepted',
  maxStreamsPerConnection: 'concurrent xDS streams on one connection; one more ends with RESOURCE_EXHAUSTED',
  maxNamesPerStream: 'resource names one stream may subscribe to (and one FetchRoutes may ask for); more end the stream with RESOURCE_EXHAUSTED',
  maxNameLength: 'characters in one resource name; a longer one ends its stream with RESOURCE_EXHAUSTED',
  maxRequestBytes: 'bytes of one xDS request message; a larger one ends its stream with RESOURCE_EXHAUSTED',
};

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given several times (string flags only). */
  readonly multiple?: boolean;
  /** Placeholder for the value in the help text. */
  readonly value?: string;
  /** The accepted values, when they are a fixed set; the first is the default. */
  readonly choices?: readonly string[];
  /** Shown as "(default …)"; for choices, the first choice. */
  readonly default?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: CommandName;
  readonly summary: string;
  readonly description: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Exit codes of this command, in order, with their meaning. */
  readonly exit: readonly (readonly [number, string])[];
  /** The one argument the command takes besides flags, if any (as shown in the usage line). */
  readonly operand?: string;
}

import { DEFAULT_RESCAN_INTERVAL_MS } from '../store/directory.js';

export type CommandName = 'generate' | 'validate' | 'serve' | 'explain';

export const DEFAULT_XDS_ADDRESS = '127.0.0.1:15010';
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';

const FILES: FlagSpec = {
  type: 'string',
  short: 'f',
  multiple: true,
  value: 'file-or-dir',
  help: 'a manifest file, or a directory read recursively for .yaml, .yml and .json files; repeatable; at least one -f or --registry',
};

const REGISTRY: FlagSpec = {
  type: 'string',
  multiple: true,
  value: 'url',
  help: 'a service registry whose services become ServiceEntries: zookeeper://host:port[/chroot][?root=/dubbo&serverset=/path&level=interface|application&namespace=ns] or file://snapshot.yaml; repeatable',
};

/** Where the ServiceEntries generated from registries go (src/registry/namespaces.ts). */
const REGISTRY_NAMESPACE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'registry-namespace': { type: 'string', value: 'namespace', default: 'default', help: 'the namespace of ServiceEntries generated from registries, unless a rule, the registry URL\'s namespace= or the service itself names another' },
  'registry-namespace-rule': {
    type: 'string',
    multiple: true,
    value: 'ns=field:value',
    help: 'put the registry services that match into this namespace: <ns>=application:<app>, <ns>=interface:<prefix>, or both comma-separated; repeatable, the first match wins',
  },
};

/**
 * The input limits (src/input/limits.ts), on every command that reads files. A file over one is
 * skipped with a diagnostic; the defaults suit any real manifest directory.
 */
const INPUT_LIMIT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'max-file-bytes': { type: 'string', value: 'n', default: String(DEFAULT_INPUT_LIMITS.maxFileBytes), help: 'skip a file larger than this many bytes, with MM_INPUT_TOO_LARGE' },
  'max-documents': { type: 'string', value: 'n', default: String(DEFAULT_INPUT_LIMITS.maxDocuments), help: 'skip a file with more YAML documents, with MM_INPUT_TOO_MANY_DOCUMENTS' },
  'max-expanded-bytes': { type: 'string', value: 'n', default: String(DEFAULT_INPUT_LIMITS.maxExpandedBytes), help: 'skip a file whose documents, aliases expanded, are larger, with MM_INPUT_ALIAS_EXPANSION' },
  'max-depth': { type: 'string', value: 'n', default: String(DEFAULT_INPUT_LIMITS.maxDepth), help: 'skip a file nesting mappings and sequences deeper, with MM_INPUT_TOO_DEEP' },
};
/** One flag per xDS limit (src/xds/limits.ts); over a limit only the offending stream or connection ends. */
const XDS_LIMIT_FLAGS: Readonly<Record<string, FlagSpec>> = Object.fromEntries(
  (Object.keys(LIMIT_FLAGS) as Array<keyof XdsLimits>).map((k) => [
    LIMIT_FLAGS[k].slice(2),
    { type: 'string', value: 'n', default: String(DEFAULT_XDS_LIMITS[k]), help: LIMIT_HELP[k] } satisfies FlagSpec,
  ]),
);

const HELP: FlagSpec = { type: 'boolean', short: 'h', help: 'print this help and exit 0' };

const INTERNAL_EXIT = [3, 'internal error (a bug in metamesh, never bad input): one line on standard error; please report it'] as const;
const USAGE_EXIT = [2, 'usage error: an unknown or misplaced flag, a missing value, no -f; nothing was read'] as const;
const VERDICT_EXIT = [
  [0, 'every rule takes effect as written (no error, no "not in effect" warning)'],
  [1, 'at least one error, or a warning that means something you wrote does not take effect (docs/errors.md marks these codes "Not in effect")'],
] as const;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'generate',
    summary: 'print what metamesh would configure for the given manifests',
    description:
      'Reads ServiceEntries, Services, DestinationRules, Gateways, MetaRouters, ApplicationProtocols and a MetameshOptions document and prints what metamesh would configure. -o yaml|json print one document with serviceEntries, envoyFilters, virtualServices, routes and diagnostics; -o manifests prints only the Kubernetes objects to apply, as a multi-document YAML stream (metamesh generate -f dir -o manifests | kubectl apply -f -), with the diagnostics on standard error.',
    flags: {
      filename: FILES,
      registry: REGISTRY,
      ...REGISTRY_NAMESPACE_FLAGS,
      output: { type: 'string', short: 'o', value: 'format', choices: ['yaml', 'json', 'manifests'], help: 'output format' },
      ...INPUT_LIMIT_FLAGS,
      help: HELP,
    },
    exit: [...VERDICT_EXIT, USAGE_EXIT, INTERNAL_EXIT],
  },
  {
    name: 'validate',
    summary: 'check the manifests and print only the diagnostics',
    description:
      'Reads the same manifests as generate and prints the diagnostics, one line each, then a summary that says whether the rules take effect as written. Suited to a CI step: it fails when a rule would not take effect, and with --strict on any warning.',
    flags: {
      filename: FILES,
      registry: REGISTRY,
      ...REGISTRY_NAMESPACE_FLAGS,
      output: { type: 'string', short: 'o', value: 'format', choices: ['text', 'json'], help: 'text: one line per diagnostic and a summary; json: the diagnostics array' },
      strict: { type: 'boolean', help: 'also exit 1 on any warning' },
      ...INPUT_LIMIT_FLAGS,
      help: HELP,
    },
    exit: [VERDICT_EXIT[0], [1, `${VERDICT_EXIT[1][1]}; with --strict, also any warning`], USAGE_EXIT, INTERNAL_EXIT],
  },
  {
    name: 'serve',
    summary: 'serve the RDS route tables over xDS (and, with --mcp, Istio config to istiod) and follow file changes',
    description:
      'Serves the route tables over gRPC (RouteDiscoveryService and AggregatedDiscoveryService, state-of-the-world and delta, RDS; with --mcp also the generated Istio config to istiod over ADS) and HTTP (/healthz, /readyz, /metrics, /debug/xds, /debug/config, /debug/registries, /debug/explain, /debug/sink), with --webhook-address the admission webhook over HTTPS, re-reading the -f paths when they change and following the Kubernetes API with --kubernetes; with --apply it writes the generated objects to that API, with --status the status of MetaRouters and ApplicationProtocols, and with --leader-elect only while it holds the Lease; a file or directory that cannot be read, and a resource whose new version is invalid, keep their last good content (see /readyz). Logs are JSON lines on standard error. SIGINT or SIGTERM stop it gracefully.',
    flags: {
      filename: { ...FILES, help: 'a manifest file or directory to serve and watch; repeatable, and each must exist; at least one -f, --registry or --kubernetes' },
      registry: REGISTRY,
      ...REGISTRY_NAMESPACE_FLAGS,
      'xds-address': { type: 'string', value: 'host:port', default: DEFAULT_XDS_ADDRESS, help: 'where the xDS gRPC server listens (port 0 picks a free one)' },
      'http-address': { type: 'string', value: 'host:port', default: DEFAULT_HTTP_ADDRESS, help: 'where the health and debug HTTP server listens' },
      'tls-cert': { type: 'string', value: 'file', help: 'PEM certificate of the xDS server; with --tls-key, serves TLS. The TLS files are re-read when they change' },
      'tls-key': { type: 'string', value: 'file', help: 'PEM private key of --tls-cert' },
      'tls-ca': { type: 'string', value: 'file', help: 'PEM CA bundle (the mesh root); clients must present a certificate it signed (mutual TLS)' },
      'tls-client-trust-domain': {
        type: 'string',
        multiple: true,
        value: 'domain',
        help: 'with --tls-ca, accept only clients whose certificate carries a SPIFFE id (URI SAN spiffe://<domain>/...) of this trust domain; repeatable (a mesh with several trust domains). Others are refused with PERMISSION_DENIED',
      },
      mcp: {
        type: 'boolean',
        help: "also serve the generated ServiceEntries, EnvoyFilters and VirtualServices to istiod over MCP-over-xDS (ADS, state of the world), on the xDS port or on --mcp-address: istiod's meshConfig configSources: [{address: xds://host:port}], listed before k8s://",
      },
      'mcp-revision': { type: 'string', value: 'rev', help: 'with --mcp, label what istiod gets istio.io/rev=<rev> (for a revisioned istiod; unlabelled objects are taken by every revision)' },
      'mcp-address': {
        type: 'string',
        value: 'host:port',
        help: 'with --mcp, serve MCP on this listener instead of the xDS port (which then serves no MCP): server TLS with --tls-cert (istiod tlsSettings mode SIMPLE), never a client certificate, since istiod presents none. Needed with --tls-ca',
      },
      'mcp-plaintext': { type: 'boolean', help: 'with --mcp-address, serve MCP without TLS even when --tls-cert is given (restrict the port to istiod, e.g. with a NetworkPolicy)' },
      'webhook-address': {
        type: 'string',
        value: 'host:port',
        help: 'serve the validating admission webhook (POST /validate, AdmissionReview v1) for MetaRouters and ApplicationProtocols here, over HTTPS; needs --webhook-tls-cert and --webhook-tls-key',
      },
      'webhook-tls-cert': { type: 'string', value: 'file', help: "PEM certificate of the webhook, for the Service name the API server calls (<service>.<namespace>.svc); re-read when it changes" },
      'webhook-tls-key': { type: 'string', value: 'file', help: 'PEM private key of --webhook-tls-cert' },
      'rescan-interval': { type: 'string', value: 'seconds', default: String(DEFAULT_RESCAN_INTERVAL_MS / 1000), help: 'how often every -f path is read again in full, whatever the file watcher reported; 0 turns it off' },
      'tls-expiry-warning': {
        type: 'string',
        value: 'duration',
        default: '6h',
        help: 'log a warning when the server certificate expires within this time (0s: never)',
      },
      'http-token-file': {
        type: 'string',
        value: 'file',
        help: 'file holding the bearer token /debug/* then require (read at start); without it the debug endpoints are open on a loopback --http-address and disabled on any other',
      },
      'http-host': { type: 'string', multiple: true, value: 'name', help: 'a host name HTTP clients may send in the Host header besides the bound address (and localhost on loopback); repeatable' },
      'http-idle-timeout': { type: 'string', value: 'duration', default: `${DEFAULT_HTTP_LIMITS.idleTimeoutMs / 1000}s`, help: 'an HTTP connection with no traffic this long is closed' },
      'http-max-connections': { type: 'string', value: 'n', default: String(DEFAULT_HTTP_LIMITS.maxConnections), help: 'open HTTP connections at most; more are closed at once' },
      kubernetes: {
        type: 'boolean',
        help: 'also read ServiceEntries, Services, DestinationRules, Gateways, MetaRouters and ApplicationProtocols (and Istio\'s mesh config) from the Kubernetes API, following their changes: with $KUBECONFIG if set, else the pod\'s service account when running in a pod, else ~/.kube/config',
      },
      kubeconfig: { type: 'string', value: 'file', help: 'read the Kubernetes API of this kubeconfig\'s current context (implies --kubernetes)' },
      'mesh-config': {
        type: 'string',
        value: 'namespace/name',
        default: `${DEFAULT_MESH_CONFIG.namespace}/${DEFAULT_MESH_CONFIG.name}`,
        help: 'the ConfigMap holding Istio\'s mesh config (its mesh key), whose trustDomain, rootNamespace, access log and tracing settings metamesh mirrors beneath any MetameshOptions; none: do not read one',
      },
      'kube-sync-timeout': {
        type: 'string',
        value: 'duration',
        default: `${DEFAULT_KUBE_SYNC_TIMEOUT_MS / 1000}s`,
        help: 'at start, how long to wait for every kind to be listed before serving what was read (/readyz stays 503 until all are)',
      },
      apply: {
        type: 'boolean',
        help: 'write the generated ServiceEntries, EnvoyFilters and VirtualServices to the Kubernetes API with server-side apply (labelled app.kubernetes.io/managed-by: metamesh), and delete those no longer generated; nothing is deleted while an input is not synced. Needs --kubernetes or --kubeconfig',
      },
      status: { type: 'boolean', help: 'write status.conditions (Accepted, Programmed) and observedGeneration of every MetaRouter and ApplicationProtocol. Needs --kubernetes or --kubeconfig' },
      'leader-elect': { type: 'boolean', help: 'only the replica holding a coordination.k8s.io Lease writes (--apply, --status); every replica serves xDS' },
      'lease-namespace': { type: 'string', value: 'namespace', default: '$POD_NAMESPACE, else istio-system', help: 'namespace of the leader Lease' },
      'lease-name': { type: 'string', value: 'name', default: 'metamesh', help: 'name of the leader Lease' },
      'field-manager': { type: 'string', value: 'name', default: 'metamesh', help: 'the server-side apply field manager of every write' },
      'allow-mass-deletion': { type: 'boolean', help: 'with --apply, let a pass withdraw more than half of the objects it owns at once (refused by default as MM_SINK_MASS_DELETION); restart without it once done' },
      instance: { type: 'string', value: 'name', default: 'metamesh', help: 'the value of the metamesh.io/instance label on what --apply writes: each metamesh installation in one cluster needs its own' },
      'ready-timeout': {
        type: 'string',
        value: 'duration',
        default: formatDuration(DEFAULT_READY_TIMEOUT_MS),
        help: 'if /readyz is still 503 this long after the start (a registry or Kubernetes kind never read), log a warning and report MM_SERVE_NOT_READY naming it; nothing stops or is withdrawn, /readyz turns 200 once it is read. 0s: never',
      },
      'shutdown-grace': { type: 'string', value: 'duration', default: `${DEFAULT_SHUTDOWN_GRACE_MS / 1000}s`, help: 'on SIGINT or SIGTERM, how long open xDS streams and HTTP requests may finish before they are cut and the process exits' },
      'registry-removal-grace': {
        type: 'string',
        value: 'duration',
        default: `${DEFAULT_CATALOG_OPTIONS.removalGraceMs / 1000}s`,
        help: 'how long a service or instance must be missing from a synced registry before its endpoints are removed (see /debug/registries)',
      },
      'registry-protection-threshold': {
        type: 'string',
        value: 'fraction',
        default: String(DEFAULT_CATALOG_OPTIONS.protectionThreshold),
        help: 'a loss of more than this fraction of a service\'s usable instances, or of a registry\'s services, at once is refused (1: never)',
      },
      'registry-protection-hold': {
        type: 'string',
        value: 'duration',
        default: `${DEFAULT_CATALOG_OPTIONS.protectionHoldMs / 60_000}m`,
        help: 'how long a refused loss is held back before it is taken as intended and applied',
      },
      ...INPUT_LIMIT_FLAGS,
      ...XDS_LIMIT_FLAGS,
      help: HELP,
    },
    exit: [
      [0, 'stopped by SIGINT or SIGTERM, within --shutdown-grace'],
      [1, 'could not start: no usable Kubernetes configuration (with --kubernetes), an address in use, TLS files (of xDS or the webhook) that cannot be served (unreadable, an expired or not yet valid certificate, a key that is not its key, a CA file without certificates), or an unreadable or empty --http-token-file'],
      [2, 'usage error, or an -f path that does not exist; nothing was started'],
    ],
  },
  {
    name: 'explain',
    summary: 'say in sentences what metamesh does for a host or a MetaRouter, and why',
    operand: '<host | namespace/metarouter>',
    description:
      'Explains one host or one MetaRouter in plain sentences. For a host: the ServiceEntry or Service and ports that define it, its protocol and the detection rule that made it so, its address, the MetaRouter that applies (or why none does) and the DestinationRules, the EnvoyFilters generated for it and the workloads they select, its route tables and their routes in order, its gateway listeners, and every diagnostic about these objects with its code (explained in docs/errors.md). For namespace/metarouter: whether it is in effect and for which host and gateways, and if not, why (invalid, shadowed by an older MetaRouter, a host no MetaProtocol service defines, with the nearest hosts). Offline it reads -f and --registry like generate; with --server it asks a running metamesh serve (GET /debug/explain), which also says which proxies hold which version of the route tables and whether they ACKed or NACKed it.',
    flags: {
      filename: FILES,
      registry: REGISTRY,
      ...REGISTRY_NAMESPACE_FLAGS,
      output: { type: 'string', short: 'o', value: 'format', choices: ['text', 'json'], help: 'text: sentences; json: the explanation as data' },
      server: { type: 'string', value: 'url', help: 'ask the metamesh serve listening at this HTTP address (for example http://127.0.0.1:8080) instead of reading files' },
      'http-token-file': { type: 'string', value: 'file', help: 'with --server: the file holding the bearer token of the server (its --http-token-file)' },
      ...INPUT_LIMIT_FLAGS,
      help: HELP,
    },
    exit: [
      [0, 'everything asked about takes effect as written'],
      [1, 'something asked about does not take effect as written (an error or a "not in effect" diagnostic on an object involved, a host that is not MetaProtocol, a MetaRouter applied nowhere, an unknown name, with --server a proxy that NACKed the current routes), or a registry or the server could not be read'],
      USAGE_EXIT,
      INTERNAL_EXIT,
    ],
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
