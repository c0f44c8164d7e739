/**
 * MCP conformance against Istio's own Go types (istio.io/api v1.31.1), in two Go programs:
 *  - the harness's -descriptors mode compares every message and enum of metamesh's proto/istio/
 *    (as protobufjs loads them) with the descriptors istio.io/api registers: fields, numbers,
 *    types, cardinality, maps, oneofs, reserved entries, enum values, both ways;
 *  - the xdsclient's mcp scenario connects to `metamesh serve --mcp` as istiod's MCP client does
 *    (16 wildcard requests, node on the first only, timestamp nonces, ACKs), decodes every
 *    resource as istio.mcp.v1alpha1.Resource and its body with the registered v1alpha3 Go type
 *    (no unknown field anywhere), and prints the objects; they must equal what the pipeline
 *    generates, and pass the harness's manifest checks (strict Istio types, the EnvoyFilter
 *    patches through Envoy's ValidateAll, Istio's rules).
 * Go is required (installed by .ci/run); its modules come from the Go module proxy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { mcpObjects } from '../../src/mcp/objects.js';
import { ISTIOD_TYPE_URLS } from '../../src/mcp/types.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { ISTIO_PROTO_FILES, protoIncludeDirs } from '../../src/proto/registry.js';
import { examplesCopy, removeTemps, start } from '../support/xds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = path.join(root, '.tmp/conformance-mcp');
const harness = path.join(work, 'harness');
const xdsclient = path.join(work, 'xdsclient');

before(() => {
  mkdirSync(work, { recursive: true });
  execFileSync('go', ['build', '-o', harness, '.'], { cwd: path.join(root, 'test/conformance/envoy'), stdio: 'inherit' });
  execFileSync('go', ['build', '-o', xdsclient, '.'], { cwd: path.join(root, 'test/conformance/xdsclient'), stdio: 'inherit' });
});

after(removeTemps);

function runHarness(flag: string, name: string, text: string): { status: number | null; output: string } {
  const file = path.join(work, name);
  writeFileSync(file, text);
  const r = spawnSync(harness, ['-q', flag, '-f', file], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface DumpField {
  number: number;
  name: string;
  kind: string;
  typeName?: string;
  repeated?: boolean;
  mapKey?: string;
  oneof?: string;
}

/** metamesh's Istio protos as protobufjs reads them, with the proto field names (keepCase). */
function descriptorDump(): { messages: Record<string, { fields: DumpField[]; reservedNumbers: number[]; reservedNames: string[] }>; enums: Record<string, { values: Record<string, number> }> } {
  const dirs = protoIncludeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => dirs.map((d) => path.join(d, target)).find((p) => existsSync(p)) ?? target;
  r.loadSync([...ISTIO_PROTO_FILES], { keepCase: true });
  r.resolveAll();
  const messages: ReturnType<typeof descriptorDump>['messages'] = {};
  const enums: ReturnType<typeof descriptorDump>['enums'] = {};
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const n of ns.nestedArray) {
      const name = n.fullName.slice(1);
      if (n instanceof protobuf.Enum) {
        if (name.startsWith('istio.')) enums[name] = { values: { ...n.values } };
        continue;
      }
      if (n instanceof protobuf.Type && name.startsWith('istio.')) {
        const reservedNumbers: number[] = [];
        const reservedNames: string[] = [];
        for (const x of n.reserved ?? []) {
          if (typeof x === 'string') reservedNames.push(x);
          else for (let i = x[0]!; i <= x[1]!; i++) reservedNumbers.push(i);
        }
        messages[name] = {
          reservedNumbers,
          reservedNames,
          fields: n.fieldsArray.map((f) => {
            const t = f.resolvedType;
            const out: DumpField = { number: f.id, name: f.name, kind: t instanceof protobuf.Type ? 'message' : t instanceof protobuf.Enum ? 'enum' : f.type };
            if (t) out.typeName = t.fullName.slice(1);
            if (f instanceof protobuf.MapField) out.mapKey = f.keyType;
            else if (f.repeated) out.repeated = true;
            if (f.partOf) out.oneof = f.partOf.name;
            return out;
          }),
        };
      }
      if (n instanceof protobuf.Namespace) walk(n);
    }
  };
  walk(r);
  return { messages, enums };
}

