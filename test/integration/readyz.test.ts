/**
 * `/readyz` of `metamesh serve` shows the health of every source, and a source that cannot be read
 * keeps its routes served: the server stays ready, the file is reported stale.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { DUBBO, examplesCopy, removeTemps, start } from '../support/xds.js';

after(removeTemps);

interface Readyz {
  status: string;
  sources: Array<{ source: string; state: string; since: string; files: number; unhealthyFiles: Array<{ source: string; state: string; revision?: string; error?: string }> }>;
}

async function readyz(port: number): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

test('/readyz: per-source state in a JSON body; an unreadable file is stale, still served, and the server stays ready', { skip: process.platform !== 'linux' && 'needs /proc/self/mem' }, async () => {
  const dir = examplesCopy();
  const srv = await start(dir, { watch: 'none' });
  try {
    const before = await readyz(srv.httpPort);
    assert.equal(before.code, 200);
    assert.equal(before.body.status, 'ready');
    assert.equal(before.body.sources.length, 1);
    assert.equal(before.body.sources[0]!.source, dir);
    assert.equal(before.body.sources[0]!.state, 'ok');
    assert.equal(before.body.sources[0]!.files, 4);
    assert.deepEqual(before.body.sources[0]!.unhealthyFiles, []);

    // dubbo.yaml now fails to read (EIO): a real read error on a listed file.
    const file = path.join(dir, 'dubbo.yaml');
    unlinkSync(file);
    symlinkSync('/proc/self/mem', file);
    const updates = srv.updates;
    srv.store.schedule();
    const deadline = Date.now() + 10_000;
    while (srv.updates === updates) {
      assert.ok(Date.now() < deadline, 'the reload was not applied within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const after = await readyz(srv.httpPort);
    assert.equal(after.code, 200, 'a stale source keeps the server ready: it serves the last good routes');
    const [source] = after.body.sources;
    assert.equal(source!.state, 'ok', 'the directory itself was listed');
    assert.equal(source!.unhealthyFiles.length, 1);
    assert.equal(source!.unhealthyFiles[0]!.source, file);
    assert.equal(source!.unhealthyFiles[0]!.state, 'stale');
    assert.match(source!.unhealthyFiles[0]!.revision ?? '', /^[0-9a-f]{12}$/);
    assert.match(source!.unhealthyFiles[0]!.error ?? '', /EIO|i\/o error/i);
    assert.ok(srv.engine.route(DUBBO), 'the Dubbo route table is still served');
    assert.ok(srv.logs.lines.some((l) => l.event === 'source-stale' && l.source === file), 'the failure is logged');
  } finally {
    await srv.close();
  }
});
