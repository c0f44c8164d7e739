/**
 * When the ZooKeeper watcher reads the providers' service definitions (definitions.ts), which it
 * does without watches so that they cost no watch at all. An interface's definitions matter only
 * when its mapping node (`/<root>/mapping/<interface>`, data-watched) names an application, so they
 * are read:
 * - before a changed mapping node's data goes into the mirror (so a newly mapped application is
 *   never reported without the group and version it published);
 * - after every full read of the tree (a new session, a reconnection), for every mapped interface,
 *   before that read is reported;
 * - when an instance of a mapped application appears or changes (`/services/<app>/<ip:port>`);
 * - again after each of those, 1 s, 2 s, 4 s … later (up to `settleMaxMs`) for as long as a mapped
 *   application has no definition yet or the last read changed something: Dubbo writes definitions
 *   asynchronously and one level at a time, possibly after the mapping and the instance;
 * - and every `rescanMs`, for every mapped interface, as a safety net.
 * Reads of one interface never overlap (a request during a read runs once after it), so an older
 * answer never overwrites a newer one; a read that fails or belongs to an older session applies
 * nothing, and what was known stays.
 */
import type { ZkLimits } from './limits.js';
import type { ZkMirror } from './mirror.js';
import type { Timers, ZkOps } from './ops.js';
import { applyDefinitions, readDefinitions, type DefinitionRead } from './definitions.js';
import { javaUrlDecode, javaUrlEncode } from './java-url.js';
import { joinPath } from './options.js';
import type { ZkRoot } from './policy.js';

export interface DefinitionSyncOptions {
  readonly registry: string;
  readonly roots: readonly ZkRoot[];
  readonly mirror: ZkMirror;
  readonly limits: ZkLimits;
  readonly timers: Timers;
  readonly now: () => number;
  /** The current client's reads and generation while connected. */
  readonly session: () => { readonly ops: ZkOps; readonly gen: number } | undefined;
  readonly generation: () => number;
  /** The mirror changed outside a read the watcher awaits: a snapshot is due. */
  readonly changed: () => void;
  /** First delay of the follow-up reads (then doubled). */
  readonly settleMs: number;
  /** Follow-up reads stop once the delay would pass this; the periodic rescan remains. */
  readonly settleMaxMs: number;
  /** Period of the re-read of every mapped interface's definitions; 0 turns it off. */
  readonly rescanMs: number;
}

type Outcome = { readonly ok: true; readonly read: DefinitionRead; readonly changed: boolean } | { readonly ok: false; readonly error: unknown };

interface Flight {
  readonly root: string;
  readonly iface: string;
  /** The client generation it reads with: a newer session does not wait for it. */
  readonly gen: number;
  next?: { full: boolean; readonly promise: Promise<Outcome>; resolve: (o: Outcome) => void };
}

export class DefinitionSync {
  private readonly flights = new Map<string, Flight>();
  /** Interfaces with follow-up reads due: the delay used last and when the next is due. */
  private readonly settling = new Map<string, { readonly root: string; readonly iface: string; readonly delay: number; readonly due: number }>();
  /** Application → interface keys whose mapping named it (a superset: checked against the mirror at use). */
  private readonly byApp = new Map<string, Set<string>>();
  private settleTimer: unknown;
  private settleDue = Infinity;
  private rescanTimer: unknown;
  private closed = false;
  /** `/<root>/metadata` children that are escaped names, decoded, cached by the children array's identity. */
  private escaped = new Map<string, { readonly children: readonly string[]; readonly byName: Map<string, string[]> }>();

  constructor(private readonly o: DefinitionSyncOptions) {}

  /**
   * Reads and applies `iface`'s definitions before its mapping's new `data` goes into the mirror.
   * Rejects when the read fails (the caller's read of the mapping node fails with it).
   */
  async beforeMapping(root: string, iface: string, data: string): Promise<void> {
    const apps = appsOf(data);
    for (const app of apps) this.index(app, root, iface);
    const outcome = await this.refresh(root, iface, false);
    if (!outcome.ok) throw outcome.error;
    this.settle(root, iface, outcome, apps, false);
  }

