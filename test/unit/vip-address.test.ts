/**
 * Addresses of ServiceEntries without their own (src/serviceentry/address.ts, vip.ts, and the
 * engine's use of them): an allocation survives a restart and the arrival of a service that would
 * have taken its slot, istiod's auto-allocated address is honoured, and replicas agree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readResources, parseYaml } from '../../src/input/read.js';
import type { ServiceEntry } from '../../src/model/resources.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { addressView, allocationOf, ALLOCATED_ADDRESS_ANNOTATION, carryOverAllocation, istioAddresses } from '../../src/serviceentry/address.js';
import { allocateVips } from '../../src/serviceentry/vip.js';

const builtins = loadBuiltinProtocols();
const CIDR = '10.0.0.0/29';

/** A key sorting before `of` whose hash slot, without previous allocations, takes `of`'s address. */
function thiefOf(of: string): string {
  const alone = allocateVips([of], new Set(), CIDR).assigned.get(of)!;
  for (let i = 0; i < 10_000; i++) {
    const k = `ServiceEntry a/thief-${i}`;
    if (allocateVips([of, k], new Set(), CIDR).assigned.get(k) === alone) return k;
  }
  throw new Error('no colliding key found');
}

function se(name: string, extra: Partial<ServiceEntry['spec']> = {}, annotations?: Record<string, string>, status?: ServiceEntry['status']): ServiceEntry {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: 'demo', ...(annotations ? { annotations } : {}) },
    spec: { hosts: [`${name}.demo.example`], ports: [{ number: 20880, name: 'tcp-metaprotocol-dubbo' }], resolution: 'STATIC', ...extra },
    ...(status ? { status } : {}),
  };
}

describe('allocateVips with previous allocations', () => {
  it('without previous allocations, a new key sorting first can take an existing address (why they are read back)', () => {
    const existing = 'ServiceEntry demo/existing';
    const before = allocateVips([existing], new Set(), CIDR).assigned.get(existing);
    const after = allocateVips([existing, thiefOf(existing)], new Set(), CIDR).assigned.get(existing);
    assert.notEqual(after, before);
  });

  it('with its previous allocation, an existing key keeps its address and the new key goes around it', () => {
    const existing = 'ServiceEntry demo/existing';
    const before = allocateVips([existing], new Set(), CIDR).assigned.get(existing)!;
    const thief = thiefOf(existing);
    const r = allocateVips([{ key: existing, previous: before }, thief], new Set(), CIDR);
    assert.equal(r.assigned.get(existing), before);
    assert.notEqual(r.assigned.get(thief), before);
    assert.deepEqual(r.moved, []);
  });

  it('a previous allocation now used elsewhere moves, and says why', () => {
    const r = allocateVips([{ key: 'k', previous: '10.0.0.3' }], new Set(['10.0.0.3']), CIDR);
    assert.notEqual(r.assigned.get('k'), '10.0.0.3');
    assert.deepEqual(r.moved, [{ key: 'k', previous: '10.0.0.3', reason: 'used-elsewhere' }]);
  });

  it('a key given twice counts once, with the lowest previous address, whatever the order', () => {
    const a = allocateVips([{ key: 'k', previous: '10.0.0.5' }, { key: 'k', previous: '10.0.0.3' }], new Set(), CIDR);
    const b = allocateVips([{ key: 'k', previous: '10.0.0.3' }, { key: 'k', previous: '10.0.0.5' }, 'k'], new Set(), CIDR);
    assert.deepEqual([...a.assigned], [['k', '10.0.0.3']]);
    assert.deepEqual([...b.assigned], [['k', '10.0.0.3']]);
  });
});

