/**
 * The reflective protobuf encoder (src/proto/encode.ts) behind the Wire: byte-for-byte what the
 * previous encoder (protobufjs' generated encoders) wrote for a random corpus, protobuf-go's field
 * order and map key order, and hand-checked bytes for the edge cases of each scalar kind.
 *
 * The corpus (test/support/encoding-corpus.json) is 240 messages from test/support/proto-random.ts
 * (seed 20261129): 160 Envoy / Aeraki / well-known-type messages and 80 of the test-only AllKinds.
 * When it was captured, the 160 were also encoded with protobuf-go v1.36.12 (protojson, then
 * deterministic Marshal, go-control-plane v1.40.0 and meta-protocol-control-plane-api v1.4.1 types):
 * all 160 byte-identical. The bytes protobuf-go produced for Aeraki's own example route are checked
 * in proto.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { goFieldOrder } from '../../src/proto/encode.js';
import { ProtoJsonError, createWire } from '../../src/proto/wire.js';
import { ALL_KINDS_TYPE, rootWithAllKinds } from '../support/proto-all-kinds.js';
import { decodeJson } from '../support/proto-decode.js';
import { randomJson } from '../support/proto-random.js';
import { mulberry32 } from '../support/random.js';

const wire = createWire(rootWithAllKinds());
const allKinds = wire.root.lookupType(ALL_KINDS_TYPE);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const encodeAllKinds = (json: object): string => hex(wire.encode(ALL_KINDS_TYPE, json));

/** Top-level field numbers of `bytes`, in the order they are written. */
function fieldNumbers(bytes: Uint8Array): number[] {
  const reader = protobuf.Reader.create(bytes);
  const out: number[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    out.push(tag >>> 3);
    reader.skipType(tag & 7);
  }
  return out;
}

/** The keys of map field `fieldNumber`, in the order its entries are written. */
function mapKeys(bytes: Uint8Array, fieldNumber: number, readKey: (reader: protobuf.Reader) => unknown): unknown[] {
  const reader = protobuf.Reader.create(bytes);
  const keys: unknown[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== fieldNumber) {
      reader.skipType(tag & 7);
      continue;
    }
    const entry = protobuf.Reader.create(reader.bytes());
    assert.equal(entry.uint32() >>> 3, 1, 'a map entry starts with its key');
    keys.push(readKey(entry));
  }
  return keys;
}

describe('protobuf encoder', () => {
  it('writes the same bytes as the previous encoder for 240 random messages of 10 types, and their canonical JSON re-encodes to them', () => {
    const corpus = JSON.parse(readFileSync(new URL('../support/encoding-corpus.json', import.meta.url), 'utf8')) as { type: string; json: object; hex: string }[];
    assert.equal(corpus.length, 240);
    for (const [i, sample] of corpus.entries()) {
      const bytes = wire.encode(sample.type, sample.json);
      assert.equal(hex(bytes), sample.hex, `sample ${i} (${sample.type})`);
      assert.equal(hex(wire.encode(sample.type, decodeJson(wire.root, sample.type, bytes))), sample.hex, `sample ${i} (${sample.type}) round trip`);
    }
  });

  it('writes fresh random messages in protobuf-go field order, and they round-trip through canonical JSON', () => {
    const rnd = mulberry32(4242);
    const order = new Map(goFieldOrder(allKinds).map((field, position) => [field.id, position]));
    for (let i = 0; i < 200; i++) {
      const bytes = wire.encode(ALL_KINDS_TYPE, randomJson(allKinds, rnd, { maxDepth: 1, fieldChance: 0.5 }));
      const positions = fieldNumbers(bytes).map((n) => order.get(n)!);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `message ${i}: fields out of order`);
      assert.equal(hex(wire.encode(ALL_KINDS_TYPE, decodeJson(wire.root, ALL_KINDS_TYPE, bytes))), hex(bytes), `message ${i}: round trip`);
    }
  });

  it('puts plain fields (proto3 optional included) first by number, then each oneof in declaration order', () => {
    // oneof `first` (70..72) is declared before oneof `second` (65..67).
    const json = { bBool: true, aString: 'b', oInt32: 0, fString: 'a', child: {} };
    assert.deepEqual(fieldNumbers(wire.encode(ALL_KINDS_TYPE, json)), [14, 60, 80, 70, 65]);
    assert.equal(encodeAllKinds(json), '720161' + 'e00300' + '8205' + '00' + 'b2040162' + '880401');
  });

  it('omits proto3 implicit defaults but keeps explicitly present ones', () => {
    assert.equal(encodeAllKinds({ fInt32: 0, fString: '', fBool: false, fEnum: 'KIND_ZERO', fBytes: '', rInt32: [], mString: {} }), '');
    // optional, oneof member, wrapper: present with their default value
    assert.equal(encodeAllKinds({ oString: '', bEnum: 'KIND_ZERO', wrapped: 0 }), 'ea0300' + '9a0500' + '900400');
  });

  it('writes each scalar kind as protobuf-go does at its edges', () => {
    const cases: [object, string][] = [
      [{ fDouble: -0 }, '090000000000000080'],
      [{ fFloat: 1.5 }, '150000c03f'],
      [{ fInt32: -1 }, '18ffffffffffffffffff01'],
      [{ fInt64: '-9223372036854775808' }, '2080808080808080808001'],
      [{ fUint32: 4294967295 }, '28ffffffff0f'],
      [{ fUint64: '18446744073709551615' }, '30ffffffffffffffffff01'],
      [{ fSint32: -1 }, '3801'],
      [{ fSint64: '-2' }, '4003'],
      [{ fFixed32: 1 }, '4d01000000'],
      [{ fFixed64: '4294967296' }, '510000000001000000'],
      [{ fSfixed32: -1 }, '5dffffffff'],
      [{ fSfixed64: -1 }, '61ffffffffffffffff'],
      [{ fEnum: 'KIND_NEG' }, '8001ffffffffffffffffff01'],
      [{ fBytes: '_w' }, '7a01ff'],
      [{ rInt32: [1, -1] }, 'ba010b01ffffffffffffffffff01'],
      [{ rSint64: ['1', '-1'] }, 'e201020201'],
      [{ rString: ['', 'x'] }, '920200920201' + '78'],
      [{ rInt32Unpacked: [1, 0] }, 'a80201a80200'],
    ];
    for (const [json, expected] of cases) assert.equal(encodeAllKinds(json), expected, JSON.stringify(json));
  });
});