test("metamesh's Istio protos equal istio.io/api's descriptors, message by message and enum by enum", () => {
  const dump = descriptorDump();
  for (const m of ['istio.mcp.v1alpha1.Resource', 'istio.networking.v1alpha3.ServiceEntry', 'istio.networking.v1alpha3.EnvoyFilter.Patch', 'istio.networking.v1alpha3.HTTPRoute', 'istio.type.v1beta1.PolicyTargetReference']) {
    assert.ok(dump.messages[m], `${m} is in the dump`);
  }
  const count = Object.keys(dump.messages).length + Object.keys(dump.enums).length;
  const r = runHarness('-descriptors', 'descriptors.json', JSON.stringify(dump));
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, new RegExp(`^conformance: ${count} objects checked, 0 failures$`, 'm'));
});

test('the descriptor check can fail: a wrong field number, a missing field, an extra enum value', () => {
  const dump = descriptorDump();
  dump.messages['istio.networking.v1alpha3.ServiceEntry']!.fields.find((f) => f.name === 'workload_selector')!.number = 10;
  dump.messages['istio.networking.v1alpha3.EnvoyFilter']!.fields = dump.messages['istio.networking.v1alpha3.EnvoyFilter']!.fields.filter((f) => f.name !== 'priority');
  dump.enums['istio.networking.v1alpha3.ServiceEntry.Resolution']!.values.GUESS = 9;
  const r = runHarness('-descriptors', 'descriptors-broken.json', JSON.stringify(dump));
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /ServiceEntry: field 9 workload_selector missing/);
  assert.match(r.output, /ServiceEntry: field 10 workload_selector is not upstream/);
  assert.match(r.output, /EnvoyFilter: field 5 priority missing/);
  assert.match(r.output, /enum istio\.networking\.v1alpha3\.ServiceEntry\.Resolution: values/);
});

interface McpSummary {
  ok: boolean;
  nodeId: string;
  responses: number;
  types: Record<string, { versionInfo: string; objects: Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: unknown; version: string }> }>;
}

function runXdsClient(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(xdsclient, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`xdsclient still running after 60 s\n${stderr}`));
    }, 60_000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("an istiod-like Go client decodes everything with Istio's Go types; the objects equal the generated ones and pass the manifest checks", async () => {
  const dir = examplesCopy();
  const srv = await start(dir, { mcp: {} });
  try {
    const r = await runXdsClient(['-addr', `127.0.0.1:${srv.xdsPort}`, '-scenario', 'mcp']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as McpSummary;
    assert.equal(s.ok, true);
    assert.deepEqual(Object.keys(s.types).sort(), [...ISTIOD_TYPE_URLS].sort());
    const out = build(readResources(loadInputs([dir]).documents).config, loadBuiltinProtocols());
    const { objects } = mcpObjects(out, { domain: 'cluster.local' });
    const served = Object.values(s.types).flatMap((t) => t.objects);
    assert.equal(served.length, objects.length);
    for (const o of objects) {
      const [namespace, name] = o.name.split('/');
      const got = s.types[o.served.typeUrl]!.objects.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
      assert.ok(got, `${o.served.kind} ${o.name} was served`);
      assert.equal(got.kind, o.served.kind);
      assert.deepEqual(got.spec, o.spec, o.name);
      assert.deepEqual(got.metadata.labels ?? {}, o.labels);
      assert.deepEqual(got.metadata.annotations ?? {}, o.annotations);
      assert.equal(got.version, srv.mcp!.store.set(o.served.collection).resources.find((x) => x.name === o.name)!.version);
    }
    // What istiod received, as manifests: the harness's strict Istio, Envoy and rule checks.
    const stream = served.map(({ apiVersion, kind, metadata, spec }) => `---\n${stringify({ apiVersion, kind, metadata, spec }, { version: '1.1', lineWidth: 0 })}`).join('');
    const h = runHarness('-manifests', 'mcp-served.yaml', stream);
    assert.equal(h.status, 0, h.output);
    assert.match(h.output, new RegExp(`^conformance: ${served.length} objects checked, 0 failures$`, 'm'));
  } finally {
    await srv.close();
  }
});

test('the Go client can fail: a server without --mcp does not answer MeshConfig', async () => {
  const srv = await start(examplesCopy());
  try {
    const r = await runXdsClient(['-addr', `127.0.0.1:${srv.xdsPort}`, '-scenario', 'mcp']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FAIL \[mcp\/ads-sotw\]: after 0 responses, types not answered \[core\/v1alpha1\/MeshConfig .*InvalidArgument/);
  } finally {
    await srv.close();
  }
});