describe('reading addresses back from objects', () => {
  it('an allocation is the annotation when spec.addresses is exactly that address (a CIDR form counts)', () => {
    assert.equal(allocationOf(se('a', { addresses: ['240.240.1.2'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2' })), '240.240.1.2');
    assert.equal(allocationOf(se('a', { addresses: ['240.240.1.2/32'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2' })), '240.240.1.2');
    assert.equal(allocationOf(se('a', { addresses: ['10.0.0.1'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2' })), undefined);
    assert.equal(allocationOf(se('a', { addresses: ['240.240.1.2', '10.0.0.1'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2' })), undefined);
    assert.equal(allocationOf(se('a', { addresses: ['240.240.1.2'] })), undefined);
  });

  it("the address view drops metamesh's allocation and, with it, istiod's status; a user's address stays", () => {
    const ours = se('a', { addresses: ['240.240.1.2'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2', keep: 'me' }, { addresses: [{ value: '240.240.9.9' }] });
    const view = addressView(ours);
    assert.equal(view.spec.addresses, undefined);
    assert.deepEqual(view.metadata.annotations, { keep: 'me' });
    assert.equal(view.status, undefined);
    const users = se('b', { addresses: ['10.0.0.1'] });
    assert.equal(addressView(users), users);
  });

  it("istiod's addresses: IPv4 only, for the first host or for no host in particular", () => {
    const s = se('a', {}, undefined, { addresses: [{ value: '240.240.0.1', host: 'a.demo.example' }, { value: '2001:2::1', host: 'a.demo.example' }, { value: '240.240.0.2', host: 'other.example' }, { value: '240.240.0.3' }] });
    assert.deepEqual(istioAddresses(s), ['240.240.0.1', '240.240.0.3']);
  });

  it('a generated ServiceEntry takes the allocation of its live copy, and only that', () => {
    const live = se('a', { addresses: ['240.240.1.2'] }, { [ALLOCATED_ADDRESS_ANNOTATION]: '240.240.1.2' });
    const fresh = se('a');
    const carried = carryOverAllocation(fresh, live);
    assert.deepEqual(carried.spec.addresses, ['240.240.1.2']);
    assert.equal(allocationOf(carried), '240.240.1.2');
    assert.equal(carryOverAllocation(fresh, undefined), fresh);
    assert.equal(carryOverAllocation(fresh, se('a', { addresses: ['10.0.0.1'] })), fresh);
  });
});

describe('the engine keeps allocations across restarts', () => {
  const yaml = (docs: ServiceEntry[]) => docs.map((d) => JSON.stringify(d)).join('\n---\n');
  const configOf = (text: string) => readResources(parseYaml(text, 'test.yaml').documents).config;
  const options = { apiVersion: 'metamesh.io/v1alpha1', kind: 'MetameshOptions', metadata: { name: 'o' }, spec: { vipCidr: CIDR } };

  it('a restart that reads back its own output, plus a newcomer that would take the slot, moves nothing', () => {
    const existing = se('existing');
    const first = build(configOf(`${JSON.stringify(options)}\n---\n${yaml([existing])}`), builtins);
    const written = first.serviceEntries[0]!;
    const ip = written.metadata.annotations![ALLOCATED_ADDRESS_ANNOTATION]!;
    // What a second replica (or the next leader) reads: the written object, and a newcomer whose
    // key sorts first and hashes to the same slot.
    const thief = thiefOf('ServiceEntry demo/existing').split('/')[1]!;
    const newcomer = { ...se(thief), metadata: { name: thief, namespace: 'a' } };
    const second = build(configOf(`${JSON.stringify(options)}\n---\n${JSON.stringify(written)}\n---\n${yaml([newcomer])}`), builtins);
    const byName = new Map(second.serviceEntries.map((s) => [s.metadata.name, s.metadata.annotations![ALLOCATED_ADDRESS_ANNOTATION]]));
    assert.equal(byName.get('existing'), ip);
    assert.notEqual(byName.get(thief), ip);
    assert.ok(!second.diagnostics.some((d) => d.code === 'MM_SERVICE_VIP_REALLOCATED'));
  });

  it('incrementally, an object that comes back with its allocation keeps it', () => {
    const engine = createEngine(configOf(`${JSON.stringify(options)}\n---\n${yaml([se('x'), se('y')])}`), builtins);
    const out = engine.output().serviceEntries;
    for (const written of out) engine.apply([{ op: 'upsert', resource: written as unknown as ServiceEntry }]);
    engine.flush();
    assert.deepEqual(engine.output().serviceEntries.map((s) => s.spec.addresses), out.map((s) => s.spec.addresses));
  });

  it("a ServiceEntry istiod gave an address gets no VIP and its address is never handed out", () => {
    const withStatus = se('istio', {}, undefined, { addresses: [{ value: '10.0.0.1', host: 'istio.demo.example' }] });
    const many = Array.from({ length: 6 }, (_, i) => se(`n${i}`));
    const config = configOf(`${JSON.stringify(options)}\n---\n${yaml([withStatus, ...many])}`);
    assert.ok(config.serviceEntries.find((s) => s.metadata.name === 'istio')!.status, 'the input stage keeps status.addresses');
    const out = build(config, builtins);
    assert.ok(!out.serviceEntries.some((s) => s.metadata.name === 'istio'));
    assert.ok(!out.serviceEntries.some((s) => (s.spec.addresses as string[]).includes('10.0.0.1')));
    assert.ok(out.envoyFilters.some((ef) => JSON.stringify(ef.spec).includes('"10.0.0.1_20880"')));
  });
});
