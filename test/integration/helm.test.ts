/**
 * The Helm chart (deploy/helm/metamesh), with a real helm built from the Go module in test/helm:
 * `helm lint --strict` and `helm template` with the default values and with every value changed
 * (test/helm/values-full.yaml); the rendered objects checked for what the chart promises (pod
 * hardening, probes, ports, arguments metamesh's own parser accepts, least-privilege RBAC per
 * feature, the disruption budget) and by the kube-apiserver's own validation code and the
 * restricted Pod Security Standard (test/conformance/kube); value mistakes refused with a message;
 * the plain manifests in deploy/manifests equal to what the chart renders.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type Invocation } from '../../src/cli/args.js';
import { helmBinary, REPO_ROOT } from '../helm/helm.js';
import { FULL_VALUES, kubecheck, lint, notes, one, parseObjects, render, renderText, runKubecheck, template, type K8sObject } from '../helm/chart.js';
import { CRD_FILES, staleFiles } from '../../deploy/render-manifests.js';

type Serve = Extract<Invocation, { kind: 'serve' }>;

let defaults: K8sObject[];
let full: K8sObject[];

before(() => {
  helmBinary();
  kubecheck();
  defaults = render();
  full = render({ release: 'mm', namespace: 'mesh', files: [FULL_VALUES] });
});

const container = (objects: readonly K8sObject[]) => one(objects, 'Deployment').spec.template.spec.containers[0];
const podSpec = (objects: readonly K8sObject[]) => one(objects, 'Deployment').spec.template.spec;

function serveArgs(objects: readonly K8sObject[]): Serve {
  const args = container(objects).args as string[];
  const inv = parseArgs(args);
  assert.equal(inv.kind, 'serve', `metamesh refuses the rendered arguments: ${JSON.stringify(inv)}`);
  return inv as Serve;
}

/** The port number of `host:port` / `[v6]:port`. */
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

