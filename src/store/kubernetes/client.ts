/**
 * What a reflector needs of the Kubernetes API: list a collection page by page, and watch it.
 * Types only; http-client.ts talks to a real API server, tests pass fakes. KubeWriter: single
 * requests (writes, and a GET of one object).
 */

/** A failed request: `status` is the HTTP status (or the Status object's code), undefined when no answer came. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  /** The continue token of the next page, when there is one. */
  readonly continue: string | undefined;
}

/** One line of a watch: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (then `object` is a Status). */
export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export interface WatchHandlers {
  /** The API server accepted the watch (HTTP 200). */
  open(): void;
  event(e: WatchEvent): void;
  /**
   * The watch is over: `err` undefined when the server closed it normally (its timeout), else why.
   * Called once, and never after stop().
   */
  end(err: Error | undefined): void;
}

export interface WatchHandle {
  stop(): void;
}

export interface KubeClient {
  /** One page of a collection. Rejects with KubeApiError. */
  list(path: string, query: Readonly<Record<string, string>>): Promise<ListPage>;
  watch(path: string, query: Readonly<Record<string, string>>, handlers: WatchHandlers): WatchHandle;
}

/** One write (or single read) request: PATCH, POST, PUT, DELETE or GET of one object. */
export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** JSON-serialisable body (sent as JSON; apply patches are JSON, which is YAML). */
  readonly body?: unknown;
  /** Content type of the body; application/json by default. */
  readonly contentType?: string;
  /** Milliseconds before the request is abandoned (the client's default when absent). */
  readonly timeoutMs?: number;
}

/**
 * What the apply sink, the status writer and the elector need: one request at a time, answered
 * with the object the API server returns (a 2xx), or rejected with KubeApiError.
 */
export interface KubeWriter {
  request(req: KubeRequest): Promise<unknown>;
}

/** The HTTP status of a failure, if it is a KubeApiError that has one. */
export function statusOf(e: unknown): number | undefined {
  return e instanceof KubeApiError ? e.status : undefined;
}
