/**
 * The chart's Deployment, run: `metamesh serve` started with exactly the arguments `helm template`
 * renders, over a file system laid out the way the kubelet lays out the pod's volumes (ConfigMaps
 * and Secrets as `..data` symlinks to a timestamped directory, swapped atomically on update). The
 * only changes: the mount paths are moved under a temporary root and the ports are 0, so the
 * test runs beside others. It checks what a cluster would: kubelet probes (Host = the pod IP) and
 * the Service names pass the Host check, the debug token is enforced, the TLS Secret is served with
 * client certificates required, the webhook Secret is served to the API server's calls, the chart's
 * MetameshOptions point sidecars at the release's Service, and a ConfigMap update reaches the
 * served configuration without a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { main } from '../../src/cli/main.js';
import { one, render, type K8sObject } from '../helm/chart.js';
import { TestPki, type Leaf } from '../support/pki.js';
import { until } from '../support/xds.js';

const TOKEN = 'chart-test-token-0123456789';
const SE = (name: string, host: string) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${name}, namespace: dubbo, annotations: {workloadSelector: ${name}-provider}}
spec:
  hosts: [${host}]
  addresses: [240.240.0.${name === 'demo' ? 10 : 11}]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.0.1.11, labels: {version: v1}}, {address: 10.0.1.12, labels: {version: v2}}]
`;
const ROUTER = (method: string) => `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demo, namespace: dubbo}
spec:
  hosts: [demo.dubbo.example]
  routes:
  - name: by-method
    match: {attributes: {method: {exact: ${method}}}}
    route: [{destination: {host: demo.dubbo.example}}]
`;

let root: string;
let pki: TestPki;
let server: Leaf;
let clientLeaf: Leaf;
let objects: K8sObject[];
let stop: AbortController;
let exited: Promise<number>;
let out = '';
let xdsPort = 0;
let httpPort = 0;
let webhookPort = 0;

/** Writes `files` as the kubelet's atomic writer does: `<dir>/..<stamp>/`, `..data` → it, `<key>` → `..data/<key>`. */
let stamp = 0;
function project(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const version = `..2026_11_29_00_00_00.${++stamp}`;
  mkdirSync(path.join(dir, version));
  for (const [k, v] of Object.entries(files)) writeFileSync(path.join(dir, version, k), v);
  symlinkSync(version, path.join(dir, '..data_tmp'));
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const k of Object.keys(files)) {
    try {
      symlinkSync(path.join('..data', k), path.join(dir, k));
    } catch {
      // already linked by an earlier projection
    }
  }
}

function get(pathname: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpPort, path: pathname, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  pki = new TestPki();
  server = pki.leaf('metamesh');
  clientLeaf = pki.leaf('sidecar', { usage: 'client' });
  // Not the default names, so that the options the chart derives from them are seen at work.
  objects = render({
    release: 'mm',
    namespace: 'mesh',
    values: {
      tls: { enabled: true, secretName: 'metamesh-xds-tls' },
      debugToken: { existingSecret: 'metamesh-debug' },
      webhook: { enabled: true, certificate: { secretName: 'metamesh-webhook-tls', caBundle: 'set by the test' } },
      sources: { files: { manifests: { 'dubbo.yaml': `${SE('demo', 'demo.dubbo.example')}---\n${ROUTER('sayHello')}` }, existingConfigMaps: ['more'] } },
    },
  });
  root = mkdtempSync(path.join(os.tmpdir(), 'metamesh-pod-'));
  const pod = one(objects, 'Deployment').spec.template.spec;
  const mounts = new Map<string, string>(pod.containers[0].volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
  const at = (volume: string) => path.join(root, mounts.get(volume)!);
  const configMap = one(objects, 'ConfigMap');
  project(at('config'), configMap.data);
  project(at('configmap-0'), { 'other.yaml': SE('other', 'other.dubbo.example') });
  project(at('tls'), { 'tls.crt': readFileSync(server.cert, 'utf8'), 'tls.key': readFileSync(server.key, 'utf8'), 'ca.crt': readFileSync(pki.ca, 'utf8') });
  project(at('debug-token'), { token: `${TOKEN}\n` });
  project(at('webhook-tls'), { 'tls.crt': readFileSync(server.cert, 'utf8'), 'tls.key': readFileSync(server.key, 'utf8') });
  mkdirSync(at('tmp'), { recursive: true });

  const args = (pod.containers[0].args as string[]).map((a, i, all) => {
    if (['--xds-address', '--http-address', '--webhook-address'].includes(all[i - 1]!)) return a.replace(/:\d+$/, ':0');
    return a.startsWith('/etc/metamesh/') ? path.join(root, a) : a;
  });
  stop = new AbortController();
  exited = main(args, { out: (s) => (out += s), err: () => {} }, stop.signal);
  await until(() => /HTTP on \S+:\d+/.test(out), 'serve to listen', 30_000);
  xdsPort = Number(/xDS \([^)]*\) on \S+:(\d+),/.exec(out)![1]);
  httpPort = Number(/HTTP on \S+:(\d+)/.exec(out)![1]);
  webhookPort = Number(/admission webhook \(HTTPS\) on \S+:(\d+),/.exec(out)![1]);
});

