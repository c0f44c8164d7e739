{{/*
Names, labels and the `metamesh serve` arguments, in one place. Every flag rendered here is a flag
of `metamesh serve` (src/cli/commands.ts); test/integration/helm.test.ts parses the rendered
arguments with metamesh's own parser.
*/}}

{{- define "metamesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "metamesh.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "metamesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The selector: stable across upgrades, so never the chart version. */}}
{{- define "metamesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metamesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The chart's own objects are managed by Helm, never labelled managed-by: metamesh: that label marks
what metamesh generates, which its apply sink may prune.
*/}}
{{- define "metamesh.labels" -}}
helm.sh/chart: {{ include "metamesh.chart" . }}
{{ include "metamesh.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: control-plane
app.kubernetes.io/part-of: metamesh
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "metamesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "metamesh.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "metamesh.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The port istiod's configSources entry names: sinks.mcp.port, or the xDS port. */}}
{{- define "metamesh.mcpPort" -}}
{{- if kindIs "invalid" .Values.sinks.mcp.port }}{{ .Values.xdsPort }}{{ else }}{{ .Values.sinks.mcp.port }}{{ end -}}
{{- end }}

{{/* The Service's DNS names, shortest first. */}}
{{- define "metamesh.serviceHosts" -}}
{{- $svc := include "metamesh.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson }}
{{- end }}

{{/* Whether the pod talks to the Kubernetes API at all (then, and only then, a token is mounted). */}}
{{- define "metamesh.usesApi" -}}
{{- if or .Values.sources.kubernetes.enabled .Values.sinks.apply.enabled .Values.status.enabled .Values.leaderElection.enabled -}}
true
{{- end -}}
{{- end }}

{{/* host:port for a listen flag; an IPv6 host is bracketed. */}}
{{- define "metamesh.listen" -}}
{{- $host := index . 0 -}}
{{- if contains ":" $host }}[{{ $host }}]:{{ index . 1 }}{{ else }}{{ $host }}:{{ index . 1 }}{{ end }}
{{- end }}

{{/* Value keys of `limits` → the serve flag each one sets. */}}
{{- define "metamesh.limitFlags" -}}
xdsMaxConnections: --xds-max-connections
xdsMaxStreamsPerConnection: --xds-max-streams-per-connection
xdsMaxNamesPerStream: --xds-max-names-per-stream
xdsMaxNameLength: --xds-max-name-length
xdsMaxRequestBytes: --xds-max-request-bytes
maxFileBytes: --max-file-bytes
maxDocuments: --max-documents
maxExpandedBytes: --max-expanded-bytes
maxDepth: --max-depth
{{- end }}

{{/*
The container's arguments, as a JSON list. Paths are where the pod template mounts each volume.
*/}}
{{- define "metamesh.args" -}}
{{- $args := list "serve" -}}
{{- if .Values.sources.files.enabled }}
{{- $args = concat $args (list "-f" "/etc/metamesh/config") -}}
{{- range .Values.sources.files.existingConfigMaps }}
{{- $args = concat $args (list "-f" (printf "/etc/metamesh/configmaps/%s" .)) -}}
{{- end }}
{{- end }}
{{- range .Values.registries }}
{{- $args = concat $args (list "--registry" .) -}}
{{- end }}
{{- with .Values.registryPolicy }}
{{- if .removalGrace }}
{{- $args = concat $args (list "--registry-removal-grace" .removalGrace) -}}
{{- end }}
{{- if ne (toString .protectionThreshold) "" }}
{{- $args = concat $args (list "--registry-protection-threshold" (toString .protectionThreshold)) -}}
{{- end }}
{{- if .protectionHold }}
{{- $args = concat $args (list "--registry-protection-hold" .protectionHold) -}}
{{- end }}
{{- if .namespace }}
{{- $args = concat $args (list "--registry-namespace" .namespace) -}}
{{- end }}
{{- range .namespaceRules }}
{{- $args = concat $args (list "--registry-namespace-rule" .) -}}
{{- end }}
{{- end }}
{{- if .Values.sinks.mcp.enabled }}
{{- $args = append $args "--mcp" -}}
{{- if .Values.sinks.mcp.revision }}
{{- $args = concat $args (list "--mcp-revision" .Values.sinks.mcp.revision) -}}
{{- end }}
{{- if not (kindIs "invalid" .Values.sinks.mcp.port) }}
{{- $args = concat $args (list "--mcp-address" (include "metamesh.listen" (list .Values.bindAddress .Values.sinks.mcp.port))) -}}
{{- if .Values.sinks.mcp.plaintext }}
{{- $args = append $args "--mcp-plaintext" -}}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.webhook.enabled }}
{{- $args = concat $args (list "--webhook-address" (include "metamesh.listen" (list .Values.bindAddress .Values.webhook.targetPort))) -}}
{{- $args = concat $args (list "--webhook-tls-cert" "/etc/metamesh/webhook-tls/tls.crt" "--webhook-tls-key" "/etc/metamesh/webhook-tls/tls.key") -}}
{{- end }}
{{- if .Values.sources.kubernetes.enabled }}
{{- $mc := .Values.sources.kubernetes.meshConfig }}
{{- $args = concat $args (list "--kubernetes" "--mesh-config" (printf "%s/%s" $mc.namespace $mc.name)) -}}
{{- end }}
{{- if .Values.sinks.apply.enabled }}
{{- /* The release name is the instance: two releases in one cluster never touch each other's objects. */}}
{{- $args = concat $args (list "--apply" "--instance" .Release.Name) -}}
{{- end }}
{{- if .Values.status.enabled }}
{{- $args = append $args "--status" -}}
{{- end }}
{{- if .Values.leaderElection.enabled }}
{{- $args = concat $args (list "--leader-elect" "--lease-namespace" .Release.Namespace "--lease-name" .Values.leaderElection.leaseName) -}}
{{- end }}
{{- $args = concat $args (list "--xds-address" (include "metamesh.listen" (list .Values.bindAddress .Values.xdsPort))) -}}
{{- $args = concat $args (list "--http-address" (include "metamesh.listen" (list .Values.bindAddress .Values.httpPort))) -}}
{{- range (concat (include "metamesh.serviceHosts" . | fromJsonArray) .Values.http.hosts) }}
{{- $args = concat $args (list "--http-host" .) -}}
{{- end }}
{{- if .Values.http.idleTimeout }}
{{- $args = concat $args (list "--http-idle-timeout" .Values.http.idleTimeout) -}}
{{- end }}
{{- if not (kindIs "invalid" .Values.http.maxConnections) }}
{{- $args = concat $args (list "--http-max-connections" (printf "%d" (int64 .Values.http.maxConnections))) -}}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $args = concat $args (list "--tls-cert" (printf "/etc/metamesh/tls/%s" .Values.tls.certKey)) -}}
{{- $args = concat $args (list "--tls-key" (printf "/etc/metamesh/tls/%s" .Values.tls.keyKey)) -}}
{{- if .Values.tls.caKey }}
{{- $args = concat $args (list "--tls-ca" (printf "/etc/metamesh/tls/%s" .Values.tls.caKey)) -}}
{{- range .Values.tls.clientTrustDomains }}
{{- $args = concat $args (list "--tls-client-trust-domain" .) -}}
{{- end }}
{{- end }}
{{- if .Values.tls.expiryWarning }}
{{- $args = concat $args (list "--tls-expiry-warning" .Values.tls.expiryWarning) -}}
{{- end }}
{{- end }}
{{- if or .Values.debugToken.existingSecret .Values.debugToken.create }}
{{- $args = concat $args (list "--http-token-file" (printf "/etc/metamesh/debug-token/%s" .Values.debugToken.key)) -}}
{{- end }}
{{- if not (kindIs "invalid" .Values.rescanIntervalSeconds) }}
{{- $args = concat $args (list "--rescan-interval" (printf "%d" (int64 .Values.rescanIntervalSeconds))) -}}
{{- end }}
{{- $args = concat $args (list "--shutdown-grace" (printf "%ds" (int .Values.shutdownGraceSeconds))) -}}
{{- if .Values.readyTimeout }}
{{- $args = concat $args (list "--ready-timeout" .Values.readyTimeout) -}}
{{- end }}
{{- $flags := include "metamesh.limitFlags" . | fromYaml -}}
{{- range $key := keys $flags | sortAlpha }}
{{- $v := index $.Values.limits $key -}}
{{- if not (kindIs "invalid" $v) }}
{{- $args = concat $args (list (index $flags $key) (printf "%d" (int64 $v))) -}}
{{- end }}
{{- end }}
{{- $args = concat $args .Values.extraArgs -}}
{{- toJson $args -}}
{{- end }}

{{/*
The MetameshOptions spec: options.spec laid over what the chart knows (this release's Service,
namespace, service account, cluster domain, and whether it serves TLS).
*/}}
{{- define "metamesh.optionsSpec" -}}
{{- $xds := dict
  "address" (printf "%s.%s.svc.%s" (include "metamesh.fullname" .) .Release.Namespace .Values.clusterDomain)
  "port" (int .Values.xdsPort)
  "namespace" .Release.Namespace
  "serviceAccount" (include "metamesh.serviceAccountName" .)
  "tls" (ternary "ISTIO_MUTUAL" "DISABLE" .Values.tls.enabled) -}}
{{- $chart := dict "domain" .Values.clusterDomain "xds" $xds -}}
{{- toYaml (mergeOverwrite $chart (deepCopy .Values.options.spec)) -}}
{{- end }}

{{/* Checks that span several values; each failure says what to change. */}}
{{- define "metamesh.validate" -}}
{{- if and (not .Values.sources.files.enabled) (empty .Values.registries) (not .Values.sources.kubernetes.enabled) }}
{{- fail "metamesh serve needs at least one source: keep sources.files.enabled, enable sources.kubernetes, or list registries" }}
{{- end }}
{{- if and (or .Values.sinks.apply.enabled .Values.status.enabled .Values.leaderElection.enabled) (not .Values.sources.kubernetes.enabled) }}
{{- fail "sinks.apply, status and leaderElection need sources.kubernetes.enabled: metamesh writes to the Kubernetes API it reads" }}
{{- end }}
{{- if and (or .Values.sinks.apply.enabled .Values.status.enabled) (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "sinks.apply or status with %d replicas needs leaderElection.enabled: otherwise every replica writes" (int .Values.replicas)) }}
{{- end }}
{{- if and .Values.options.create (not .Values.sources.files.enabled) }}
{{- fail "options.create needs sources.files.enabled: the MetameshOptions document lives in the chart's ConfigMap (set options.create=false)" }}
{{- end }}
{{- if and .Values.sources.files.enabled (not .Values.options.create) (empty .Values.sources.files.manifests) (empty .Values.sources.files.existingConfigMaps) }}
{{- fail "sources.files.enabled with nothing in it: options.create is false and there are no manifests or existingConfigMaps (metamesh would report an empty directory); add manifests or set sources.files.enabled=false" }}
{{- end }}
{{- if and .Values.sinks.mcp.enabled .Values.tls.enabled .Values.tls.caKey (kindIs "invalid" .Values.sinks.mcp.port) }}
{{- fail "sinks.mcp.enabled with tls.caKey needs sinks.mcp.port: istiod presents no client certificate, so it gets MCP on a port of its own (server TLS) while sidecars keep mutual TLS on xdsPort" }}
{{- end }}
{{- if and .Values.sinks.mcp.plaintext (kindIs "invalid" .Values.sinks.mcp.port) }}
{{- fail "sinks.mcp.plaintext needs sinks.mcp.port (the xDS port keeps its own TLS)" }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.sinks.mcp.port)) (has (int .Values.sinks.mcp.port) (list (int .Values.xdsPort) (int .Values.httpPort) (int .Values.webhook.targetPort))) }}
{{- fail (printf "sinks.mcp.port %d is already used by another of metamesh's listeners (xdsPort, httpPort, webhook.targetPort)" (int .Values.sinks.mcp.port)) }}
{{- end }}
{{- if and .Values.tls.clientTrustDomains (not (and .Values.tls.enabled .Values.tls.caKey)) }}
{{- fail "tls.clientTrustDomains needs tls.enabled and tls.caKey: without client certificates there is no client identity to check" }}
{{- end }}
{{- if .Values.webhook.enabled }}
{{- if not .Values.webhook.certificate.secretName }}
{{- fail "webhook.enabled needs webhook.certificate.secretName: the Secret holding the webhook's serving certificate (the API server calls webhooks over HTTPS only)" }}
{{- end }}
{{- if and (not .Values.webhook.certificate.caBundle) (not .Values.webhook.certificate.certManager.enabled) }}
{{- fail "webhook.enabled needs webhook.certificate.caBundle (the PEM of the CA that signed the webhook's certificate) or webhook.certificate.certManager.enabled, or the API server cannot trust metamesh" }}
{{- end }}
{{- if and .Values.webhook.certificate.certManager.enabled (not .Values.webhook.certificate.certManager.issuerRef.name) }}
{{- fail "webhook.certificate.certManager.enabled needs webhook.certificate.certManager.issuerRef.name: the cert-manager Issuer or ClusterIssuer that signs the webhook's certificate" }}
{{- end }}
{{- if or (eq (int .Values.webhook.targetPort) (int .Values.xdsPort)) (eq (int .Values.webhook.targetPort) (int .Values.httpPort)) }}
{{- fail (printf "webhook.targetPort %d is already used by xdsPort or httpPort" (int .Values.webhook.targetPort)) }}
{{- end }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName: the Secret holding the xDS server's certificate and key" }}
{{- end }}
{{- if ge (int .Values.shutdownGraceSeconds) (int .Values.terminationGracePeriodSeconds) }}
{{- fail (printf "shutdownGraceSeconds (%d) must be below terminationGracePeriodSeconds (%d), or the kubelet kills metamesh in the middle of its drain" (int .Values.shutdownGraceSeconds) (int .Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- if and .Values.debugToken.existingSecret .Values.debugToken.create }}
{{- fail "debugToken: give existingSecret or create, not both" }}
{{- end }}
{{- range $name, $_ := .Values.sources.files.manifests }}
{{- if not (regexMatch "^[A-Za-z0-9][-._A-Za-z0-9]*[.](yaml|yml|json)$" $name) }}
{{- fail (printf "sources.files.manifests: %q must be a file name ending in .yaml, .yml or .json (metamesh reads only those)" $name) }}
{{- end }}
{{- if hasPrefix "00-metamesh-options." $name }}
{{- fail (printf "sources.files.manifests: %q is the name of the chart's options file" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The pod labels that select MetaProtocol sidecars (options.spec.proxySelector or metamesh's default), as k=v,… */}}
{{- define "metamesh.proxySelectorText" -}}
{{- $sel := default (dict "metamesh.io/proxy" "metaprotocol") .Values.options.spec.proxySelector -}}
{{- $pairs := list -}}
{{- range $k := keys $sel | sortAlpha }}{{ $pairs = append $pairs (printf "%s=%s" $k (index $sel $k)) }}{{ end -}}
{{- join "," $pairs -}}
{{- end }}
