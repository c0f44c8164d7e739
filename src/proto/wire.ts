/**
 * Proto3 JSON -> protobuf binary for the xDS resources metamesh serves.
 *
 * protobufjs' own `fromObject` is lenient (unknown fields and unknown enum names are silently
 * dropped, wrapper types such as UInt32Value need `{value: n}`, Duration needs `{seconds, nanos}`,
 * Any needs `{type_url, value}`), so JSON is first converted by a strict reflection walk that
 * implements the proto3 JSON mapping and throws `ProtoJsonError` on anything the schema does not
 * know (json.ts), and the result is written by a reflective encoder (encode.ts). Output bytes are
 * deterministic and laid out as protobuf-go lays them out: proto3 implicit-presence fields holding
 * their default value are omitted, map entries are sorted by key, and fields come in protobuf-go's
 * order (plain fields by number, then each oneof's field), so they equal what Aeraki and
 * go-control-plane produce for the same message.
 */
import type protobuf from 'protobufjs';
import { MessageEncoder } from './encode.js';
import { JsonConverter } from './json.js';
import { loadProtoRoot } from './registry.js';

export { ProtoJsonError } from './json-values.js';

/** The RDS resource the MetaProtocol proxy subscribes to: Envoy's HTTP RouteConfiguration. */
export const HTTP_ROUTE_CONFIGURATION_TYPE = 'envoy.config.route.v3.RouteConfiguration';

export interface Wire {
  readonly root: protobuf.Root;
  /** Strictly converts proto3 JSON of `typeName` and encodes it. Throws ProtoJsonError on JSON the schema rejects. */
  encode(typeName: string, json: object): Uint8Array;
}

/**
 * Builds a Wire over `root` (default: a freshly loaded registry root, which takes a few hundred
 * ms). It keeps per-type lookup tables: create one and pass it to whoever encodes.
 */
export function createWire(root: protobuf.Root = loadProtoRoot()): Wire {
  const encoder = new MessageEncoder();
  const converter = new JsonConverter(root, encoder);
  return {
    root,
    encode(typeName, json) {
      const type = root.lookupType(typeName);
      return encoder.encode(type, converter.messageFromJson(type, json, type.name));
    },
  };
}

export function encodeRouteConfiguration(json: object, wire: Wire): Uint8Array {
  return wire.encode(HTTP_ROUTE_CONFIGURATION_TYPE, json);
}