after(async () => {
  stop?.abort();
  if (exited) assert.equal(await exited, 0);
  pki?.remove();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('started from the rendered arguments: TLS with client certificates, the webhook, debug endpoints behind the token', () => {
  assert.match(out, /xDS \(gRPC, mutual TLS\) on 0\.0\.0\.0:\d+, admission webhook \(HTTPS\) on 0\.0\.0\.0:\d+, HTTP on 0\.0\.0\.0:\d+ \(debug endpoints and dashboard require the bearer token\)/);
  assert.match(out, /dashboard at http:\/\/0\.0\.0\.0:\d+\/dashboard\/ \(it asks for the bearer token of --http-token-file\)\n/);
});

test('the webhook port serves the mounted webhook Secret and refuses a MetaRouter the CRD schema lets through', async () => {
  const object = { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'demo', namespace: 'dubbo' }, spec: { hosts: ['demo.dubbo.example'], routes: [{ route: [{ destination: { host: 'demo.dubbo.example' } }] }, { match: { attributes: { method: { exact: 'x' } } }, route: [{ destination: { host: 'demo.dubbo.example' } }] }] } };
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'pod-1', kind: { group: 'metaprotocol.aeraki.io', version: 'v1alpha1', kind: 'MetaRouter' }, operation: 'UPDATE', namespace: 'dubbo', object } });
  const answer = await new Promise<{ cn: string; body: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: webhookPort, path: '/validate', method: 'POST', ca: readFileSync(pki.ca), servername: 'localhost', agent: false }, (res) => {
      const cn = String((res.socket as tls.TLSSocket).getPeerCertificate().subject?.CN);
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ cn, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(answer.cn, 'metamesh');
  const res = (JSON.parse(answer.body) as { response: { uid: string; allowed: boolean; status?: { message: string } } }).response;
  assert.deepEqual([res.uid, res.allowed], ['pod-1', false]);
  assert.match(res.status!.message, /^MM_ROUTER_UNREACHABLE_ROUTE: MetaRouter dubbo\/demo: /);
});

test('kubelet probes (Host: the pod IP) and the Service names get /healthz and /readyz; other names get 421', async () => {
  for (const host of ['10.244.1.7:8080', 'mm-metamesh.mesh.svc:8080', 'mm-metamesh.mesh.svc.cluster.local:8080', 'mm-metamesh:8080']) {
    assert.equal((await get('/healthz', host)).status, 200, host);
    const ready = await get('/readyz', host);
    assert.equal(ready.status, 200, `${host}: ${ready.body}`);
  }
  const ready = JSON.parse((await get('/readyz', '10.244.1.7')).body) as { sources: Array<{ source: string; state: string; files: number }> };
  assert.deepEqual(ready.sources.map((s) => [path.relative(root, s.source), s.state, s.files]), [
    ['etc/metamesh/config', 'ok', 2],
    ['etc/metamesh/configmaps/more', 'ok', 1],
  ]);
  assert.equal((await get('/readyz', 'attacker.example')).status, 421);
  assert.equal((await get('/readyz', 'metamesh.istio-system.svc')).status, 421, 'another release\'s name');
});

