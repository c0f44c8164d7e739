/**
 * The dashboard's live updates as Server-Sent Events (`GET /api/events`): each event names the
 * panels whose data changed (`registries`, `services`, `proxies`, `diagnostics`); the page then
 * fetches those again. The event carries no data itself, so a missed event costs nothing but a
 * refresh, and an event stream is as safe to expose as the API it points to.
 *
 * Bounded:
 * - at most `maxClients` streams at once; one more is refused (503) rather than queued;
 * - changes are coalesced: at most one event per `coalesceMs`, naming every panel that changed;
 * - a heartbeat comment every `heartbeatMs` keeps idle connections (and the server's idle timeout,
 *   src/runtime/http.ts) from closing a healthy stream, and finds dead ones;
 * - a client that does not read (its socket buffer full) is dropped, never buffered for.
 * close() ends every stream, so a server shutdown does not wait for them.
 */
import type { ServerResponse } from 'node:http';

export const TOPICS = ['registries', 'services', 'proxies', 'diagnostics'] as const;
export type Topic = (typeof TOPICS)[number];

export interface EventHubOptions {
  readonly maxClients: number;
  readonly heartbeatMs: number;
  readonly coalesceMs: number;
}

export const DEFAULT_EVENT_OPTIONS: EventHubOptions = { maxClients: 32, heartbeatMs: 5000, coalesceMs: 250 };

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly dirty = new Set<Topic>();
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(private readonly options: EventHubOptions = DEFAULT_EVENT_OPTIONS) {}

  get size(): number {
    return this.clients.size;
  }

  /** Starts an event stream on `res`; false (nothing written) when the client limit is reached. */
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= this.options.maxClients) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.write(res, `retry: 2000\nevent: hello\ndata: ${JSON.stringify({ seq: this.seq, topics: TOPICS })}\n\n`);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const c of this.clients) this.write(c, ': heartbeat\n\n');
      }, this.options.heartbeatMs);
      this.heartbeat.unref();
    }
    return true;
  }

  /** Marks panels changed; one event follows within coalesceMs. */
  notify(...topics: Topic[]): void {
    for (const t of topics) this.dirty.add(t);
    if (this.flushTimer || this.clients.size === 0) {
      if (this.clients.size === 0) this.dirty.clear();
      return;
    }
    this.flushTimer = setTimeout(() => this.flush(), this.options.coalesceMs);
    this.flushTimer.unref();
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.flushTimer = this.heartbeat = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.dirty.size === 0) return;
    const topics = TOPICS.filter((t) => this.dirty.has(t));
    this.dirty.clear();
    this.seq++;
    const event = `event: change\ndata: ${JSON.stringify({ seq: this.seq, topics })}\n\n`;
    for (const c of this.clients) this.write(c, event);
  }

  private write(res: ServerResponse, chunk: string): void {
    if (res.writableEnded || res.destroyed) return;
    if (!res.write(chunk)) {
      // The client stopped reading: drop it rather than buffer for it.
      this.clients.delete(res);
      res.destroy();
    }
  }
}
