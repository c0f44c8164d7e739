/**
 * The admission decision (src/admission/review.ts, validate.ts): AdmissionReview bodies in,
 * responses out. The objects are what the CRD schema accepts (crds/examples/valid, and variants
 * the schema cannot refuse), so each refusal here is one only the validator can make.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { review, type Reviewed } from '../../src/admission/review.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { re2Problem } from '../../src/util/regex.js';
import { root } from '../support/xds.js';

const context = { domain: 'cluster.local', builtins: loadBuiltinProtocols(), checkRegex: re2Problem };

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
const route = (match: unknown, subset = 'v1') => ({ match, route: [{ destination: { host: HOST, subset } }] });

function metaRouter(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'demo', namespace: 'meta-dubbo', ...metadata }, spec: { hosts: [HOST], ...spec } };
}

function body(object: unknown, o: { operation?: string; kind?: string; group?: string; uid?: string } = {}): string {
  const kind = o.kind ?? (object as { kind?: string } | null)?.kind ?? 'MetaRouter';
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? 'a1b2',
      kind: { group: o.group ?? 'metaprotocol.aeraki.io', version: 'v1alpha1', kind },
      resource: { group: o.group ?? 'metaprotocol.aeraki.io', version: 'v1alpha1', resource: `${kind.toLowerCase()}s` },
      operation: o.operation ?? 'CREATE',
      namespace: 'meta-dubbo',
      name: 'demo',
      object,
      oldObject: null,
    },
  });
}

function decided(b: string): Reviewed {
  const r = review(b, context);
  assert.ok(!('error' in r), JSON.stringify(r));
  return r;
}

test('every valid example of crds/examples is admitted, echoing the request uid', () => {
  const dir = path.join(root, 'crds/examples/valid');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const object = parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
    const r = decided(body(object, { uid: `uid-${f}` }));
    assert.equal(r.answer.response.uid, `uid-${f}`);
    assert.equal(r.answer.response.allowed, true, `${f}: ${JSON.stringify(r.answer.response)}`);
    assert.equal(r.answer.response.status, undefined);
  }
});

test('a route after a catch-all route is refused with MM_ROUTER_UNREACHABLE_ROUTE and its sentence', () => {
  const r = decided(body(metaRouter({ routes: [route(undefined), route({ attributes: { method: { exact: 'sayHello' } } }, 'v2')] })));
  const res = r.answer.response;
  assert.equal(res.allowed, false);
  assert.equal(res.status?.code, 422);
  assert.equal(res.status?.reason, 'Invalid');
  assert.equal(
    res.status?.message,
    'MM_ROUTER_UNREACHABLE_ROUTE: MetaRouter meta-dubbo/demo: spec.routes[0] matches every request, so the 1 route(s) after it can never be used; move it last.',
  );
  assert.equal(r.object, 'MetaRouter meta-dubbo/demo');
  assert.deepEqual(r.codes, ['MM_ROUTER_UNREACHABLE_ROUTE']);
});

test('two routes with the same match: the second is refused, named by index', () => {
  const m = { attributes: { method: { exact: 'sayHello' } } };
  const res = decided(body(metaRouter({ routes: [route(m), route(m, 'v2')] }))).answer.response;
  assert.equal(res.allowed, false);
  assert.match(res.status!.message, /^MM_ROUTER_UNREACHABLE_ROUTE: MetaRouter meta-dubbo\/demo: spec\.routes\[1\] has the same match as spec\.routes\[0\]/);
});

test('a null match attribute (Aeraki ignores it silently) is refused with the fix in the message', () => {
  const res = decided(body(metaRouter({ routes: [route({ attributes: { method: null } })] }))).answer.response;
  assert.equal(res.allowed, false);
  assert.match(res.status!.message, /^MM_ROUTER_NULL_MATCH: .*write method: \{regex: "\*"\}/);
});

test('several errors: all named, one line each', () => {
  const res = decided(body(metaRouter({ routes: [{ route: [{ destination: { host: HOST }, weight: 50 }, { destination: { host: HOST }, weight: 40 }] }], exportTo: ['.', '.'] }))).answer.response;
  assert.equal(res.allowed, false);
  const codes = res.status!.message.split('\n').map((l) => l.split(':')[0]);
  assert.deepEqual(codes, ['MM_ROUTER_EXPORT_TO', 'MM_ROUTER_NOT_APPLIED', 'MM_ROUTER_WEIGHTS']);
});

test('a warning that does not stop the rule (gateways without mesh) is admitted with the warning', () => {
  const res = decided(body(metaRouter({ gateways: ['istio-system/ingress'], routes: [route(undefined)] }))).answer.response;
  assert.equal(res.allowed, true);
  assert.equal(res.warnings?.length, 1);
  assert.match(res.warnings![0]!, /^MM_ROUTER_GATEWAY_ONLY: MetaRouter meta-dubbo\/demo: spec\.gateways lists gateways but not "mesh"/);
});

test('a CREATE before the API server fills metadata (null creationTimestamp, generateName only) is decided on its spec', () => {
  const object = metaRouter({ routes: [route(undefined)] }, { name: undefined, generateName: 'demo-', creationTimestamp: null, uid: null, managedFields: [{ manager: 'kubectl' }] });
  const r = decided(body(object));
  assert.equal(r.answer.response.allowed, true, JSON.stringify(r.answer.response));
  assert.equal(r.object, 'MetaRouter meta-dubbo/demo-(generated)');
});

test('the namespace comes from the request when the object has none', () => {
  const object = metaRouter({ routes: [route(undefined), route(undefined)] }, { namespace: undefined });
  assert.equal(decided(body(object)).object, 'MetaRouter meta-dubbo/demo');
});

test('ApplicationProtocols: a codec the CRD pattern accepts but no codec name can be is refused; a valid one admitted', () => {
  const ap = (codec: string) => ({ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'ApplicationProtocol', metadata: { name: 'custom', namespace: 'istio-system' }, spec: { protocol: 'custom', codec } });
  const bad = decided(body(ap('aeraki..codec'))).answer.response;
  assert.equal(bad.allowed, false);
  assert.match(bad.status!.message, /^MM_PROTOCOL_INVALID: ApplicationProtocol istio-system\/custom: spec\.protocol must be a lowercase name/);
  assert.equal(decided(body(ap('aeraki.meta_protocol.codec.custom'))).answer.response.allowed, true);
});

test('DELETE and CONNECT need no check; a kind the webhook does not check is let through with a warning', () => {
  for (const operation of ['DELETE', 'CONNECT']) {
    const res = decided(body(null, { operation })).answer.response;
    assert.deepEqual(res, { uid: 'a1b2', allowed: true });
  }
  const other = decided(body({ kind: 'Gateway', metadata: { name: 'g' } }, { kind: 'Gateway', group: 'networking.istio.io' })).answer.response;
  assert.equal(other.allowed, true);
  assert.match(other.warnings![0]!, /does not check networking\.istio\.io\/Gateway; it was let through/);
});

test('bodies that are not an AdmissionReview get an HTTP error, not a decision', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{', /^the body is not JSON/],
    ['another API version', JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }), /admissionReviewVersions must list v1/],
    ['no uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }), /no request\.uid/],
    ['nested 10,000 deep', `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`, /nests deeper than 64/],
  ];
  for (const [name, b, message] of cases) {
    const r = review(b, context);
    assert.ok('error' in r, name);
    assert.equal(r.error.status, 400, name);
    assert.match(r.error.message, message, name);
  }
});
