/** `serve --mcp [--mcp-revision rev]`: the MCP sink for istiod, off by default; not with --tls-ca. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';

test('--mcp turns the MCP sink on; --mcp-revision sets its revision label; off by default', () => {
  const off = parseArgs(['serve', '-f', 'x']);
  assert.ok(off.kind === 'serve' && off.mcp === undefined);
  const on = parseArgs(['serve', '-f', 'x', '--mcp']);
  assert.ok(on.kind === 'serve');
  assert.deepEqual(on.mcp, { revision: undefined });
  const rev = parseArgs(['serve', '-f', 'x', '--mcp', '--mcp-revision', '1-31-canary']);
  assert.ok(rev.kind === 'serve');
  assert.deepEqual(rev.mcp, { revision: '1-31-canary' });
  const tls = parseArgs(['serve', '-f', 'x', '--mcp', '--tls-cert', 'c', '--tls-key', 'k']);
  assert.ok(tls.kind === 'serve' && tls.mcp !== undefined, 'server TLS (istiod tlsSettings SIMPLE) is fine');
});

test('--mcp-revision without --mcp, or not a label value, and --mcp with --tls-ca are usage errors', () => {
  const reason = (...argv: string[]) => {
    const inv = parseArgs(['serve', '-f', 'x', ...argv]);
    assert.ok(inv.kind === 'usage', JSON.stringify(inv));
    return inv.reason;
  };
  assert.equal(reason('--mcp-revision', 'r'), '--mcp-revision needs --mcp');
  assert.match(reason('--mcp', '--mcp-revision', 'bad/rev'), /^--mcp-revision must be a label value/);
  assert.match(reason('--mcp', '--mcp-revision', ''), /^--mcp-revision must be a label value/);
  assert.match(reason('--mcp', '--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'ca'), /^--mcp cannot be used with --tls-ca: istiod presents no client certificate/);
  assert.match(reason('--mcp=yes'), /--mcp/);
});

test('--mcp is a flag of serve only', () => {
  const inv = parseArgs(['generate', '-f', 'x', '--mcp']);
  assert.ok(inv.kind === 'usage');
  assert.equal(inv.reason, '--mcp is not a flag of generate (it is a flag of serve)');
});
