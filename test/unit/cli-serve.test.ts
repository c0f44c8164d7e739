/**
 * `metamesh serve` start-up checks, and `/debug/config` serving the same document as
 * `metamesh generate -o json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { MissingSourceError, serve } from '../../src/runtime/serve.js';
import { runCli, runUntilListening, tmpTree } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const quiet = pino({ level: 'silent' });


test('serve -f on a missing path exits 2 naming the path, and never reports ready', async () => {
  const dir = tmpTree({ 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
  const missing = path.join(dir, 'manifests');
  const r = await runUntilListening('serve', '-f', dir, '-f', missing, '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0');
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.equal(r.err, `metamesh serve: cannot serve ${missing}: no such file or directory; nothing was started.\nRun 'metamesh serve --help' for usage.\n`);
});

test('serve without -f is a usage error (npm start passes -f examples/)', async () => {
  const r = await runUntilListening('serve', '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0');
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /^metamesh serve: give at least one -f <file-or-dir>, --registry <url> or --kubernetes\n/);
});

test('serve() itself refuses no paths or a missing path before listening', async () => {
  const opts = { xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: quiet, watch: 'none' as const };
  await assert.rejects(serve({ ...opts, files: [] }), (e: unknown) => e instanceof MissingSourceError && e.paths.length === 0);
  await assert.rejects(serve({ ...opts, files: ['/no/such/dir'] }), (e: unknown) => e instanceof MissingSourceError && e.paths[0] === '/no/such/dir');
});

test('/debug/config serves the same document as generate -o json', async () => {
  const examples = path.join(root, 'examples');
  const generated = await runCli('generate', '-o', 'json', '-f', examples);
  const running = await serve({ files: [examples], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: quiet, watch: 'none', shutdownGraceMs: 100 });
  try {
    const served = await (await fetch(`http://127.0.0.1:${running.httpPort}/debug/config`)).text();
    assert.equal(served, generated.out);
  } finally {
    await running.close();
  }
});
