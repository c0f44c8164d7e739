/**
 * One MCP object → the bytes of its `istio.mcp.v1alpha1.Resource`, with a content version.
 *
 * - The spec is encoded as its v1alpha3 message with the strict proto3 JSON converter
 *   (src/proto/wire.ts): a field the message does not have, a wrong type or an unknown enum name
 *   throws ProtoJsonError with the path to it. Nothing is dropped silently; the caller turns the
 *   error into a diagnostic (store.ts).
 * - metadata.version is a hash of everything else the Resource carries (name, create_time,
 *   labels, annotations, body), so it is equal for equal content across calls, processes and
 *   replicas, and changes with any change istiod would see. istiod skips an object whose version
 *   it already holds.
 * - Bytes are deterministic (maps sorted by key, fields in protobuf-go's order).
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import type { Wire } from '../proto/wire.js';
import type { XdsResource } from '../xds/protocol.js';
import type { McpObject } from './objects.js';
import { MCP_METADATA_TYPE } from './types.js';

const LEN = 2;

/** The encoded Resource; `name` is `<namespace>/<name>`, `version` its metadata.version. */
export function encodeMcpObject(o: McpObject, wire: Wire): XdsResource {
  const body = wire.encode(o.served.bodyType, o.spec);
  const metadata = (version: string): Uint8Array =>
    wire.encode(MCP_METADATA_TYPE, {
      name: o.name,
      ...(o.createTime !== undefined ? { createTime: o.createTime } : {}),
      ...(version !== '' ? { version } : {}),
      labels: o.labels,
      annotations: o.annotations,
    });
  const unversioned = metadata('');
  const version = createHash('sha256').update(unversioned).update('\u0000').update(o.served.bodyType).update('\u0000').update(body).digest('hex').slice(0, 16);
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | LEN).bytes(metadata(version));
  w.uint32((2 << 3) | LEN).fork();
  w.uint32((1 << 3) | LEN).string(`type.googleapis.com/${o.served.bodyType}`);
  if (body.length > 0) w.uint32((2 << 3) | LEN).bytes(body);
  w.ldelim();
  return Object.freeze({ name: o.name, version, bytes: w.finish() });
}
