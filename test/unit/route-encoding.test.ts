/**
 * The route tables the pipeline emits (proto3 JSON) must encode, field for field, into Envoy's
 * RouteConfiguration with the strict protobuf encoder the xDS server will use, and decode back
 * unchanged: nothing in the JSON may be a field the proto does not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync } from 'node:fs';
import { parseYaml, readResources } from '../../src/input/read.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { build } from '../../src/pipeline/build.js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { decodeRouteConfiguration } from '../support/proto-decode.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('every route table generated from examples/ and the golden pipeline cases round-trips through the protobuf encoding', () => {
  const wire = createWire();
  const inputs = [
    ...readdirSync(path.join(root, 'examples')).map((f) => path.join(root, 'examples', f)),
    ...readdirSync(path.join(root, 'test/golden/pipeline')).map((d) => path.join(root, 'test/golden/pipeline', d, 'in.yaml')),
  ].filter((f) => f.endsWith('.yaml'));
  let checked = 0;
  for (const file of inputs) {
    const read = readResources(parseYaml(readFileSync(file, 'utf8'), file).documents);
    for (const route of build(read.config, loadBuiltinProtocols()).routes) {
      const { '@type': _type, ...json } = route;
      const bytes = encodeRouteConfiguration(json, wire);
      assert.deepEqual(decodeRouteConfiguration(bytes, wire), json, `${file}: ${String(route.name)}`);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} route tables checked`);
});
