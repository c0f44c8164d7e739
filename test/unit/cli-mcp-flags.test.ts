/** `serve --mcp [--mcp-revision rev] [--mcp-address a [--mcp-plaintext]]`: the MCP sink for istiod, off by default; with --tls-ca only on its own address. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';

test('--mcp turns the MCP sink on; --mcp-revision sets its revision label; off by default', () => {
  const off = parseArgs(['serve', '-f', 'x']);
  assert.ok(off.kind === 'serve' && off.mcp === undefined);
  const on = parseArgs(['serve', '-f', 'x', '--mcp']);
  assert.ok(on.kind === 'serve');
  assert.deepEqual(on.mcp, { revision: undefined, address: undefined, plaintext: false });
  const rev = parseArgs(['serve', '-f', 'x', '--mcp', '--mcp-revision', '1-31-canary']);
  assert.ok(rev.kind === 'serve');
  assert.deepEqual(rev.mcp, { revision: '1-31-canary', address: undefined, plaintext: false });
  const tls = parseArgs(['serve', '-f', 'x', '--mcp', '--tls-cert', 'c', '--tls-key', 'k']);
  assert.ok(tls.kind === 'serve' && tls.mcp !== undefined, 'server TLS (istiod tlsSettings SIMPLE) is fine');
});

test('--mcp-revision without --mcp, or not a label value, and --mcp with --tls-ca on the xDS port are usage errors', () => {
  const reason = (...argv: string[]) => {
    const inv = parseArgs(['serve', '-f', 'x', ...argv]);
    assert.ok(inv.kind === 'usage', JSON.stringify(inv));
    return inv.reason;
  };
  assert.equal(reason('--mcp-revision', 'r'), '--mcp-revision needs --mcp');
  assert.match(reason('--mcp', '--mcp-revision', 'bad/rev'), /^--mcp-revision must be a label value/);
  assert.match(reason('--mcp', '--mcp-revision', ''), /^--mcp-revision must be a label value/);
  assert.match(reason('--mcp', '--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'ca'), /^--mcp with --tls-ca needs --mcp-address: istiod presents no client certificate/);
  assert.match(reason('--mcp=yes'), /--mcp/);
});

test('--mcp is a flag of serve only', () => {
  const inv = parseArgs(['generate', '-f', 'x', '--mcp']);
  assert.ok(inv.kind === 'usage');
  assert.equal(inv.reason, '--mcp is not a flag of generate (it is a flag of serve)');
});

test('--mcp-address puts MCP on its own listener, also beside --tls-ca; --mcp-plaintext only there', () => {
  const apart = parseArgs(['serve', '-f', 'x', '--mcp', '--mcp-address', '0.0.0.0:15011', '--tls-cert', 'c', '--tls-key', 'k', '--tls-ca', 'ca']);
  assert.ok(apart.kind === 'serve', JSON.stringify(apart));
  assert.deepEqual(apart.mcp, { revision: undefined, address: '0.0.0.0:15011', plaintext: false });
  assert.equal(apart.tls?.ca, 'ca');
  const plain = parseArgs(['serve', '-f', 'x', '--mcp', '--mcp-address', '[::]:15011', '--mcp-plaintext']);
  assert.ok(plain.kind === 'serve' && plain.mcp?.plaintext === true);
  const reason = (...argv: string[]) => {
    const inv = parseArgs(['serve', '-f', 'x', ...argv]);
    assert.ok(inv.kind === 'usage', JSON.stringify(inv));
    return inv.reason;
  };
  assert.equal(reason('--mcp-address', '127.0.0.1:1'), '--mcp-address needs --mcp');
  assert.equal(reason('--mcp', '--mcp-address', '15011'), '--mcp-address must be host:port, not "15011"');
  assert.equal(reason('--mcp', '--mcp-plaintext'), '--mcp-plaintext needs --mcp-address (the xDS port keeps its own TLS)');
});

test('--webhook-address needs both webhook TLS files, and they need it', () => {
  const on = parseArgs(['serve', '-f', 'x', '--webhook-address', '0.0.0.0:9443', '--webhook-tls-cert', 'w.crt', '--webhook-tls-key', 'w.key']);
  assert.ok(on.kind === 'serve');
  assert.deepEqual(on.webhook, { address: '0.0.0.0:9443', cert: 'w.crt', key: 'w.key' });
  const off = parseArgs(['serve', '-f', 'x']);
  assert.ok(off.kind === 'serve' && off.webhook === undefined);
  const usage = (...argv: string[]) => {
    const inv = parseArgs(['serve', '-f', 'x', ...argv]);
    assert.ok(inv.kind === 'usage');
    return inv.reason;
  };
  assert.match(usage('--webhook-address', '0.0.0.0:9443', '--webhook-tls-key', 'w.key'), /^--webhook-address needs --webhook-tls-cert and --webhook-tls-key/);
  assert.equal(usage('--webhook-tls-cert', 'w.crt'), '--webhook-tls-cert and --webhook-tls-key need --webhook-address');
  assert.equal(usage('--webhook-address', 'nowhere', '--webhook-tls-cert', 'c', '--webhook-tls-key', 'k'), '--webhook-address must be host:port, not "nowhere"');
});
