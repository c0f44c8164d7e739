/**
 * The status writer: after each pipeline run, the leader writes `status.conditions` (Accepted,
 * Programmed) and `status.observedGeneration` of every MetaRouter and ApplicationProtocol whose
 * status changed (src/status/, pure), as a server-side apply to the status subresource under the
 * field manager, forced (metamesh owns those two conditions; conditions are a list map keyed by
 * type, so other writers' conditions stay). Effects: requests, logging.
 *
 * Targets are the objects the pipeline last read (with their status as read then), so a status
 * never claims a generation the pipeline has not seen. A write that changes nothing is never sent:
 * the plan compares with the live status, and a write this writer already made is not repeated
 * while the watch has not delivered it yet. 404 (deleted meanwhile) is not an error; 409 waits for
 * the next pass; any other refusal is reported (MM_STATUS_WRITE_FAILED).
 */
import type { Logger } from 'pino';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { StatusTarget } from '../status/model.js';
import { planStatusWrites, type StatusWrite } from '../status/writes.js';
import { APPLY_PATCH, objectPathOf } from '../sink/paths.js';
import { statusOf, type KubeWriter } from '../store/kubernetes/client.js';
import type { WriteGate } from './elector.js';

export interface StatusWriterOptions {
  readonly writer: KubeWriter;
  readonly gate: WriteGate;
  readonly logger: Logger;
  readonly fieldManager: string;
  readonly now?: () => Date;
}

export class StatusWriter {
  /** Status writes made. */
  writes = 0;
  /** What was last written, by object: the generation and the status without its times. */
  private readonly written = new Map<string, string>();
  private diagnostics: Diagnostic[] = [];

  constructor(private readonly opts: StatusWriterOptions) {}

  /** Forgets what was written (on becoming leader: another leader may have written since). */
  reset(): void {
    this.written.clear();
  }

  currentDiagnostics(): readonly Diagnostic[] {
    return this.diagnostics;
  }

  /** Writes what changed; returns whether a pass should follow soon (a conflict). */
  async pass(targets: readonly StatusTarget[], diagnostics: readonly Diagnostic[]): Promise<boolean> {
    if (!this.opts.gate.isLeading()) return false;
    const now = (this.opts.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const writes = planStatusWrites(targets, diagnostics, now);
    const out: Diagnostic[] = [];
    let retry = false;
    // A memo lives only until the status read back no longer needs a write (the watch caught up).
    const pending = new Set(writes.map((w) => w.object));
    for (const k of [...this.written.keys()]) if (!pending.has(k)) this.written.delete(k);
    for (const w of writes) {
      const memo = memoOf(w);
      if (this.written.get(w.object) === memo) continue;
      const remaining = this.opts.gate.remainingMs();
      if (!this.opts.gate.isLeading() || remaining === undefined || remaining <= 0) break;
      const b = w.body;
      const path = objectPathOf({ apiVersion: b.apiVersion, kind: b.kind, namespace: b.metadata.namespace, name: b.metadata.name });
      try {
        await this.opts.writer.request({
          method: 'PATCH',
          path: `${path}/status`,
          query: { fieldManager: this.opts.fieldManager, force: 'true' },
          body: b,
          contentType: APPLY_PATCH,
          timeoutMs: Math.min(10_000, remaining),
        });
        this.writes++;
        this.written.set(w.object, memo);
        this.opts.logger.info({ event: 'status-write', object: w.object, conditions: b.status.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`) }, `status of ${w.object} written`);
      } catch (e) {
        const status = statusOf(e);
        if (status === 404) continue;
        if (status === 409) {
          retry = true;
          continue;
        }
        out.push(diag('MM_STATUS_WRITE_FAILED', w.object, `its status could not be written: ${(e as Error).message}. metamesh tries again at its next pass. Check that metamesh may patch ${b.kind === 'MetaRouter' ? 'metarouters' : 'applicationprotocols'}/status (docs/operations.md).`));
      }
    }
    const before = new Set(this.diagnostics.map((d) => `${d.object}\u0000${d.message}`));
    for (const d of out) if (!before.has(`${d.object}\u0000${d.message}`)) this.opts.logger.warn({ event: 'diagnostic', code: d.code, object: d.object }, d.message);
    this.diagnostics = out;
    return retry;
  }
}

/** A write's content without the transition times (which are `now` when the read status lags). */
function memoOf(w: StatusWrite): string {
  const s = w.body.status;
  return JSON.stringify({ g: s.observedGeneration, c: s.conditions.map(({ lastTransitionTime: _t, ...c }) => c) });
}