  /**
   * After a full read of the tree: every mapped interface's definitions. Rejects with the first
   * error when a read failed (the full read fails with it and is tried again); what was read is kept.
   */
  async refreshAll(): Promise<void> {
    const all: Promise<Outcome>[] = [];
    for (const [root, iface, apps] of this.mapped()) {
      for (const app of apps) this.index(app, root, iface);
      all.push(
        this.refresh(root, iface, true).then((outcome) => {
          this.settle(root, iface, outcome, apps, true);
          return outcome;
        }),
      );
    }
    const failed = (await Promise.all(all)).find((o) => !o.ok);
    this.armRescan();
    if (failed !== undefined && !failed.ok) throw failed.error;
  }

  /** An instance of `app` appeared or changed: the interfaces mapped to it are read again. */
  appChanged(app: string): void {
    const keys = this.byApp.get(app);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const [root, iface] = splitKey(key);
      if (!this.appsNow(root, iface).includes(app)) {
        keys.delete(key);
        continue;
      }
      void this.refresh(root, iface, false).then((outcome) => this.settle(root, iface, outcome, this.appsNow(root, iface), false));
    }
  }

  close(): void {
    this.closed = true;
    for (const t of [this.settleTimer, this.rescanTimer]) if (t !== undefined) this.o.timers.clearTimeout(t);
    this.settleTimer = this.rescanTimer = undefined;
  }

  /** One read of an interface's definitions at a time; a request during a read runs once after it. */
  private refresh(root: string, iface: string, full: boolean): Promise<Outcome> {
    const key = keyOf(root, iface);
    const flight = this.flights.get(key);
    const gen = this.o.generation();
    if (flight === undefined || flight.gen !== gen) return this.fly(key, { root, iface, gen }, full);
    if (flight.next) {
      flight.next.full ||= full;
      return flight.next.promise;
    }
    let resolve!: (o: Outcome) => void;
    const promise = new Promise<Outcome>((r) => (resolve = r));
    flight.next = { full, promise, resolve };
    return promise;
  }

  private fly(key: string, flight: Flight, full: boolean): Promise<Outcome> {
    this.flights.set(key, flight);
    return this.readAndApply(flight.root, flight.iface, full).then((outcome) => {
      const next = flight.next;
      if (this.flights.get(key) !== flight) {
        // A newer session's read took over: what waited for this one joins that one.
        if (next !== undefined) void this.refresh(flight.root, flight.iface, next.full).then(next.resolve);
      } else if (next === undefined) this.flights.delete(key);
      else void this.fly(key, { root: flight.root, iface: flight.iface, gen: this.o.generation() }, next.full).then(next.resolve);
      return outcome;
    });
  }

  private async readAndApply(root: string, iface: string, full: boolean): Promise<Outcome> {
    const s = this.o.session();
    if (s === undefined || this.closed) return { ok: false, error: new Error('not connected to ZooKeeper') };
    try {
      const mirror = this.o.mirror;
      const read = await readDefinitions({ ops: s.ops, registry: this.o.registry, limits: this.o.limits, known: (p) => mirror.has(p), full }, this.bases(root, iface));
      if (s.gen !== this.o.generation() || this.closed) return { ok: false, error: new Error('the ZooKeeper session changed') };
      const changed = applyDefinitions(mirror, read);
      if (changed) this.o.changed();
      return { ok: true, read, changed };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /**
   * Follow-up reads: due while a mapped application has no definition, or the last read changed
   * something (more may be on the way), or it failed; the delay doubles up to settleMaxMs.
   */
  private settle(root: string, iface: string, outcome: Outcome, apps: readonly string[], full: boolean): void {
    if (this.closed) return;
    const key = keyOf(root, iface);
    const done = outcome.ok && apps.every((a) => outcome.read.providers.has(a)) && (full || !outcome.changed);
    const before = this.settling.get(key);
    if (done) return void this.settling.delete(key);
    const delay = before === undefined || full ? this.o.settleMs : before.delay * 2;
    if (delay > this.o.settleMaxMs) return void this.settling.delete(key);
    const due = this.o.now() + delay;
    this.settling.set(key, { root, iface, delay, due });
    this.armSettle(due);
  }

  private armSettle(due: number): void {
    if (due >= this.settleDue) return;
    if (this.settleTimer !== undefined) this.o.timers.clearTimeout(this.settleTimer);
    this.settleDue = due;
    this.settleTimer = this.o.timers.setTimeout(() => this.onSettleTimer(), Math.max(0, due - this.o.now()));
  }

  private onSettleTimer(): void {
    this.settleTimer = undefined;
    this.settleDue = Infinity;
    if (this.closed) return;
    const now = this.o.now();
    let nextDue = Infinity;
    for (const [key, s] of this.settling) {
      if (s.due > now) {
        nextDue = Math.min(nextDue, s.due);
        continue;
      }
      // Not due again until this read answers: settle() sets the next delay from its outcome.
      this.settling.set(key, { ...s, due: Infinity });
      void this.refresh(s.root, s.iface, false).then((outcome) => this.settle(s.root, s.iface, outcome, this.appsNow(s.root, s.iface), false));
    }
    if (nextDue !== Infinity) this.armSettle(nextDue);
  }

  private armRescan(): void {
    if (this.o.rescanMs <= 0 || this.rescanTimer !== undefined || this.closed) return;
    this.rescanTimer = this.o.timers.setTimeout(() => {
      this.rescanTimer = undefined;
      if (this.closed) return;
      const all = this.mapped().map(([root, iface]) =>
        this.refresh(root, iface, false).then((outcome) => {
          // Follow-up reads only for what failed or changed: an interface that stays incomplete
          // (an application that publishes no definitions) is read again at the next rescan.
          if (!outcome.ok || outcome.changed) this.settle(root, iface, outcome, this.appsNow(root, iface), false);
        }),
      );
      void Promise.all(all).then(() => this.armRescan());
    }, this.o.rescanMs);
  }

  /** Every mapping node in the mirror that names an application: [root, interface, applications]. */
  private mapped(): [string, string, string[]][] {
    const out: [string, string, string[]][] = [];
    for (const r of this.o.roots) {
      if (r.kind !== 'dubbo') continue;
      for (const iface of this.o.mirror.childrenOf(joinPath(r.path, 'mapping'))) {
        const apps = this.appsNow(r.path, iface);
        if (apps.length > 0) out.push([r.path, iface, apps]);
      }
    }
    return out;
  }

  private appsNow(root: string, iface: string): string[] {
    return appsOf(this.o.mirror.get(joinPath(joinPath(root, 'mapping'), iface)) ?? '');
  }

  private index(app: string, root: string, iface: string): void {
    let keys = this.byApp.get(app);
    if (keys === undefined) this.byApp.set(app, (keys = new Set()));
    keys.add(keyOf(root, iface));
  }

  /** The interface's directories under `metadata`: the name Dubbo gives it, and any other spelling of it there. */
  private bases(root: string, iface: string): string[] {
    const metadata = joinPath(root, 'metadata');
    const children = this.o.mirror.childrenOf(metadata);
    let cached = this.escaped.get(root);
    if (cached === undefined || cached.children !== children) {
      const byName = new Map<string, string[]>();
      for (const n of children) {
        if (!n.includes('%') && !n.includes('+')) continue;
        const name = javaUrlDecode(n);
        if (name !== undefined) byName.set(name, [...(byName.get(name) ?? []), n]);
      }
      this.escaped.set(root, (cached = { children, byName }));
    }
    const names = new Set([javaUrlEncode(iface), ...(cached.byName.get(iface) ?? [])]);
    if (this.o.mirror.has(joinPath(metadata, iface))) names.add(iface);
    return [...names].sort().map((n) => joinPath(metadata, n));
  }
}

/** Dubbo's mapping data: a comma list of applications (ServiceNameMapping.getAppNames). */
function appsOf(data: string): string[] {
  return [...new Set(data.split(',').map((s) => s.trim()).filter((s) => s !== ''))].sort();
}

function keyOf(root: string, iface: string): string {
  return `${root}\u0000${iface}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}