test('/debug/config needs the token of the mounted Secret', async () => {
  assert.equal((await get('/debug/config', '10.244.1.7')).status, 401);
  assert.equal((await get('/debug/config', '10.244.1.7', { authorization: 'Bearer wrong' })).status, 401);
  assert.equal((await get('/debug/config', '10.244.1.7', { authorization: `Bearer ${TOKEN}` })).status, 200);
});

test("the chart's MetameshOptions point sidecars at the release's Service (mm in mesh) with ISTIO_MUTUAL and the release's identity", async () => {
  const doc = JSON.parse((await get('/debug/config', '10.244.1.7', { authorization: `Bearer ${TOKEN}` })).body) as { envoyFilters: K8sObject[]; diagnostics: unknown[]; routes: Array<{ name: string }> };
  assert.deepEqual(doc.diagnostics, []);
  const cluster = doc.envoyFilters.find((f) => f.metadata.name === 'metamesh-xds-cluster');
  assert.ok(cluster, 'the xDS cluster patch is generated');
  const text = JSON.stringify(cluster.spec);
  assert.match(text, /"socketAddress":\{"address":"mm-metamesh\.mesh\.svc\.cluster\.local","portValue":15010\}/);
  assert.match(text, /"sni":"mm-metamesh\.mesh\.svc\.cluster\.local"/);
  assert.match(text, /"matchTypedSubjectAltNames":\[\{"sanType":"URI","matcher":\{"exact":"spiffe:\/\/cluster\.local\/ns\/mesh\/sa\/mm-metamesh"\}\}\]/);
  assert.equal(cluster.metadata.namespace, 'istio-system', 'mesh-wide patches stay in the root namespace');
  assert.deepEqual(doc.routes.map((r) => r.name).sort(), ['demo.dubbo.example_20880', 'other.dubbo.example_20880']);
});

test('the xDS port serves the mounted certificate and requires a client certificate signed by the mounted CA', async () => {
  const handshake = (withClientCert: boolean) =>
    new Promise<{ ok: boolean; subject?: string }>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1', port: xdsPort, servername: 'localhost', ALPNProtocols: ['h2'], ca: readFileSync(pki.ca),
        ...(withClientCert ? { cert: readFileSync(clientLeaf.cert), key: readFileSync(clientLeaf.key) } : {}),
      });
      // The server's first HTTP/2 frames (its SETTINGS) arrive only over an accepted connection;
      // a refused client certificate ends it with an alert instead (after the handshake in TLS 1.3).
      socket.once('data', () => {
        resolve({ ok: true, subject: String(socket.getPeerCertificate().subject?.CN) });
        socket.destroy();
      });
      socket.once('close', () => resolve({ ok: false }));
      socket.once('error', () => resolve({ ok: false }));
    });
  assert.deepEqual(await handshake(true), { ok: true, subject: 'metamesh' });
  assert.equal((await handshake(false)).ok, false);
});

test('a ConfigMap update (the kubelet swapping ..data) reaches the served configuration without a restart', async () => {
  const configDir = path.join(root, 'etc/metamesh/config');
  const data = { ...one(objects, 'ConfigMap').data, 'dubbo.yaml': `${SE('demo', 'demo.dubbo.example')}---\n${ROUTER('sayGoodbye')}` };
  project(configDir, data);
  await until(async () => {
    const doc = (await get('/debug/config', '10.244.1.7', { authorization: `Bearer ${TOKEN}` })).body;
    return doc.includes('sayGoodbye') && !doc.includes('sayHello');
  }, 'the new MetaRouter to be served', 60_000);
});
