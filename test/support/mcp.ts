/**
 * Test helpers for the MCP sink: decoding what it serves (with metamesh's proto definitions, in
 * canonical proto3 JSON) and an ADS client that behaves as istiod's MCP client (istio.io/istio
 * pkg/adsc, as pilot's configSources xds:// uses it) does:
 *   - one StreamAggregatedResources stream (state of the world);
 *   - on connect, one wildcard request per type URL of ISTIOD_TYPE_URLS, in that order; only the
 *     first carries the node (id `istiod~…`, metadata GENERATOR=api, ISTIO_REVISION,
 *     ISTIO_VERSION=65536.65536.65536); every one carries a timestamp string as response_nonce
 *     (adsc sets `time.Now().String()`);
 *   - each response ACKed at once: response_nonce and version_info of the response, the node,
 *     no resource names.
 */
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ISTIOD_TYPE_URLS, MCP_RESOURCE_TYPE, MCP_RESOURCE_TYPE_URL } from '../../src/mcp/types.js';
import type { AnyWire, DiscoveryResponseWire } from '../../src/xds/services.js';
import { decodeJson, type JsonObject } from './proto-decode.js';
import { client, services, type Stream } from './xds.js';

export const ISTIOD_NODE = {
  id: 'istiod~10.0.0.9~istiod-local.istio-system~istio-system.svc.cluster.local',
  metadata: {
    fields: {
      GENERATOR: { string_value: 'api' },
      ISTIO_REVISION: { string_value: 'default' },
      ISTIO_VERSION: { string_value: '65536.65536.65536' },
    },
  },
};

/** What istiod reads from one MCP resource. */
export interface DecodedMcp {
  readonly name: string;
  readonly version: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly createTime: string | undefined;
  /** The body's type URL. */
  readonly bodyType: string;
  /** The body, canonical proto3 JSON without '@type'. */
  readonly spec: JsonObject;
}

export function decodeMcp(any: AnyWire | { type_url: string; value: Uint8Array }, root: protobuf.Root): DecodedMcp {
  assert.equal(any.type_url, MCP_RESOURCE_TYPE_URL);
  const r = decodeJson(root, MCP_RESOURCE_TYPE, new Uint8Array(any.value));
  const m = (r.metadata ?? {}) as JsonObject;
  const { '@type': bodyType, ...spec } = (r.body ?? {}) as JsonObject;
  return {
    name: m.name as string,
    version: (m.version as string | undefined) ?? '',
    labels: (m.labels ?? {}) as Record<string, string>,
    annotations: (m.annotations ?? {}) as Record<string, string>,
    createTime: m.createTime as string | undefined,
    bodyType: bodyType as string,
    spec: spec as JsonObject,
  };
}

/** The timestamp nonce istiod's adsc puts on its initial requests (Go's time.Time.String()). */
export function goTimeString(d = new Date()): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')} +0000 UTC m=+0.012345678`;
}

export interface Istiod {
  readonly stream: Stream<DiscoveryResponseWire>;
  /** The latest response per type URL (each ACKed when received). */
  readonly latest: Map<string, DiscoveryResponseWire>;
  /** Every response received, in order. */
  readonly received: DiscoveryResponseWire[];
  /** Receives `n` responses, ACKing each (or NACKing, when `nack` says so for it). */
  receive(n: number, nack?: (r: DiscoveryResponseWire) => string | undefined): Promise<DiscoveryResponseWire[]>;
  close(): void;
}

/** Connects as istiod and sends its 16 initial requests (`typeUrls` to imitate another istiod). */
export function connectIstiod(port: number, typeUrls: readonly string[] = ISTIOD_TYPE_URLS, creds?: grpc.ChannelCredentials, options?: grpc.ChannelOptions): Istiod {
  const { client: c, open } = client(services.AdsClient, port, creds, options);
  const stream = open<DiscoveryResponseWire>('StreamAggregatedResources');
  typeUrls.forEach((typeUrl, i) => stream.send({ type_url: typeUrl, response_nonce: goTimeString(), ...(i === 0 ? { node: ISTIOD_NODE } : {}) }));
  const latest = new Map<string, DiscoveryResponseWire>();
  const received: DiscoveryResponseWire[] = [];
  return {
    stream,
    latest,
    received,
    async receive(n, nack) {
      const out: DiscoveryResponseWire[] = [];
      for (let i = 0; i < n; i++) {
        const r = await stream.next();
        out.push(r);
        received.push(r);
        const reason = nack?.(r);
        if (reason === undefined) latest.set(r.type_url, r);
        stream.send({
          type_url: r.type_url,
          response_nonce: r.nonce,
          version_info: reason === undefined ? r.version_info : (latest.get(r.type_url)?.version_info ?? ''),
          node: ISTIOD_NODE,
          ...(reason === undefined ? {} : { error_detail: { code: 3, message: reason } }),
        });
      }
      return out;
    },
    close() {
      stream.close();
      c.close();
    },
  };
}
