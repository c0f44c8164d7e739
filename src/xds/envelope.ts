/**
 * Encodes xDS responses straight to protobuf bytes around the cache's shared resource bytes.
 *
 * A DiscoveryResponse is little more than its resources; re-serialising the envelope with a
 * generic encoder per stream copied every resource byte again for every stream. Here each
 * resource's wrapped form (the google.protobuf.Any for SotW, the discovery Resource for delta, each
 * with its field tag and length) is encoded once per resource version and memoised on the shared,
 * frozen XdsResource object; a response is then those pieces plus a few short per-stream fields
 * (version_info, type_url, nonce), joined in one copy. The gRPC services serialise a Buffer as is
 * (services.ts, `passThroughResponses`).
 *
 * Fields are written in field-number order, strings as UTF-8, empty strings omitted (proto3
 * defaults), exactly as protobuf-go would. Field numbers (envoy/service/discovery/v3/discovery.proto,
 * google/protobuf/any.proto):
 *   DiscoveryResponse       version_info 1, resources 2 (Any), type_url 4, nonce 5
 *   DeltaDiscoveryResponse  system_version_info 1, resources 2 (Resource), type_url 4, nonce 5,
 *                           removed_resources 6
 *   Resource                version 1, resource 2 (Any), name 3
 *   Any                     type_url 1, value 2
 */
import type { DeltaResponse } from './delta.js';
import type { XdsResource } from './protocol.js';
import type { SotwResponse } from './sotw.js';

const LEN = 2; // wire type: length-delimited

/** Encoded pieces per resource version; the XdsResource object is never mutated. */
interface Pieces {
  readonly typeUrl: string;
  sotw?: Buffer;
  delta?: Buffer;
}

const memo = new WeakMap<XdsResource, Pieces>();

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Size of a length-delimited field with a one-byte tag (field numbers 1–15) and `len` payload bytes. */
function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function writeHeader(buf: Buffer, at: number, field: number, len: number): number {
  buf[at++] = (field << 3) | LEN;
  return writeVarint(buf, at, len);
}

function writeBytesField(buf: Buffer, at: number, field: number, bytes: Uint8Array): number {
  at = writeHeader(buf, at, field, bytes.byteLength);
  buf.set(bytes, at);
  return at + bytes.byteLength;
}

/** A string field; an empty singular string is omitted, as proto3 does (repeated elements are kept). */
function stringField(field: number, s: string, repeated = false): Buffer {
  if (s === '' && !repeated) return Buffer.alloc(0);
  const text = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(fieldSize(text.byteLength));
  writeBytesField(out, 0, field, text);
  return out;
}

/** `google.protobuf.Any{type_url, value}` as the payload of field `field`. */
function anyField(field: number, typeUrl: string, value: Uint8Array): Buffer {
  const url = Buffer.from(typeUrl, 'utf8');
  const anyLen = fieldSize(url.byteLength) + fieldSize(value.byteLength);
  const out = Buffer.allocUnsafe(fieldSize(anyLen));
  let at = writeHeader(out, 0, field, anyLen);
  at = writeBytesField(out, at, 1, url);
  writeBytesField(out, at, 2, value);
  return out;
}

function pieces(typeUrl: string, r: XdsResource): Pieces {
  let p = memo.get(r);
  if (!p || p.typeUrl !== typeUrl) {
    p = { typeUrl };
    memo.set(r, p);
  }
  return p;
}

/** DiscoveryResponse.resources entry (field 2): the resource as an Any. Encoded once per resource version. */
export function sotwResourcePiece(typeUrl: string, r: XdsResource): Buffer {
  const p = pieces(typeUrl, r);
  return (p.sotw ??= anyField(2, typeUrl, r.bytes));
}

/** DeltaDiscoveryResponse.resources entry (field 2): Resource{version, resource: Any, name}. Encoded once per resource version. */
export function deltaResourcePiece(typeUrl: string, r: XdsResource): Buffer {
  const p = pieces(typeUrl, r);
  if (!p.delta) {
    const version = stringField(1, r.version);
    const any = anyField(2, typeUrl, r.bytes);
    const name = stringField(3, r.name);
    const len = version.byteLength + any.byteLength + name.byteLength;
    const out = Buffer.allocUnsafe(fieldSize(len));
    let at = writeHeader(out, 0, 2, len);
    out.set(version, at);
    at += version.byteLength;
    out.set(any, at);
    at += any.byteLength;
    out.set(name, at);
    p.delta = out;
  }
  return p.delta;
}

/** The encoded envoy.service.discovery.v3.DiscoveryResponse. */
export function encodeSotwResponse(r: SotwResponse): Buffer {
  const anyTypeUrl = r.resourceTypeUrl ?? r.typeUrl;
  return Buffer.concat([
    stringField(1, r.versionInfo),
    ...r.resources.map((x) => sotwResourcePiece(anyTypeUrl, x)),
    stringField(4, r.typeUrl),
    stringField(5, r.nonce),
  ]);
}

/** The encoded envoy.service.discovery.v3.DeltaDiscoveryResponse. */
export function encodeDeltaResponse(r: DeltaResponse): Buffer {
  return Buffer.concat([
    stringField(1, r.systemVersionInfo),
    ...r.resources.map((x) => deltaResourcePiece(r.typeUrl, x)),
    stringField(4, r.typeUrl),
    stringField(5, r.nonce),
    ...r.removedResources.map((n) => stringField(6, n, true)),
  ]);
}