describe('chart metadata and lint', () => {
  test("Chart.yaml's version and appVersion are metamesh's version", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const chart = readFileSync(path.join(REPO_ROOT, 'deploy/helm/metamesh/Chart.yaml'), 'utf8');
    assert.match(chart, new RegExp(`^version: ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(chart, new RegExp(`^appVersion: "${pkg.version.replace(/\./g, '\\.')}"$`, 'm'));
  });

  test('helm lint --strict passes with the default values and with every value changed', () => {
    for (const r of [lint(), lint({ files: [FULL_VALUES] })]) {
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  test("the chart's CRDs are the repository's crds/, byte for byte", () => {
    for (const f of CRD_FILES) {
      const same = readFileSync(path.join(REPO_ROOT, 'deploy/helm/metamesh/crds', f), 'utf8') === readFileSync(path.join(REPO_ROOT, 'crds', f), 'utf8');
      assert.ok(same, `deploy/helm/metamesh/crds/${f} differs from crds/${f}: run npm run deploy:manifests`);
    }
  });

  test('deploy/manifests/metamesh.yaml is what the chart renders (npm run deploy:manifests)', () => {
    assert.deepEqual(staleFiles(), []);
    const objects = parseObjects(readFileSync(path.join(REPO_ROOT, 'deploy/manifests/metamesh.yaml'), 'utf8'));
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    for (const o of objects) if (o.kind !== 'CustomResourceDefinition') assert.equal(o.metadata.namespace, 'istio-system', `${o.kind} ${o.metadata.name}`);
  });
});

describe('what the Kubernetes API server would say', () => {
  test('the default render, CRDs included, passes decoding, validation and the restricted pod security level', () => {
    const r = runKubecheck(renderText({ includeCrds: true }));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /^kubecheck: 7 objects checked, 0 failures$/m);
  });

  test('the render with every value changed passes too (19 objects, RBAC and the webhook configuration included), and the generated debug-token Secret', () => {
    const r = runKubecheck(renderText({ release: 'mm', namespace: 'mesh', files: [FULL_VALUES], includeCrds: true }));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /^kubecheck: 19 objects checked, 0 failures$/m);
    assert.match(r.output, /^ok   ValidatingWebhookConfiguration \/mm-metamesh-mesh$/m);
    assert.match(r.output, /^ok   Certificate mesh\/mm-metamesh-webhook \(not checked: cert-manager's kind\)$/m);
    const withSecret = runKubecheck(renderText({ values: { debugToken: { create: true } } }));
    assert.equal(withSecret.status, 0, withSecret.output);
    assert.match(withSecret.output, /^ok   Secret istio-system\/metamesh-debug-token$/m);
  });

  test('the harness fails a render broken in one place: an unknown field, a privileged escalation, a bad port name', () => {
    const text = renderText();
    const cases: Array<[string, string, RegExp]> = [
      ['readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: true\n            runAsUserr: 5', /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.securityContext\.runAsUserr"/],
      ['allowPrivilegeEscalation: false', 'allowPrivilegeEscalation: true', /pod security \(restricted\): allowPrivilegeEscalation != false/],
      ['- name: http-monitoring', '- name: http_monitoring', /spec\.ports\[1\]\.name: Invalid value: "http_monitoring"/],
    ];
    for (const [from, to, expected] of cases) {
      assert.ok(text.includes(from), from);
      const r = runKubecheck(text.replace(from, to));
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, expected);
    }
  });
});

describe('default values', () => {
  test('render a ServiceAccount, the config ConfigMap, a Service, the Deployment and a PodDisruptionBudget, and no RBAC', () => {
    assert.deepEqual(defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ConfigMap/metamesh-config', 'Deployment/metamesh', 'PodDisruptionBudget/metamesh', 'Service/metamesh', 'ServiceAccount/metamesh',
    ]);
    assert.equal(podSpec(defaults).automountServiceAccountToken, false, 'no API access, so no token');
    assert.equal(one(defaults, 'ServiceAccount').automountServiceAccountToken, false);
  });

  test('no object the chart renders carries the label that marks what metamesh generates', () => {
    for (const o of [...defaults, ...full]) assert.notEqual(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'metamesh', `${o.kind} ${o.metadata.name}`);
  });
});

for (const [name, objects, user] of [['default values', () => defaults, 10001], ['every value changed', () => full, 20001]] as const) {
  describe(`the pod (${name})`, () => {
    test('runs as a numeric non-root user with a read-only root, no capabilities, no privilege escalation and the RuntimeDefault seccomp profile', () => {
      const pod = podSpec(objects());
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, user);
      assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      const sc = container(objects()).securityContext;
      assert.deepEqual(sc, {
        allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.equal(one(objects(), 'Deployment').spec.template.metadata.labels['sidecar.istio.io/inject'], 'false');
    });

    test('writes only to /tmp: every other mount is read-only', () => {
      const mounts = container(objects()).volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>;
      const writable = mounts.filter((m) => m.readOnly !== true).map((m) => m.mountPath);
      assert.deepEqual(writable, ['/tmp']);
      const tmp = podSpec(objects()).volumes.find((v: { name: string }) => v.name === 'tmp');
      assert.equal(tmp.emptyDir.medium, 'Memory');
    });

    test('probes /healthz (startup, liveness) and /readyz (readiness) on the port metamesh serves HTTP on', () => {
      const c = container(objects());
      const httpPort = c.ports.find((p: { name: string }) => p.name === 'http').containerPort;
      assert.equal(httpPort, portOf(serveArgs(objects()).httpAddress));
      assert.deepEqual([c.startupProbe.httpGet, c.livenessProbe.httpGet, c.readinessProbe.httpGet], [
        { path: '/healthz', port: 'http' }, { path: '/healthz', port: 'http' }, { path: '/readyz', port: 'http' },
      ]);
    });

    test('metrics.scrapeAnnotations annotates the pod for Prometheus at /metrics on the HTTP port; podAnnotations stay', () => {
      const annotations = (one(objects(), 'Deployment').spec.template.metadata.annotations ?? {}) as Record<string, string>;
      if (name === 'default values') return assert.deepEqual(annotations, {}, 'no annotations by default');
      const httpPort = container(objects()).ports.find((p: { name: string }) => p.name === 'http').containerPort;
      assert.deepEqual(annotations, { 'example.com/scrape': 'false', 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(httpPort), 'prometheus.io/path': '/metrics' });
    });

    test('the Service targets container ports by name, xDS on the port of --xds-address', () => {
      const c = container(objects());
      const names = new Map<string, number>(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
      const svc = one(objects(), 'Service');
      const xds = svc.spec.ports.find((p: { targetPort: unknown }) => p.targetPort === 'xds');
      assert.equal(names.get('xds'), portOf(serveArgs(objects()).xdsAddress));
      assert.equal(xds.port, names.get('xds'));
      for (const p of svc.spec.ports) if (typeof p.targetPort === 'string') assert.ok(names.has(p.targetPort), p.targetPort);
      assert.deepEqual(svc.spec.selector, one(objects(), 'Deployment').spec.selector.matchLabels);
    });

    test('every path in the arguments is inside a mounted volume', () => {
      const inv = serveArgs(objects());
      const mounts = (container(objects()).volumeMounts as Array<{ mountPath: string }>).map((m) => m.mountPath);
      const paths = [...inv.files, ...(inv.tls ? [inv.tls.cert, inv.tls.key, ...(inv.tls.ca ? [inv.tls.ca] : [])] : []), ...(inv.httpTokenFile ? [inv.httpTokenFile] : [])];
      assert.ok(paths.length > 0);
      for (const p of paths) assert.ok(mounts.some((m) => p === m || p.startsWith(`${m}/`)), `${p} is not under any of ${mounts.join(', ')}`);
    });

    test('SIGTERM drains within the pod termination grace period', () => {
      const inv = serveArgs(objects());
      assert.ok(inv.shutdownGraceMs !== undefined);
      assert.ok(inv.shutdownGraceMs < podSpec(objects()).terminationGracePeriodSeconds * 1000);
    });

    test("the PodDisruptionBudget selects the Deployment's pods", () => {
      const pdb = one(objects(), 'PodDisruptionBudget');
      const labels = one(objects(), 'Deployment').spec.template.metadata.labels;
      for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(labels[k], v, k);
    });
  });
}

describe('arguments', () => {
  test('default: serve the chart ConfigMap on the wildcard address, answering to the Service names', () => {
    const inv = serveArgs(defaults);
    assert.deepEqual(inv.files, ['/etc/metamesh/config']);
    assert.equal(inv.xdsAddress, '0.0.0.0:15010');
    assert.equal(inv.httpAddress, '0.0.0.0:8080');
    assert.deepEqual(inv.httpHostNames, ['metamesh', 'metamesh.istio-system', 'metamesh.istio-system.svc', 'metamesh.istio-system.svc.cluster.local']);
    assert.equal(inv.tls, undefined);
    assert.equal(inv.httpTokenFile, undefined);
    assert.deepEqual(inv.registries, []);
    assert.deepEqual(inv.xdsLimits, {});
    assert.deepEqual(inv.catalog, {});
    assert.equal(inv.mcp, undefined);
    assert.equal(inv.kubernetes, undefined);
    assert.equal(inv.writes, undefined);
    assert.equal(inv.webhook, undefined);
    assert.equal(inv.shutdownGraceMs, 5000);
    assert.equal(inv.readyTimeoutMs, undefined, "metamesh's default ready timeout");
  });

  test('every value reaches its flag', () => {
    const inv = serveArgs(full);
    assert.deepEqual(inv.files, ['/etc/metamesh/config', '/etc/metamesh/configmaps/team-a.manifests', '/etc/metamesh/configmaps/team-b']);
    assert.deepEqual(inv.registries.map((r) => r.kind), ['zookeeper', 'nacos', 'file']);
    assert.equal(inv.xdsAddress, '[::]:15011');
    assert.equal(inv.httpAddress, '[::]:8081');
    assert.deepEqual(inv.httpHostNames, ['mm-metamesh', 'mm-metamesh.mesh', 'mm-metamesh.mesh.svc', 'mm-metamesh.mesh.svc.example.org', 'metamesh.example.org']);
    assert.deepEqual(inv.tls, { cert: '/etc/metamesh/tls/cert.pem', key: '/etc/metamesh/tls/key.pem', ca: '/etc/metamesh/tls/ca.pem', expiryWarningMs: 8 * 3600_000, clientTrustDomains: ['legacy.example', 'mesh.example'] });
    assert.deepEqual(inv.mcp, { revision: 'canary', address: '[::]:15012', plaintext: false });
    assert.deepEqual(inv.webhook, { address: '[::]:9444', cert: '/etc/metamesh/webhook-tls/tls.crt', key: '/etc/metamesh/webhook-tls/tls.key' });
    assert.deepEqual(inv.kubernetes, { kubeconfig: undefined, meshConfig: { namespace: 'istio-control', name: 'istio-mesh' }, syncTimeoutMs: undefined });
    assert.deepEqual(inv.writes, { apply: true, status: true, leaderElection: { namespace: 'mesh', name: 'mm-leader' }, fieldManager: 'metamesh', instance: 'mm', allowMassDeletion: false });
    assert.deepEqual(container(full).env.slice(0, 1), [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    assert.deepEqual(inv.catalog, { removalGraceMs: 60_000, protectionThreshold: 0.25, protectionHoldMs: 600_000 });
    assert.deepEqual(inv.serviceEntries, { defaultNamespace: 'dubbo-services', namespaceRules: [{ namespace: 'payments', interfacePrefix: 'com.acme.pay.' }, { namespace: 'shop', application: 'shop' }] });
    assert.equal(inv.httpTokenFile, '/etc/metamesh/debug-token/bearer');
    assert.equal(inv.httpIdleTimeoutMs, 20_000);
    assert.equal(inv.httpMaxConnections, 100);
    assert.equal(inv.rescanIntervalMs, 60_000);
    assert.equal(inv.shutdownGraceMs, 20_000);
    assert.equal(inv.readyTimeoutMs, 600_000);
    assert.deepEqual(inv.xdsLimits, { maxConnections: 20000, maxStreamsPerConnection: 500, maxNamesPerStream: 5000, maxNameLength: 512, maxRequestBytes: 8388608 });
    // extraArgs come last, so they win over the chart's own flags (--max-depth 50 → 60).
    assert.deepEqual(inv.limits, { maxFileBytes: 8388608, maxDocuments: 20000, maxExpandedBytes: 33554432, maxDepth: 60 });
    assert.deepEqual((container(full).args as string[]).slice(-2), ['--max-depth', '60']);
  });

  test('debugToken.create renders a Secret with a random token and mounts it for --http-token-file', () => {
    const objects = render({ values: { debugToken: { create: true } } });
    const secret = one(objects, 'Secret', 'metamesh-debug-token');
    assert.match(Buffer.from(secret.data.token, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
    const volume = podSpec(objects).volumes.find((v: { name: string }) => v.name === 'debug-token');
    assert.equal(volume.secret.secretName, 'metamesh-debug-token');
    assert.equal(serveArgs(objects).httpTokenFile, '/etc/metamesh/debug-token/token');
  });

  test('the volumes hold what the flags name: the TLS Secret and the token Secret whole (never subPath), each ConfigMap', () => {
    const pod = podSpec(full);
    const byName = new Map<string, any>(pod.volumes.map((v: { name: string }) => [v.name, v]));
    assert.equal(byName.get('tls').secret.secretName, 'mm-xds-tls');
    assert.equal(byName.get('webhook-tls').secret.secretName, 'mm-webhook-tls');
    assert.equal(byName.get('debug-token').secret.secretName, 'mm-debug');
    assert.equal(byName.get('config').configMap.name, 'mm-metamesh-config');
    assert.deepEqual([byName.get('configmap-0').configMap.name, byName.get('configmap-1').configMap.name], ['team-a.manifests', 'team-b']);
    for (const m of container(full).volumeMounts) assert.equal(m.subPath, undefined, m.name);
  });
});

describe('RBAC, least privilege per feature', () => {
  const rules = (objects: readonly K8sObject[], kind: string, name: string) => one(objects, kind, name).rules;

  test('every feature on: exactly these rules, no wildcard', () => {
    assert.deepEqual(rules(full, 'ClusterRole', 'mm-metamesh-read-config'), [
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'destinationrules', 'gateways'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['metaprotocol.aeraki.io'], resources: ['metarouters', 'applicationprotocols'], verbs: ['get', 'list', 'watch'] },
    ]);
    assert.deepEqual(rules(full, 'ClusterRole', 'mm-metamesh-apply'), [
      { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'envoyfilters', 'virtualservices'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    ]);
    assert.deepEqual(rules(full, 'ClusterRole', 'mm-metamesh-status'), [
      { apiGroups: ['metaprotocol.aeraki.io'], resources: ['metarouters/status', 'applicationprotocols/status'], verbs: ['patch'] },
    ]);
    const meshConfig = one(full, 'Role', 'mm-metamesh-mesh-config');
    assert.equal(meshConfig.metadata.namespace, 'istio-control');
    assert.deepEqual(meshConfig.rules, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio-mesh'], verbs: ['get', 'list', 'watch'] }]);
    const lease = one(full, 'Role', 'mm-metamesh-leader-election');
    assert.equal(lease.metadata.namespace, 'mesh');
    assert.deepEqual(lease.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['mm-leader'], verbs: ['get', 'update'] },
    ]);
    const all = full.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o.rules as Array<Record<string, string[]>>);
    for (const r of all) for (const list of Object.values(r)) assert.ok(!list.includes('*'), JSON.stringify(r));
    assert.ok(!all.some((r) => r.resources!.includes('secrets')), 'no access to Secrets');
  });

  test('each binding gives its role to metamesh\'s service account only', () => {
    const roles = new Set(full.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    const bindings = full.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    assert.equal(bindings.length, roles.size);
    for (const b of bindings) {
      const ns = b.kind === 'RoleBinding' ? b.metadata.namespace : '';
      assert.ok(roles.has(`${b.roleRef.kind}/${ns}/${b.roleRef.name}`), b.metadata.name);
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'metamesh-control', namespace: 'mesh' }]);
    }
    assert.equal(podSpec(full).automountServiceAccountToken, true);
    assert.equal(podSpec(full).serviceAccountName, 'metamesh-control');
  });

  // The writers need the Kubernetes source (they write to the API they read): each is rendered
  // beside it (one replica, so apply and status need no leader election).
  const kube = { enabled: true };
  const reads = ['ClusterRole/metamesh-read-config', 'Role/metamesh-mesh-config'];
  const toggles: Array<[string, Record<string, unknown>, string[]]> = [
    ['sources.kubernetes', { sources: { kubernetes: kube } }, reads],
    ['sinks.apply', { replicas: 1, sources: { kubernetes: kube }, sinks: { apply: { enabled: true } } }, [...reads, 'ClusterRole/metamesh-apply']],
    ['sinks.mcp', { sinks: { mcp: { enabled: true } } }, []],
    ['status', { replicas: 1, sources: { kubernetes: kube }, status: { enabled: true } }, [...reads, 'ClusterRole/metamesh-status']],
    ['leaderElection', { sources: { kubernetes: kube }, leaderElection: { enabled: true } }, [...reads, 'Role/metamesh-leader-election']],
    ['webhook', { webhook: { enabled: true, certificate: { secretName: 'wh', caBundle: 'PEM' } } }, []],
  ];
  for (const [feature, values, expected] of toggles) {
    test(`${feature} alone grants ${expected.length === 0 ? 'nothing' : expected.join(' and ')}`, () => {
      const objects = render({ values });
      const granted = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').map((o) => `${o.kind}/${o.metadata.name}`);
      assert.deepEqual(granted.sort(), [...expected].sort());
      assert.equal(podSpec(objects).automountServiceAccountToken, expected.length > 0);
    });
  }

  test('rbac.create=false renders no role even with every feature on', () => {
    const objects = render({ files: [FULL_VALUES], values: { rbac: { create: false } } });
    assert.deepEqual(objects.filter((o) => /Role/.test(o.kind)), []);
  });
});

describe('Service and disruption budget', () => {
  test('the MCP and webhook ports appear only when enabled, each targeting the container port metamesh listens on', () => {
    assert.deepEqual(one(defaults, 'Service').spec.ports.map((p: { name: string }) => p.name), ['grpc-xds', 'http-monitoring']);
    const ports = one(full, 'Service').spec.ports;
    assert.deepEqual(ports.map((p: { name: string; port: number; targetPort: unknown }) => [p.name, p.port, p.targetPort]), [
      ['tls-xds', 15011, 'xds'], ['http-monitoring', 8081, 'http'], ['tls-mcp', 15012, 'mcp'], ['https-webhook', 8443, 'webhook'],
    ]);
    const inv = serveArgs(full);
    const listening = new Map(container(full).ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    assert.deepEqual(Object.fromEntries(listening), { xds: portOf(inv.xdsAddress), http: portOf(inv.httpAddress), mcp: portOf(inv.mcp!.address!), webhook: portOf(inv.webhook!.address) });
  });

  test('maxUnavailable 1 by default, minAvailable when set, none when disabled', () => {
    assert.deepEqual(one(defaults, 'PodDisruptionBudget').spec.maxUnavailable, 1);
    assert.deepEqual(Object.keys(one(full, 'PodDisruptionBudget').spec).sort(), ['minAvailable', 'selector']);
    assert.equal(one(full, 'PodDisruptionBudget').spec.minAvailable, 2);
    assert.deepEqual(render({ values: { podDisruptionBudget: { enabled: false } } }).filter((o) => o.kind === 'PodDisruptionBudget'), []);
  });
});

describe('NOTES.txt', () => {
  test('default: how to check the rollout, that xDS is plaintext, how to apply what metamesh generates, and nothing pending', () => {
    const text = notes();
    assert.match(text, /^xDS \(RDS\/ADS over gRPC, plaintext\): metamesh\.istio-system\.svc\.cluster\.local:15010$/m);
    assert.match(text, /kubectl -n istio-system rollout status deploy\/metamesh/);
    assert.match(text, /\(\/debug\/\* are disabled: set debugToken\.existingSecret or debugToken\.create to use them\.\)/);
    assert.match(text, /metamesh generate -f <the same manifests> -o manifests \| kubectl apply -f -/);
    assert.match(text, /WARNING: xDS is plaintext/);
    assert.doesNotMatch(text, /does not implement/);
  });

  test('every value changed: the configSources entry for istiod, the token command, the apply sink, nothing pending', () => {
    const text = notes({ release: 'mm', namespace: 'mesh', files: [FULL_VALUES] });
    assert.match(text, /configSources:\n {7}- address: xds:\/\/mm-metamesh\.mesh\.svc:15012\n {9}tlsSettings:\n {11}mode: SIMPLE\n/);
    assert.match(text, /^Admission webhook \(HTTPS, failurePolicy Fail\): ValidatingWebhookConfiguration mm-metamesh-mesh$/m);
    assert.match(text, /- address: k8s:\/\//);
    assert.match(text, /get secret mm-debug -o jsonpath='\{\.data\.bearer\}'/);
    assert.doesNotMatch(text, /WARNING: xDS is plaintext/);
    assert.doesNotMatch(text, /does not implement/, 'every feature is implemented');
    assert.match(text, /WARNING: sinks\.mcp and sinks\.apply are both enabled: istiod gets every generated object twice/);
  });

  test('the apply sink: what metamesh writes, who writes it, and how to see it', () => {
    const text = notes({ release: 'mm', namespace: 'mesh', values: { sources: { kubernetes: { enabled: true } }, sinks: { apply: { enabled: true } }, status: { enabled: true }, leaderElection: { enabled: true } } });
    assert.match(text, /metamesh applies what it generates \(server-side apply, field manager metamesh, labelled\n {5}app\.kubernetes\.io\/managed-by=metamesh and metamesh\.io\/instance=mm; the replica holding\n {5}Lease mesh\/metamesh writes\)/);
    assert.match(text, /kubectl get envoyfilters,serviceentries,virtualservices -A -l metamesh\.io\/instance=mm/);
    assert.doesNotMatch(text, /kubectl apply -f -|both enabled/);
  });
});

describe('values that cannot work are refused, with what to change', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no source at all', { sources: { files: { enabled: false } }, options: { create: false } }, /needs at least one source: keep sources\.files\.enabled, enable sources\.kubernetes, or list registries/],
    ['the apply sink without the Kubernetes source', { replicas: 1, sinks: { apply: { enabled: true } } }, /sinks\.apply, status and leaderElection need sources\.kubernetes\.enabled/],
    ['two writing replicas', { sources: { kubernetes: { enabled: true } }, status: { enabled: true } }, /sinks\.apply or status with 2 replicas needs leaderElection\.enabled/],
    ['options without the ConfigMap', { sources: { files: { enabled: false } }, registries: ['nacos://n:8848'] }, /options\.create needs sources\.files\.enabled/],
    ['an empty file source', { options: { create: false } }, /sources\.files\.enabled with nothing in it/],
    ['the MCP sink on the mutual-TLS port', { sinks: { mcp: { enabled: true } }, tls: { enabled: true, secretName: 's' } }, /sinks\.mcp\.enabled with tls\.caKey needs sinks\.mcp\.port: istiod presents no client certificate/],
    ['MCP in plaintext on the xDS port', { sinks: { mcp: { enabled: true, plaintext: true } } }, /sinks\.mcp\.plaintext needs sinks\.mcp\.port/],
    ['MCP on a port already taken', { sinks: { mcp: { enabled: true, port: 8080 } } }, /sinks\.mcp\.port 8080 is already used/],
    ['client trust domains without client certificates', { tls: { enabled: true, secretName: 's', caKey: '', clientTrustDomains: ['cluster.local'] } }, /tls\.clientTrustDomains needs tls\.enabled and tls\.caKey/],
    ['the webhook without a certificate', { webhook: { enabled: true } }, /webhook\.enabled needs webhook\.certificate\.secretName/],
    ['the webhook with no CA for the API server', { webhook: { enabled: true, certificate: { secretName: 'wh' } } }, /webhook\.enabled needs webhook\.certificate\.caBundle .* or webhook\.certificate\.certManager\.enabled/],
    ['cert-manager without an issuer', { webhook: { enabled: true, certificate: { secretName: 'wh', certManager: { enabled: true } } } }, /certManager\.enabled needs webhook\.certificate\.certManager\.issuerRef\.name/],
    ['a failure policy the API server does not know', { webhook: { failurePolicy: 'Retry' } }, /failurePolicy.*must be one of/],
    ['a revision that is not a label value', { sinks: { mcp: { enabled: true, revision: '-canary' } } }, /revision.*does not match pattern/],
    ['TLS without a Secret', { tls: { enabled: true } }, /tls\.enabled needs tls\.secretName/],
    ['a drain longer than the kubelet waits', { shutdownGraceSeconds: 30 }, /shutdownGraceSeconds \(30\) must be below terminationGracePeriodSeconds \(30\)/],
    ['two debug tokens', { debugToken: { existingSecret: 's', create: true } }, /give existingSecret or create, not both/],
    ['a manifest metamesh would not read', { sources: { files: { manifests: { 'rules.txt': 'x' } } } }, /"rules\.txt" must be a file name ending in \.yaml, \.yml or \.json/],
    ['a misspelt value', { replica: 3 }, /additional properties 'replica' not allowed/],
    ['root', { securityContext: { runAsUser: 0 } }, /runAsUser.*minimum: got 0, want 1/],
    ['a registry that is not one', { registries: ['http://zk:2181'] }, /'http:\/\/zk:2181' does not match pattern/],
    ['a duration metamesh does not read', { tls: { expiryWarning: '6 hours' } }, /expiryWarning.*does not match pattern/],
  ];
  for (const [what, values, message] of cases) {
    test(what, () => {
      const r = template({ values });
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stderr, message);
    });
  }
});

describe('the admission webhook', () => {
  const withCa = { webhook: { enabled: true, certificate: { secretName: 'metamesh-webhook-tls', caBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } } };

  test('calls this release\'s Service at /validate for CREATE and UPDATE of MetaRouters and ApplicationProtocols only, Ignore by default', () => {
    const vwc = one(render({ values: withCa }), 'ValidatingWebhookConfiguration');
    assert.equal(vwc.metadata.name, 'metamesh-istio-system');
    assert.equal(vwc.metadata.annotations, undefined);
    const [hook, ...more] = vwc.webhooks;
    assert.equal(more.length, 0);
    assert.deepEqual(hook.rules, [{ apiGroups: ['metaprotocol.aeraki.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['metarouters', 'applicationprotocols'], scope: 'Namespaced' }]);
    assert.deepEqual(hook.clientConfig.service, { name: 'metamesh', namespace: 'istio-system', path: '/validate', port: 443 });
    assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString(), withCa.webhook.certificate.caBundle);
    assert.deepEqual([hook.failurePolicy, hook.timeoutSeconds, hook.sideEffects, hook.admissionReviewVersions], ['Ignore', 5, 'None', ['v1']]);
  });

  test('with cert-manager: a Certificate for the Service names into the mounted Secret, and the CA injected by annotation', () => {
    const vwc = one(full, 'ValidatingWebhookConfiguration');
    assert.deepEqual(vwc.metadata.annotations, { 'cert-manager.io/inject-ca-from': 'mesh/mm-metamesh-webhook' });
    assert.equal(vwc.webhooks[0].clientConfig.caBundle, undefined);
    assert.equal(vwc.webhooks[0].failurePolicy, 'Fail');
    assert.deepEqual(vwc.webhooks[0].namespaceSelector, { matchExpressions: [{ key: 'example.com/no-metamesh-webhook', operator: 'DoesNotExist' }] });
    const cert = one(full, 'Certificate');
    assert.equal(cert.metadata.name, 'mm-metamesh-webhook');
    assert.equal(cert.spec.secretName, 'mm-webhook-tls');
    assert.deepEqual(cert.spec.dnsNames, ['mm-metamesh.mesh.svc', 'mm-metamesh.mesh.svc.example.org']);
    assert.deepEqual(cert.spec.issuerRef, { kind: 'ClusterIssuer', name: 'mesh-ca', group: 'cert-manager.io' });
  });

  test('disabled by default: no configuration, no certificate, no port', () => {
    assert.deepEqual(defaults.filter((o) => o.kind === 'ValidatingWebhookConfiguration' || o.kind === 'Certificate'), []);
    assert.equal(serveArgs(defaults).webhook, undefined);
  });
});