describe('map entries in protobuf-go key order', () => {
  it('orders string keys by UTF-8 bytes, integer-like strings included', () => {
    const json = { mString: { '9': 1, a: 2, '10': 3, '\uFFFD': 4, '\u{1F600}': 5 } };
    const keys = mapKeys(wire.encode(ALL_KINDS_TYPE, json), 50, (r) => r.string());
    assert.deepEqual(keys, ['10', '9', 'a', '\uFFFD', '\u{1F600}']);
  });

  it('orders Struct keys the same way, byte for byte as protobuf-go', () => {
    const bytes = wire.encode('google.protobuf.Struct', { '9': 1, '10': 2, b: null, '\uFFFD': 'x', '\u{1F600}': true, a: [1, 'z'] });
    assert.deepEqual(mapKeys(bytes, 1, (r) => r.string()), ['10', '9', 'a', 'b', '\uFFFD', '\u{1F600}']);
    // protobuf-go v1.36.12: structpb.NewStruct of the same map, MarshalOptions{Deterministic: true}.
    const go =
      '0a0f0a02313012091100000000000000400a0e0a0139120911000000000000f03f0a170a0161121232100a0911000000000000f03f0a031a017a' +
      '0a070a0162120208000a0a0a03efbfbd12031a01780a0a0a04f09f988012022001';
    assert.equal(hex(bytes), go);
  });

  it('orders integer keys by value, negative ones first', () => {
    const bytes = wire.encode(ALL_KINDS_TYPE, { mInt32: { '5': 'a', '-1': 'b', '-20': 'c', '100': 'd' }, mSint64: { '3': '', '-9223372036854775808': '' } });
    assert.deepEqual(mapKeys(bytes, 51, (r) => r.int32()), [-20, -1, 5, 100]);
    assert.deepEqual(mapKeys(bytes, 54, (r) => r.sint64().toString()), ['-9223372036854775808', '3']);
  });

  it('writes bool keys as false then true', () => {
    assert.deepEqual(mapKeys(wire.encode(ALL_KINDS_TYPE, { mBool: { true: 'y', false: 'x' } }), 56, (r) => r.bool()), [false, true]);
  });

  it('rejects an integer map key outside its type range', () => {
    assert.throws(() => wire.encode(ALL_KINDS_TYPE, { mInt32: { '2147483648': 'x' } }), ProtoJsonError);
  });
});
