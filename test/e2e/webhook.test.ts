/**
 * The admission webhook against a real kube-apiserver (support/kube.ts): the chart's
 * ValidatingWebhookConfiguration, pointed at `metamesh serve --webhook-address` on loopback (a
 * URL clientConfig, https://127.0.0.1:<port>/validate, trusted through a test CA made with
 * openssl), decides what the API server stores:
 *   - a MetaRouter the CRD schema accepts but the validator refuses is refused with metamesh's
 *     code and sentence; a valid one is stored; a bad ApplicationProtocol is refused;
 *   - with metamesh down, failurePolicy Fail refuses every MetaRouter and Ignore admits them
 *     unchecked, as docs/operations.md says.
 * Waits are deadlines on conditions (the API server picks up webhook configurations
 * asynchronously), never fixed sleeps.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { one, render } from '../helm/chart.js';
import { TestPki, type Leaf } from '../support/pki.js';
import { examplesCopy, removeTemps, start } from '../support/xds.js';
import { pollUntil, startKube, type KubeCluster } from './support/kube.js';

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
const WEBHOOK = 'validation.metaprotocol.metamesh.io';

let cluster: KubeCluster;
let pki: TestPki;
let leaf: Leaf;
let metamesh: Awaited<ReturnType<typeof start>> | undefined;

before(async () => {
  cluster = await startKube({ log: (l) => console.error(`# ${l}`) });
  await cluster.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: meta-dubbo}\n');
  pki = new TestPki();
  // The API server checks the address it calls, 127.0.0.1, against the certificate's SANs.
  leaf = pki.leaf('webhook');
  metamesh = await start(examplesCopy(), { webhook: { address: '127.0.0.1:0', cert: leaf.cert, key: leaf.key } });
});

after(async () => {
  await metamesh?.close();
  await cluster?.stop();
  pki?.remove();
  removeTemps();
});

function metaRouter(name: string, routes: unknown[]): k8s.KubernetesObject {
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name, namespace: 'meta-dubbo' }, spec: { hosts: [HOST], routes } } as k8s.KubernetesObject;
}
const catchAll = { route: [{ destination: { host: HOST, subset: 'v1' } }] };
const byMethod = { match: { attributes: { method: { exact: 'sayHello' } } }, route: [{ destination: { host: HOST, subset: 'v2' } }] };
/** Schema-valid (CRD), but its second route can never match: MM_ROUTER_UNREACHABLE_ROUTE. */
const unreachable = () => metaRouter('unreachable', [catchAll, byMethod]);

/** The API server's answer to a create: stored, or refused with the status message. */
async function create(o: k8s.KubernetesObject, dryRun = false): Promise<{ ok: true } | { ok: false; code: number; message: string }> {
  try {
    await cluster.objects.create(o, undefined, dryRun ? 'All' : undefined);
    return { ok: true };
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    if (typeof err.code !== 'number') throw e;
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string } | undefined);
    return { ok: false, code: err.code, message: body?.message ?? '' };
  }
}

/** The chart's webhook configuration, calling `url` instead of the Service (no cluster network here). */
function webhookConfiguration(url: string, failurePolicy: 'Fail' | 'Ignore'): k8s.KubernetesObject {
  const ca = readFileSync(pki.ca, 'utf8');
  const vwc = one(render({ values: { webhook: { enabled: true, failurePolicy, certificate: { secretName: 'unused', caBundle: ca } } } }), 'ValidatingWebhookConfiguration');
  const hook = vwc.webhooks[0];
  assert.equal(hook.name, WEBHOOK);
  hook.clientConfig = { url, caBundle: Buffer.from(ca).toString('base64') };
  const { labels: _labels, ...metadata } = vwc.metadata;
  return { ...vwc, metadata } as k8s.KubernetesObject;
}

describe('the admission webhook on a real kube-apiserver', () => {
  test('without the webhook the CRD schema accepts the MetaRouter with an unreachable route (dry run)', async () => {
    assert.deepEqual(await create(unreachable(), true), { ok: true });
  });

  test('registered (failurePolicy Fail): the unreachable route is refused with the code and sentence, a valid MetaRouter is stored', async () => {
    await cluster.apply(k8s.dumpYaml(webhookConfiguration(`https://127.0.0.1:${metamesh!.webhookPort}/validate`, 'Fail')));
    let refused: { ok: false; code: number; message: string } | undefined;
    await pollUntil('the API server to call the webhook', 30_000, undefined, async () => {
      const r = await create(unreachable(), true);
      if (!r.ok) refused = r;
      return !r.ok;
    });
    assert.equal(refused!.code, 422);
    assert.equal(
      refused!.message,
      `admission webhook "${WEBHOOK}" denied the request: MM_ROUTER_UNREACHABLE_ROUTE: MetaRouter meta-dubbo/unreachable: spec.routes[0] matches every request, so the 1 route(s) after it can never be used; move it last.`,
    );
    assert.deepEqual(await create(metaRouter('valid', [byMethod, catchAll])), { ok: true });
    const stored = await cluster.objects.read({ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'valid', namespace: 'meta-dubbo' } });
    assert.equal(stored.metadata?.name, 'valid');
    // metamesh saw both requests: one line per decision.
    const decisions = metamesh!.logs.lines.filter((l) => l.event === 'admission').map((l) => [l.object, l.allowed]);
    assert.ok(decisions.some(([o, a]) => o === 'MetaRouter meta-dubbo/unreachable' && a === false));
    assert.ok(decisions.some(([o, a]) => o === 'MetaRouter meta-dubbo/valid' && a === true));
  });

  test('an UPDATE is checked too, and an ApplicationProtocol whose codec the CRD pattern lets through is refused', async () => {
    const update = metaRouter('valid', [catchAll, byMethod]);
    const current = await cluster.objects.read({ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'valid', namespace: 'meta-dubbo' } });
    update.metadata!.resourceVersion = current.metadata!.resourceVersion;
    await assert.rejects(cluster.objects.replace(update), (e: { code?: number; body?: string }) => e.code === 422 && String(e.body).includes('MM_ROUTER_UNREACHABLE_ROUTE'));
    const ap = { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'ApplicationProtocol', metadata: { name: 'custom', namespace: 'meta-dubbo' }, spec: { protocol: 'custom', codec: 'aeraki..codec' } } as k8s.KubernetesObject;
    const r = await create(ap);
    assert.ok(!r.ok);
    assert.match(r.message, /denied the request: MM_PROTOCOL_INVALID: ApplicationProtocol meta-dubbo\/custom: /);
  });

  test('metamesh down: Fail refuses every MetaRouter (the API server cannot call it); Ignore admits them unchecked', async () => {
    const port = metamesh!.webhookPort!;
    await metamesh!.close();
    metamesh = undefined;
    const valid = () => metaRouter('while-down', [byMethod, catchAll]);
    const down = await create(valid(), true);
    assert.ok(!down.ok);
    assert.match(down.message, new RegExp(`failed calling webhook "${WEBHOOK.replace(/\./g, '\\.')}"`));
    await cluster.apply(k8s.dumpYaml(webhookConfiguration(`https://127.0.0.1:${port}/validate`, 'Ignore')));
    await pollUntil('the API server to take failurePolicy Ignore', 30_000, undefined, async () => (await create(valid(), true)).ok);
    assert.deepEqual(await create(valid()), { ok: true });
    // Unchecked: the unreachable route is stored too; the pipeline reports it (MM_ROUTER_UNREACHABLE_ROUTE).
    assert.deepEqual(await create(unreachable()), { ok: true });
  });
});
