/**
 * An MCP collection larger than 64 MiB still reaches istiod. Every MCP response is a whole
 * collection: at 10,000 Dubbo services exported to two namespaces the EnvoyFilters alone are 42.5 MB
 * (bench/README.md, sink benchmark), so about 16,000 such services go over 64 MiB, which was the xDS
 * server's send limit: grpc-js then ended istiod's stream with RESOURCE_EXHAUSTED, istiod
 * reconnected and got the same answer, and never held the EnvoyFilters. The limit is now what
 * istiod's MCP client accepts (math.MaxInt32, istio.io/istio pkg/adsc). Here the store gets one
 * ServiceEntry with a 65 MiB annotation (far cheaper to build than 32,000 EnvoyFilters) beside what
 * serve generated, and an istiod-like client (test/support/mcp.ts) must receive all of it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SERVED_KINDS } from '../../src/mcp/types.js';
import type { McpObject } from '../../src/mcp/objects.js';
import { MAX_SEND_MESSAGE_BYTES } from '../../src/xds/server.js';
import { connectIstiod, decodeMcp } from '../support/mcp.js';
import { examplesCopy, removeTemps, start } from '../support/xds.js';
import { createWire } from '../../src/proto/wire.js';

after(removeTemps);

const SE = SERVED_KINDS.find((k) => k.kind === 'ServiceEntry')!;
const BIG = 65 * 1024 * 1024;

test('a ServiceEntry collection of more than 64 MiB is served whole to istiod (the send limit is istiod\'s receive limit)', async () => {
  assert.equal(MAX_SEND_MESSAGE_BYTES, 2 ** 31 - 1);
  const srv = await start(examplesCopy(), { mcp: {} });
  // The client accepts what istiod accepts.
  const istiod = connectIstiod(srv.xdsPort, [SE.typeUrl], undefined, { 'grpc.max_receive_message_length': 2 ** 31 - 1 });
  try {
    const [first] = await istiod.receive(1);
    const big: McpObject = {
      served: SE,
      name: 'dubbo/huge',
      labels: {},
      annotations: { 'example.com/padding': 'x'.repeat(BIG) },
      createTime: undefined,
      spec: { hosts: ['huge.example.com'], ports: [{ number: 20880, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' }], location: 'MESH_INTERNAL', resolution: 'STATIC' },
    };
    const current = first!.resources.map((a) => decodeMcp(a, createWire().root));
    srv.mcp!.store.update([
      ...current.map((d): McpObject => ({ served: SE, name: d.name, labels: d.labels, annotations: d.annotations, createTime: d.createTime, spec: d.spec })),
      big,
    ]);
    const [r] = await istiod.receive(1);
    assert.equal(r!.type_url, SE.typeUrl);
    const names = r!.resources.map((a) => decodeMcp(a, createWire().root).name);
    assert.deepEqual(names, [...current.map((d) => d.name), 'dubbo/huge'].sort());
    const total = r!.resources.reduce((n, a) => n + a.value.length, 0);
    assert.ok(total > 64 * 1024 * 1024, `the response carried ${total} bytes`);
    assert.equal(istiod.stream.error, undefined);
  } finally {
    istiod.close();
    await srv.close();
  }
});
