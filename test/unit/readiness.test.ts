/**
 * Readiness (src/runtime/readiness.ts) and the ready timeout (src/runtime/health.ts) with manual
 * timers: what /readyz waits for, the one warning and the diagnostics at the deadline, and their
 * end once everything is read. Nothing is stopped or withdrawn by the timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import type { RegistryStatus } from '../../src/model/registry.js';
import { Health } from '../../src/runtime/health.js';
import { formatDuration, notReadyDiagnostics, readiness, type ReadinessInput } from '../../src/runtime/readiness.js';
import { captureLogs } from '../support/xds.js';
import { manualTimers } from '../support/manual-timers.js';

const ZK = 'zookeeper://127.0.0.1:1/dubbo';

test('readiness: serving, every registry read and applied, every kind listed; each missing one named with its state and error', () => {
  const input = (over: Partial<ReadinessInput>): ReadinessInput => ({ serving: true, registries: [], registriesApplied: true, kinds: [], ...over });
  assert.deepEqual(readiness(input({})), { ready: true, waitingFor: [] });
  const notServing = readiness(input({ serving: false }));
  assert.equal(notServing.ready, false);
  assert.equal(notServing.waitingFor[0]!.what, 'server');

  const unread = readiness(input({ registries: [{ registry: ZK, state: 'failing', error: 'Cannot connect' }, { registry: 'file:///x', state: 'synced', lastSyncMs: 1 }], registriesApplied: false }));
  assert.deepEqual(unread.waitingFor.map((w) => [w.what, w.name]), [['registry', ZK]], 'only the registry not read is named');
  assert.match(unread.waitingFor[0]!.reason, /zookeeper:\/\/127\.0\.0\.1:1\/dubbo has not been read completely yet \(failing: Cannot connect\)/);

  const notApplied = readiness(input({ registries: [{ registry: ZK, state: 'synced', lastSyncMs: 1 }], registriesApplied: false }));
  assert.equal(notApplied.ready, false, 'read but not applied yet is not ready');
  assert.match(notApplied.waitingFor[0]!.reason, /being applied/);

  const stale = readiness(input({ registries: [{ registry: ZK, state: 'disconnected', lastSyncMs: 1 }], registriesApplied: true }));
  assert.equal(stale.ready, true, 'a registry read once and disconnected now keeps the server ready: its last-known services are served');

  const kinds = readiness(input({ kinds: [{ source: 'kubernetes metarouters.metaprotocol.aeraki.io', synced: false, error: '403 Forbidden' }, { source: 'kubernetes services', synced: true }] }));
  assert.deepEqual(kinds.waitingFor.map((w) => w.name), ['kubernetes metarouters.metaprotocol.aeraki.io']);
  assert.match(kinds.waitingFor[0]!.reason, /403 Forbidden/);

  const d = notReadyDiagnostics(unread, 300_000);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.code, 'MM_SERVE_NOT_READY');
  assert.equal(d[0]!.object, `Registry ${ZK}`);
  assert.match(d[0]!.message, /^not ready 5m after the start: registry zookeeper/);
  assert.deepEqual([300_000, 90_000, 7_200_000, 1500, 0].map(formatDuration), ['5m', '90s', '2h', '1500ms', '0s']);
});

function harness(readyTimeoutMs: number) {
  const mt = manualTimers();
  const logs = captureLogs();
  let statuses: RegistryStatus[] = [{ registry: ZK, state: 'connecting' }];
  let applied = false;
  let diagnostics: readonly Diagnostic[] = [];
  const health = new Health({
    logger: logs.logger,
    timers: mt.timers,
    readyTimeoutMs,
    input: () => ({ serving: true, registries: statuses, registriesApplied: applied, kinds: [] }),
    details: () => ({ registries: statuses }),
    onDiagnostics: (d) => (diagnostics = d),
  });
  return {
    mt,
    logs,
    health,
    diagnostics: () => diagnostics,
    read: () => {
      statuses = [{ registry: ZK, state: 'synced', lastSyncMs: 1 }];
      applied = true;
    },
    readyz: () => health.endpoints()['/readyz'].handle(new URLSearchParams()) as { status: number; json: { status: string; waitingFor: string[]; readyTimeoutPassed: boolean } },
  };
}

test('the ready timeout: at the deadline one warning and a diagnostic name the registry; /readyz stays 503 until it is read, then 200 and the diagnostic goes', () => {
  const h = harness(60_000);
  h.health.start();
  assert.deepEqual(h.mt.delays(), [60_000], 'one timer, at the ready timeout');
  let r = h.readyz();
  assert.equal(r.status, 503);
  assert.equal(r.json.readyTimeoutPassed, false);
  assert.match(r.json.waitingFor[0]!, /zookeeper:\/\/127\.0\.0\.1:1\/dubbo has not been read completely yet \(connecting\)/);
  assert.equal(h.logs.lines.filter((l) => l.event === 'ready-timeout').length, 0, 'nothing before the deadline');

  h.mt.fireNext();
  const warn = h.logs.lines.filter((l) => l.event === 'ready-timeout');
  assert.equal(warn.length, 1);
  assert.equal(warn[0]!.level, 40);
  assert.deepEqual((warn[0]!.waitingFor as { name: string }[]).map((w) => w.name), [ZK]);
  assert.match(warn[0]!.msg as string, /^not ready 1m after the start: registry zookeeper/);
  assert.deepEqual(h.diagnostics().map((d) => [d.code, d.object]), [['MM_SERVE_NOT_READY', `Registry ${ZK}`]]);
  r = h.readyz();
  assert.equal(r.status, 503, 'still not ready: the timeout changes nothing but the report');
  assert.equal(r.json.readyTimeoutPassed, true);

  h.read();
  r = h.readyz();
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.waitingFor, []);
  assert.equal(r.json.readyTimeoutPassed, false);
  assert.deepEqual(h.diagnostics(), [], 'the diagnostic goes once ready');
  const ready = h.logs.lines.filter((l) => l.event === 'ready');
  assert.equal(ready.length, 1);
  assert.equal(ready[0]!.afterTimeout, true);
  h.readyz();
  assert.equal(h.logs.lines.filter((l) => l.event === 'ready').length, 1, 'said once');
});

test('the ready timeout: ready in time cancels the timer (no warning ever); 0 arms none; close() cancels it', () => {
  const inTime = harness(60_000);
  inTime.health.start();
  inTime.read();
  assert.equal(inTime.readyz().status, 200);
  assert.deepEqual(inTime.mt.delays(), [], 'the timer is cleared once ready');
  assert.equal(inTime.logs.lines.find((l) => l.event === 'ready')!.afterTimeout, false);

  const off = harness(0);
  off.health.start();
  assert.deepEqual(off.mt.delays(), []);
  assert.equal(off.readyz().status, 503);

  const closed = harness(60_000);
  closed.health.start();
  closed.health.close();
  assert.deepEqual(closed.mt.delays(), []);
  assert.equal(closed.logs.lines.filter((l) => l.event === 'ready-timeout').length, 0);
});

test('serve --ready-timeout: a duration from 0s (never) to 24h, 5m by default; anything else is a usage error', async () => {
  const { parseArgs } = await import('../../src/cli/args.js');
  const { commandHelp } = await import('../../src/cli/help.js');
  const { COMMANDS } = await import('../../src/cli/commands.js');
  const ms = (...argv: string[]) => {
    const inv = parseArgs(['serve', '-f', 'x', ...argv]);
    assert.ok(inv.kind === 'serve', JSON.stringify(inv));
    return inv.readyTimeoutMs;
  };
  assert.equal(ms(), undefined, 'not given: serve uses DEFAULT_READY_TIMEOUT_MS');
  assert.equal(ms('--ready-timeout', '10m'), 600_000);
  assert.equal(ms('--ready-timeout', '0s'), 0);
  assert.equal(ms('--ready-timeout', '24h'), 86_400_000);
  for (const bad of ['25h', 'soon', '5', '']) {
    const inv = parseArgs(['serve', '-f', 'x', '--ready-timeout', bad]);
    assert.ok(inv.kind === 'usage', bad);
    assert.match(inv.reason, /^--ready-timeout must be a duration from 0s \(never\) to 24h/);
  }
  assert.match(commandHelp(COMMANDS.find((c) => c.name === 'serve')!), /--ready-timeout <duration> .*MM_SERVE_NOT_READY.*\(default 5m\)/);
});
