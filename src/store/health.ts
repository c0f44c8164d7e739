/**
 * The health of one source of configuration (a watched file or directory today; a registry or a
 * Kubernetes informer later), and the rule every source follows: **a failure never withdraws
 * content**. A source that cannot be read keeps serving the last content it read successfully,
 * and says so, until a read succeeds again. Only a successful read can remove content.
 *
 * Transitions: a successful read (`succeed`) leads to `ok` from any state; a failed one (`fail`)
 * leads to `stale` once a read has succeeded, else to `failed`; a failed read that still read part
 * of the source (`keepPartial`) leads to `stale` with that part as the content to fall back on.
 * - `pending`: nothing has been read yet.
 * - `ok`: the last read succeeded; its content is served.
 * - `stale`: the last read failed; the last good content (`revision`) is still served.
 * - `failed`: no read has ever succeeded; nothing of this source is served.
 *
 * Plain state, no effects: the clock is injected, and the owner logs the transitions that
 * `succeed`/`fail` report (so each is logged once, not at every retry).
 */

export type SourceState = 'pending' | 'ok' | 'stale' | 'failed';

/** What `/readyz` shows for a source. Times are ISO 8601. */
export interface SourceStatus {
  readonly source: string;
  readonly state: SourceState;
  /** When the source entered this state. */
  readonly since: string;
  /** The revision of the content served (for a file, a hash of its text). */
  readonly revision?: string;
  /** Why the last read failed (stale and failed only). */
  readonly error?: string;
}

export class SourceHealth<T> {
  private state: SourceState = 'pending';
  private sinceMs: number;
  private good: { snapshot: T; revision: string } | undefined;
  private error: string | undefined;

  constructor(
    readonly source: string,
    private readonly now: () => number,
  ) {
    this.sinceMs = now();
  }

  /** Records a successful read. Returns the state it left if the state changed, else undefined. */
  succeed(snapshot: T, revision: string): SourceState | undefined {
    this.good = { snapshot, revision };
    this.error = undefined;
    return this.enter('ok');
  }

  /**
   * Records a failed read; the last good content, if any, stays. Returns the state it left if the
   * state changed, else undefined.
   */
  fail(error: string): SourceState | undefined {
    this.error = error;
    return this.enter(this.good ? 'stale' : 'failed');
  }

  /**
   * After a failed read that still read part of the source (a listing with one unreadable
   * subdirectory): what was read, plus what was carried over for the rest, becomes the content to
   * fall back on. Without it a part that never reads would leave no fallback for the others.
   */
  keepPartial(snapshot: T, revision: string): SourceState | undefined {
    this.good = { snapshot, revision };
    return this.enter('stale');
  }

  /** The content of the last successful read, served while the source is stale. */
  get lastGood(): T | undefined {
    return this.good?.snapshot;
  }

  get revision(): string | undefined {
    return this.good?.revision;
  }

  get current(): SourceState {
    return this.state;
  }

  status(): SourceStatus {
    return {
      source: this.source,
      state: this.state,
      since: new Date(this.sinceMs).toISOString(),
      ...(this.good ? { revision: this.good.revision } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  private enter(next: SourceState): SourceState | undefined {
    if (next === this.state) return undefined;
    const left = this.state;
    this.state = next;
    this.sinceMs = this.now();
    return left;
  }
}
