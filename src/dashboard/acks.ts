/**
 * Push-to-ACK latency of the xDS server, as a histogram, fed by the stream callbacks
 * (src/xds/callbacks.ts): the time from a response being sent to the request that ACKs its nonce.
 * It also tells the dashboard's event stream that the proxies' state moved (`onChange`).
 *
 * Bounded: at most MAX_PENDING_PER_STREAM unanswered responses are remembered per stream (a client
 * that never answers pushes out its oldest), and a stream's entries go when it closes. The clock
 * is injected.
 */
import type { XdsCallbacks } from '../xds/callbacks.js';

/** Upper bounds of the buckets, in milliseconds; the last bucket counts everything above. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
export const MAX_PENDING_PER_STREAM = 64;

export interface LatencyHistogram {
  /** One per bound of LATENCY_BUCKETS_MS, then one for anything slower (`le: null`). */
  readonly buckets: ReadonlyArray<{ readonly le: number | null; readonly count: number }>;
  readonly count: number;
  readonly sumMs: number;
  readonly nacks: number;
}

export class AckTracker {
  private readonly pending = new Map<number, Map<string, number>>();
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private count = 0;
  private sumMs = 0;
  private nacks = 0;

  constructor(
    private readonly now: () => number,
    private readonly onChange: () => void = () => {},
  ) {}

  histogram(): LatencyHistogram {
    return {
      buckets: this.counts.map((count, i) => ({ le: LATENCY_BUCKETS_MS[i] ?? null, count })),
      count: this.count,
      sumMs: this.sumMs,
      nacks: this.nacks,
    };
  }

  callbacks(): XdsCallbacks {
    return {
      streamOpened: () => this.onChange(),
      responseSent: (e) => {
        let m = this.pending.get(e.stream);
        if (!m) this.pending.set(e.stream, (m = new Map()));
        m.set(`${e.typeUrl} ${e.nonce}`, this.now());
        if (m.size > MAX_PENDING_PER_STREAM) m.delete(m.keys().next().value!);
      },
      ack: (e) => {
        const m = this.pending.get(e.stream);
        const key = `${e.typeUrl} ${e.nonce}`;
        const sent = m?.get(key);
        if (sent !== undefined) {
          m!.delete(key);
          this.observe(Math.max(0, this.now() - sent));
        }
        this.onChange();
      },
      nack: (e) => {
        this.pending.get(e.stream)?.delete(`${e.typeUrl} ${e.nonce}`);
        this.nacks++;
        this.onChange();
      },
      streamClosed: (e) => {
        this.pending.delete(e.stream);
        this.onChange();
      },
    };
  }

  private observe(ms: number): void {
    let i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    this.counts[i]!++;
    this.count++;
    this.sumMs += ms;
  }
}
