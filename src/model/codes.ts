/**
 * The catalogue of diagnostic codes. Codes are stable: never reuse or rename one, add new ones.
 * docs/errors.md documents each code under a heading of the same name (test/unit/codes.test.ts).
 */

/** How bad a finding is: an error means something was not applied. */
export type Severity = 'error' | 'warning' | 'info';

interface CodeInfo {
  readonly severity: Severity;
  /** One line: what happened. docs/errors.md says what to do about it. */
  readonly summary: string;
  /**
   * Set on warnings that mean "something you wrote does not take effect as written" (a rule, a
   * route, a subset, a gateway entry, a duplicate definition that is ignored). `validate` and
   * `generate` exit 1 on them as on errors. Never set on errors (they always fail) or notes.
   */
  readonly notInEffect?: true;
}

function entry(severity: Severity, summary: string): CodeInfo {
  return { severity, summary };
}

/** A warning whose finding is that part of the input does not take effect (see CodeInfo). */
function notInEffect(summary: string): CodeInfo {
  return { severity: 'warning', summary, notInEffect: true };
}

export const CODES = {
  // Reading input documents.
  MM_INPUT_YAML_SYNTAX: entry('error', 'A YAML document could not be parsed.'),
  MM_INPUT_UNREADABLE: entry('error', 'A file or directory given with -f does not exist or cannot be read.'),
  MM_INPUT_NOT_OBJECT: entry('error', 'A document is not a mapping with apiVersion, kind and metadata.'),
  MM_INPUT_UNKNOWN_KIND: entry('warning', 'A document of a kind metamesh does not read was ignored.'),
  MM_INPUT_WRONG_GROUP: entry('error', 'A kind metamesh reads was given under the wrong API group, so it was ignored.'),
  MM_INPUT_EMPTY: entry('error', 'A file has no YAML documents, or a directory given with -f has no .yaml, .yml or .json files.'),
  MM_INPUT_NO_NAME: entry('error', 'A resource has no metadata.name.'),
  MM_INPUT_DUPLICATE: entry('error', 'Two resources share kind, namespace and name; one was ignored.'),
  MM_INPUT_FIELD_TYPE: entry('error', 'A field has the wrong type; the field (or the object) was ignored.'),
  MM_INPUT_UNKNOWN_FIELD: entry('error', 'A field metamesh does not know (a typo?) was found in a MetaRouter, ApplicationProtocol or MetameshOptions.'),
  MM_INPUT_NOT_REGULAR: entry('warning', 'A FIFO, socket or device where a manifest file was expected was skipped without being opened.'),
  MM_INPUT_SYMLINK_LOOP: entry('warning', 'A symbolic link to a directory that contains it was not followed.'),
  MM_INPUT_TOO_LARGE: entry('error', 'A file (or an object read from the Kubernetes API) is larger than the byte limit per file; it was skipped.'),
  MM_INPUT_TOO_MANY_DOCUMENTS: entry('error', 'A file has more YAML documents than the limit per file; it was skipped.'),
  MM_INPUT_ALIAS_EXPANSION: entry('error', 'The YAML aliases of a file expand beyond the limit (or without end); it was skipped.'),
  MM_INPUT_TOO_DEEP: entry('error', 'A file (or an object read from the Kubernetes API) nests mappings and sequences deeper than the limit; it was skipped.'),
  MM_OPTIONS_INVALID: entry('error', 'A metamesh option is invalid; its default was used.'),
  MM_OPTIONS_DUPLICATE: entry('error', 'More than one MetameshOptions document was given.'),

  // What `metamesh serve` keeps in effect when its sources fail or change badly.
  MM_SOURCE_STALE: entry('warning', 'A source being served (a file, a directory, a kind read from the Kubernetes API) cannot be read, parsed or watched now; its last good content stays in effect.'),
  MM_KUBE_NOT_SYNCED: entry('warning', 'A kind read from the Kubernetes API has not been listed yet (API server unreachable, CRD missing, access forbidden); none of its objects are served.'),
  MM_RESOURCE_LAST_GOOD: entry('warning', 'A resource\'s new version is invalid or unreadable; its last valid version stays in effect.'),
  MM_SERVE_NOT_READY: entry('warning', 'metamesh serve was still not ready at --ready-timeout: a registry or Kubernetes kind has not been read (and applied) once; /readyz answers 503 until it is.'),

  // Protocols and detection.
  MM_PROTOCOL_INVALID: entry('error', 'An ApplicationProtocol lacks a valid protocol or codec.'),
  MM_PROTOCOL_CONFLICT: entry('error', 'Two ApplicationProtocols define one protocol with different codecs.'),
  MM_PROTOCOL_OVERRIDE: entry('info', 'An ApplicationProtocol overrides a built-in protocol.'),
  MM_DETECT_UNKNOWN_PROTOCOL: entry('error', 'A port names a MetaProtocol application protocol that is not known.'),
  MM_DETECT_INCOMPLETE_PORT_NAME: entry('error', 'A port is named tcp-metaprotocol without an application protocol.'),
  MM_DETECT_CONFLICT: notInEffect('A port name and its appProtocol name different protocols.'),

  // Services.
  MM_SERVICE_NO_HOSTS: entry('error', 'A ServiceEntry with MetaProtocol ports has no hosts.'),
  MM_SERVICE_INVALID_HOST: entry('error', 'A service host is not a valid DNS name.'),
  MM_SERVICE_DUPLICATE_HOST: notInEffect('Two services define the same host and port; one was used.'),
  MM_SERVICE_MULTIPLE_HOSTS: entry('info', 'A ServiceEntry has several hosts; only the first gets sidecar patches.'),
  MM_SERVICE_VIP_ALLOCATED: entry('info', 'A ServiceEntry without addresses was given a virtual IP.'),
  MM_SERVICE_VIP_EXHAUSTED: entry('error', 'No free virtual IP was left for a ServiceEntry.'),
  MM_SERVICE_VIP_REALLOCATED: entry('warning', 'A virtual IP metamesh allocated earlier could not be kept (outside vipCidr, or now used elsewhere); another was allocated.'),
  MM_SERVICE_ISTIO_ADDRESS: entry('info', "A ServiceEntry without spec.addresses uses the address istiod allocated to it (status.addresses)."),
  MM_SERVICE_NO_ADDRESS: entry('warning', 'A service has no address, so no outbound patch can be scoped to it.'),
  MM_SERVICEENTRY_INVALID: entry('error', 'Istio would reject a ServiceEntry, so metamesh treats it as absent.'),
  MM_SERVICEENTRY_WARNING: entry('warning', 'istiod accepts a ServiceEntry but warns about it.'),
  MM_SERVICE_RESOLUTION: entry('warning', 'A ServiceEntry with resolution NONE cannot carry MetaProtocol routes.'),

  // Sidecar and gateway patches.
  MM_INBOUND_NO_SELECTOR: entry('warning', 'No workload selector could be derived, so no inbound patch was made.'),
  MM_INBOUND_BAD_SELECTOR: entry('error', 'The workloadSelector annotation of a ServiceEntry is malformed.'),
  MM_INBOUND_NAMED_TARGET_PORT: entry('warning', 'A Service targets a named container port, so no inbound patch was made.'),
  MM_GATEWAY_NOT_FOUND: notInEffect('A MetaRouter names a Gateway that does not exist.'),
  MM_GATEWAY_NO_SERVER: notInEffect('A Gateway has no MetaProtocol server for a MetaRouter.'),
  MM_GATEWAY_CONFLICT: notInEffect('Several MetaRouters claim one gateway port; one was used.'),
  MM_MESH_WIDE_OUTBOUND: entry('info', 'Outbound patches apply to every sidecar because the proxy selector is empty.'),

  // MetaRouter association and validation.
  MM_ROUTER_NO_SERVICE: notInEffect('A MetaRouter host matches no MetaProtocol service.'),
  MM_ROUTER_CONFLICT: notInEffect('Several MetaRouters target one host; the oldest one applies.'),
  MM_ROUTER_HOSTS: entry('error', 'A MetaRouter must have exactly one valid host.'),
  MM_ROUTER_EMPTY: entry('error', 'A MetaRouter has no routes and no rate limit.'),
  MM_ROUTER_MATCH: entry('error', 'A match attribute is empty, has several matchers, or a regex that is not valid RE2.'),
  MM_ROUTER_MUTATION: entry('error', 'A request or response mutation has an empty key or value.'),
  MM_ROUTER_DESTINATION: entry('error', 'A route destination is missing, or has an invalid host, subset, port or weight.'),
  MM_ROUTER_WEIGHTS: entry('error', 'The weights of a route with several destinations do not sum to 100.'),
  MM_ROUTER_MIRROR: entry('error', 'A mirror is invalid, or mirrorPercentage is given without mirror or out of (0, 100].'),
  MM_ROUTER_EXPORT_TO: entry('error', 'exportTo has duplicates, or "*" next to other namespaces, or invalid names.'),
  MM_ROUTER_GATEWAYS: entry('error', 'A gateways entry is not a valid Gateway reference.'),
  MM_ROUTER_NULL_MATCH: notInEffect('A match attribute is null, which gives no matcher: the attribute was ignored.'),
  MM_ROUTER_GATEWAY_ONLY: entry('warning', 'A MetaRouter lists gateways but not mesh, so sidecars do not get it.'),
  MM_ROUTER_UNREACHABLE_ROUTE: notInEffect('A route can never match because an earlier route matches everything it does.'),
  MM_ROUTER_UNROUTABLE_ATTRIBUTE: notInEffect("A match uses an attribute the service's protocol does not expose."),
  MM_ROUTER_MUTATION_IGNORED: notInEffect("Mutations have no effect with the service's codec."),
  MM_ROUTER_UNKNOWN_SUBSET: notInEffect('A destination names a subset no DestinationRule defines.'),
  MM_ROUTER_NOT_APPLIED: entry('error', 'A MetaRouter was not applied because of the errors reported on it.'),
  MM_RATELIMIT_LOCAL: entry('error', 'A local rate limit is invalid.'),
  MM_RATELIMIT_GLOBAL: entry('error', 'A global rate limit is invalid.'),
  MM_RATELIMIT_NO_TIMEOUT: entry('info', 'A global rate limit has no requestTimeout; the data-plane default applies.'),
  MM_DESTINATIONRULE_INVALID: entry('error', 'Istio would reject a DestinationRule, so metamesh treats it as absent.'),
  MM_DESTINATIONRULE_CONFLICT: notInEffect('Several DestinationRules target one host; the oldest one applies.'),

  // Registries (ZooKeeper, Nacos): records that cannot be read are skipped, never thrown.
  MM_REGISTRY_BAD_ENCODING: entry('warning', 'A registry node name is not valid URL encoding; the record was skipped.'),
  MM_REGISTRY_BAD_RECORD: entry('warning', 'A registry record is malformed or incomplete (bad JSON, no host or port, a bad weight); it was skipped or repaired.'),
  MM_REGISTRY_OVERSIZED: entry('warning', 'A registry node\'s data or name is over the size limit; it was ignored unread.'),
  MM_REGISTRY_TOO_MANY: entry('warning', 'A registry service has more instances than the limit; the rest were dropped.'),
  MM_REGISTRY_TOO_MANY_SERVICES: entry('warning', 'A registry lists more services than the limit; the rest were not read.'),
  MM_REGISTRY_NOT_METAPROTOCOL: entry('info', 'A registered provider speaks a protocol that is not a MetaProtocol one (Triple, gRPC, REST); it gets no MetaProtocol service.'),
  MM_REGISTRY_PROTOCOL_MIXED: entry('warning', 'Instances of one registry service registered different protocols; those of the minority were left out.'),
  MM_REGISTRY_LOCAL_METADATA: entry('info', 'A Dubbo 3 application keeps its metadata locally, so its interfaces were inferred from the mapping and service definitions.'),

  // Registries and the catalog: merging them and the outage policy (src/catalog/).
  MM_REGISTRY_UNAVAILABLE: entry('warning', 'A registry is not synced (connecting, disconnected, expired or failing); its last-known services are kept unchanged.'),
  MM_CATALOG_REMOVAL_PENDING: entry('info', 'Services or instances missing from a synced registry are kept until the removal grace period is over.'),
  MM_CATALOG_PROTECTED: entry('warning', 'A registry lost most of a service\'s usable instances, or most of its services, at once; the previous ones are kept.'),
  MM_CATALOG_PROTECTION_RELEASED: entry('info', 'A refused loss recovered, or lasted the protection hold and was applied.'),
  MM_CATALOG_HOST_MERGED: entry('info', 'Several registries (or services) give the same host and protocol; their instances were merged.'),
  MM_CATALOG_HOST_CONFLICT: notInEffect('Several registries (or services) give the same host with different protocols; one was used.'),

  // ServiceEntries generated from the catalog (src/serviceentry/generate.ts).
  MM_SERVICEENTRY_LABEL_FIXED: entry('warning', 'Registry labels that are not valid Kubernetes labels were fixed or dropped on generated endpoints.'),
  MM_SERVICEENTRY_NO_ENDPOINTS: entry('warning', 'A registry service has no enabled, healthy instance with a weight, so its ServiceEntry has no endpoints (or none was generated).'),
  MM_SERVICEENTRY_NAMESPACE: entry('warning', 'A namespace a registry or a rule asks for is not a valid namespace name; the next choice was used.'),
  MM_SERVICEENTRY_ENDPOINT_SKIPPED: entry('warning', 'Registry instances that cannot be ServiceEntry endpoints (not an IP address, a bad port, over 4096) were left out.'),

  // The Kubernetes apply sink's plan (src/sink/plan.ts): what it writes, and what it refuses to.
  MM_SINK_CONFLICT: entry('error', 'An object metamesh generates has the name of an object it does not own; neither was written.'),
  MM_SINK_ADOPTED: entry('info', 'An object labelled managed-by metamesh without an instance label was taken over by this instance.'),
  MM_SINK_NOT_READY: entry('warning', 'An input has never been read completely, so the sink wrote nothing.'),
  MM_SINK_DELETIONS_HELD: entry('warning', 'An input is not synced, so the sink held every deletion.'),
  MM_SINK_MASS_DELETION: entry('warning', 'The sink refused to withdraw more than the guard allows of its objects at once.'),
  MM_SINK_WRITE_FAILED: entry('error', 'The API server refused a write of the apply sink (forbidden, invalid, or changed by someone else at every try).'),
  MM_STATUS_WRITE_FAILED: entry('error', 'The API server refused the status write of a MetaRouter or ApplicationProtocol.'),

  // The TLS files of `metamesh serve` (--tls-cert, --tls-key, --tls-ca).
  MM_TLS_UNREADABLE: entry('error', 'A TLS file cannot be read, or is not a regular file.'),
  MM_TLS_NO_CERTIFICATE: entry('error', 'A certificate or CA file holds no PEM certificate.'),
  MM_TLS_BAD_PEM: entry('error', 'A certificate or private key in a TLS file does not parse.'),
  MM_TLS_KEY_MISMATCH: entry('error', 'The private key is not the key of the server certificate.'),
  MM_TLS_CERT_EXPIRED: entry('error', 'The server certificate has expired.'),
  MM_TLS_CERT_NOT_YET_VALID: entry('error', 'The server certificate is not valid yet.'),
  MM_TLS_CERT_EXPIRING: entry('warning', 'The server certificate expires within the warning window.'),
  // The MCP sink: generated objects served to istiod over MCP-over-xDS (`serve --mcp`).
  MM_MCP_NOT_SERVED: entry('error', 'A generated object cannot be served to istiod over MCP (no <namespace>/<name>, a kind the sink does not serve, generated twice).'),
  MM_MCP_NOT_ENCODABLE: entry('error', 'A generated object does not fit its Istio API message (an unknown field, a wrong type); its last encodable version, or nothing, is served to istiod.'),
  // Reading a ZooKeeper registry.
  MM_ZK_NODE_TOO_LARGE: entry('warning', 'A ZooKeeper node holds more data than metamesh reads from one node; it was not read.'),
  MM_ZK_TOO_MANY_CHILDREN: entry('warning', 'A ZooKeeper node has more children than metamesh lists under one node; nothing below it was read.'),
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** Whether a diagnostic with this code means that something in the input does not take effect. */
export function isNotInEffect(code: Code): boolean {
  const info: CodeInfo = CODES[code];
  return info.notInEffect === true;
}
