/** Manual timers for the stores and sources: nothing fires until the test says so. */
import type { Timers } from '../../src/store/store.js';

export function manualTimers() {
  let seq = 0;
  const pending = new Map<number, { fn: () => void; ms: number; repeat: boolean }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => (pending.set(++seq, { fn, ms, repeat: false }), seq),
    clearTimeout: (h) => void pending.delete(h as number),
    setInterval: (fn, ms) => (pending.set(++seq, { fn, ms, repeat: true }), seq),
    clearInterval: (h) => void pending.delete(h as number),
  };
  /** Fires every pending one-shot timer (`repeat` false) or every interval (`repeat` true). */
  const fire = (repeat: boolean) => {
    for (const [id, t] of [...pending]) {
      if (t.repeat !== repeat) continue;
      if (!repeat) pending.delete(id);
      t.fn();
    }
  };
  return {
    timers,
    pending,
    fireTimeouts: () => fire(false),
    fireIntervals: () => fire(true),
    /** The delays of the pending one-shot timers, shortest first. */
    delays: () => [...pending.values()].filter((t) => !t.repeat).map((t) => t.ms).sort((a, b) => a - b),
    /** Fires the pending one-shot timer with the shortest delay. */
    fireNext: () => {
      const [id, t] = [...pending].filter(([, t]) => !t.repeat).sort(([, a], [, b]) => a.ms - b.ms)[0] ?? [];
      if (id === undefined || t === undefined) throw new Error('no pending timer');
      pending.delete(id);
      t.fn();
    },
  };
}
