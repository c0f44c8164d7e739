/**
 * A test-only message type with every field kind protobuf has, added to a fresh copy of the
 * product's proto Root: each scalar type singular, repeated (packed and unpacked) and as a map
 * key, an enum with a negative value, proto3 `optional` fields, and two oneofs whose field numbers
 * interleave with the plain fields and are declared out of number order — so protobuf-go's field
 * order (plain fields by number, then each oneof in declaration order) differs from number order.
 */
import protobuf from 'protobufjs';
import { loadProtoRoot } from '../../src/proto/registry.js';

export const ALL_KINDS_TYPE = 'metamesh.test.AllKinds';

const ALL_KINDS_PROTO = `
syntax = "proto3";
package metamesh.test;

enum Kind {
  KIND_ZERO = 0;
  KIND_ONE = 1;
  KIND_NEG = -1;
}

message AllKinds {
  double f_double = 1;
  float f_float = 2;
  int32 f_int32 = 3;
  int64 f_int64 = 4;
  uint32 f_uint32 = 5;
  uint64 f_uint64 = 6;
  sint32 f_sint32 = 7;
  sint64 f_sint64 = 8;
  fixed32 f_fixed32 = 9;
  fixed64 f_fixed64 = 10;
  sfixed32 f_sfixed32 = 11;
  sfixed64 f_sfixed64 = 12;
  bool f_bool = 13;
  string f_string = 14;
  bytes f_bytes = 15;
  Kind f_enum = 16;

  repeated double r_double = 21;
  repeated float r_float = 22;
  repeated int32 r_int32 = 23;
  repeated int64 r_int64 = 24;
  repeated uint32 r_uint32 = 25;
  repeated uint64 r_uint64 = 26;
  repeated sint32 r_sint32 = 27;
  repeated sint64 r_sint64 = 28;
  repeated fixed32 r_fixed32 = 29;
  repeated fixed64 r_fixed64 = 30;
  repeated sfixed32 r_sfixed32 = 31;
  repeated sfixed64 r_sfixed64 = 32;
  repeated bool r_bool = 33;
  repeated string r_string = 34;
  repeated bytes r_bytes = 35;
  repeated Kind r_enum = 36;
  repeated int32 r_int32_unpacked = 37 [packed = false];
  repeated sint64 r_sint64_unpacked = 38 [packed = false];

  map<string, int32> m_string = 50;
  map<int32, string> m_int32 = 51;
  map<int64, AllKinds> m_int64 = 52;
  map<uint32, Kind> m_uint32 = 53;
  map<sint64, bytes> m_sint64 = 54;
  map<fixed32, double> m_fixed32 = 55;
  map<bool, string> m_bool = 56;

  optional int32 o_int32 = 60;
  optional string o_string = 61;
  optional Kind o_enum = 62;
  optional bool o_bool = 63;

  oneof first {
    string a_string = 70;
    int64 a_int64 = 71;
    AllKinds a_message = 72;
  }
  oneof second {
    bool b_bool = 65;
    Kind b_enum = 66;
    bytes b_bytes = 67;
  }

  AllKinds child = 80;
  repeated AllKinds children = 81;
  google.protobuf.Any any = 82;
  google.protobuf.UInt32Value wrapped = 83;
}
`;

/** A fresh product Root (loadProtoRoot) with metamesh.test.AllKinds added. */
export function rootWithAllKinds(): protobuf.Root {
  const root = loadProtoRoot();
  protobuf.parse(ALL_KINDS_PROTO, root);
  root.resolveAll();
  return root;
}
