/**
 * The flags of what `serve` writes to the Kubernetes API (--apply, --status, --leader-elect and their
 * options): parsed into the invocation, defaults, and each usage error with its reason. Also the
 * REST paths the writers use (src/sink/paths.ts) and the field manager the plan is given.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';
import { defaultLeaseNamespace, writeFlags } from '../../src/cli/serve-flags.js';
import { collectionPathOf, objectPathOf } from '../../src/sink/paths.js';
import { plan } from '../../src/sink/plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/sink/plan-types.js';

const serve = (...argv: string[]) => parseArgs(['serve', ...argv]);

describe('serve --apply, --status, --leader-elect', () => {
  test('with --kubeconfig: the writes and their defaults', () => {
    const inv = serve('--kubeconfig', 'k.yaml', '--apply', '--status', '--leader-elect', '--lease-namespace', 'mesh');
    assert.equal(inv.kind, 'serve');
    if (inv.kind !== 'serve') return;
    assert.deepEqual(inv.writes, { apply: true, status: true, leaderElection: { namespace: 'mesh', name: 'metamesh' }, fieldManager: 'metamesh', instance: 'metamesh', allowMassDeletion: false });
  });

  test('every option given', () => {
    const inv = serve('--kubernetes', '--apply', '--leader-elect', '--lease-namespace', 'ns', '--lease-name', 'mm-leader', '--field-manager', 'metamesh-canary', '--instance', 'canary');
    assert.ok(inv.kind === 'serve');
    assert.deepEqual(inv.writes, { apply: true, status: false, leaderElection: { namespace: 'ns', name: 'mm-leader' }, fieldManager: 'metamesh-canary', instance: 'canary', allowMassDeletion: false });
  });

  test('--allow-mass-deletion turns the guard off', () => {
    const inv = serve('--kubernetes', '--apply', '--allow-mass-deletion');
    assert.ok(inv.kind === 'serve');
    assert.equal(inv.writes?.allowMassDeletion, true);
  });

  test('nothing written without the flags', () => {
    const inv = serve('--kubernetes');
    assert.ok(inv.kind === 'serve');
    assert.equal(inv.writes, undefined);
  });

  test('the Lease namespace defaults to the pod\'s', () => {
    assert.equal(defaultLeaseNamespace({ POD_NAMESPACE: 'mesh' }), 'mesh');
    assert.equal(defaultLeaseNamespace({}), 'istio-system');
    assert.deepEqual((writeFlags({ 'leader-elect': true }, true, { POD_NAMESPACE: 'team' }) as { leaderElection: unknown }).leaderElection, { namespace: 'team', name: 'metamesh' });
  });

  const refused: Array<[string[], RegExp]> = [
    [['-f', '.', '--apply'], /--apply needs --kubernetes or --kubeconfig/],
    [['-f', '.', '--status'], /--status needs --kubernetes or --kubeconfig/],
    [['-f', '.', '--leader-elect'], /--leader-elect needs --kubernetes or --kubeconfig/],
    [['--kubernetes', '--instance', 'x'], /--instance needs --apply, --status or --leader-elect/],
    [['--kubernetes', '--status', '--allow-mass-deletion'], /--allow-mass-deletion needs --apply/],
    [['--kubernetes', '--apply', '--lease-name', 'x'], /--lease-name needs --leader-elect/],
    [['--kubernetes', '--leader-elect', '--lease-namespace', 'Bad_NS'], /--lease-namespace must be a Kubernetes object name/],
    [['--kubernetes', '--apply', '--instance', 'x-'], /--instance must be a label value/],
    [['--kubernetes', '--apply', '--instance=-x-'], /--instance must be a label value/],
    [['--kubernetes', '--apply', '--field-manager', 'has space'], /--field-manager must be 1 to 128 printable ASCII characters/],
  ];
  for (const [argv, why] of refused) {
    test(`refused: ${argv.join(' ')}`, () => {
      const inv = serve(...argv);
      assert.equal(inv.kind, 'usage');
      assert.match((inv as { reason: string }).reason, why);
    });
  }
});

describe('the writers\' REST paths', () => {
  test('namespaced objects of each group, core and cluster-scoped collections; unknown kinds refused', () => {
    assert.equal(objectPathOf({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', namespace: 'istio-system', name: 'a.b' }), '/apis/networking.istio.io/v1alpha3/namespaces/istio-system/envoyfilters/a.b');
    assert.equal(collectionPathOf({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'ns' }), '/apis/coordination.k8s.io/v1/namespaces/ns/leases');
    assert.equal(objectPathOf({ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', namespace: 'n s', name: 'x' }), '/apis/metaprotocol.aeraki.io/v1alpha1/namespaces/n%20s/metarouters/x');
    assert.equal(objectPathOf({ apiVersion: 'v1', kind: 'Secret', namespace: 'ns', name: 'x' }), undefined);
  });

  test('the plan writes under the field manager it is given', () => {
    const ef = { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'a', namespace: 'ns' }, spec: { configPatches: [] } };
    const p = plan([{ ownership: 'object', object: ef }], [], [], { ...DEFAULT_PLAN_OPTIONS, fieldManager: 'metamesh-canary' });
    assert.deepEqual(p.creates.map((c) => c.fieldManager), ['metamesh-canary']);
    // A field this manager applied before (managedFields) and no longer sets takes a write.
    const live = { ...ef, metadata: { ...ef.metadata, resourceVersion: '1', labels: { 'app.kubernetes.io/managed-by': 'metamesh', 'metamesh.io/instance': 'metamesh' }, managedFields: [{ manager: 'metamesh-canary', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:workloadSelector': {} } } }] } };
    const again = plan([{ ownership: 'object', object: ef }], [live], [], { ...DEFAULT_PLAN_OPTIONS, fieldManager: 'metamesh-canary' });
    assert.deepEqual(again.updates.map((u) => u.changes), [['spec.workloadSelector (no longer set by metamesh)']]);
    const otherManager = plan([{ ownership: 'object', object: ef }], [live], [], DEFAULT_PLAN_OPTIONS);
    assert.equal(otherManager.unchanged, 1, 'another manager\'s fields are not metamesh\'s to remove');
  });
});
