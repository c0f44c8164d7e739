/**
 * Shared helpers for tests that talk to metamesh's xDS server with real @grpc/grpc-js clients:
 * a temp copy of examples/, an in-process `serve`, a queueing client stream with deadline-bounded
 * waits, and request builders. No fixed sleeps anywhere: every wait is a deadline on an event.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { createWire } from '../../src/proto/wire.js';
import { decodeRouteConfiguration } from './proto-decode.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { serve, type Running, type ServeOptions } from '../../src/runtime/serve.js';
import { loadXdsServices, type AnyWire } from '../../src/xds/services.js';

export { RDS };
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DUBBO = 'org.apache.dubbo.samples.basic.api.demoservice_20880';
export const THRIFT = 'thrift-sample-server.meta-thrift.svc.cluster.local_9090';
export const NODE = { id: 'sidecar~10.0.0.1~dubbo-consumer.dubbo~dubbo.svc.cluster.local', cluster: 'dubbo-consumer' };
export const services = loadXdsServices();
const wire = createWire();
const builtins = loadBuiltinProtocols();
const temps: string[] = [];

/** Removes every temp directory made so far (call from `after`). */
export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

export function examplesCopy(): string {
  const d = tempDir('metamesh-xds-');
  cpSync(path.join(root, 'examples'), d, { recursive: true });
  return d;
}

/** What the pipeline produces for a directory: route JSON by name, without '@type'. */
export function pipelineRoute(dir: string, name: string): object {
  const loaded = loadInputs([dir]);
  const out = build(readResources(loaded.documents).config, builtins);
  const r = out.routes.find((x) => x.name === name);
  assert.ok(r, `pipeline has no route ${name}`);
  const { '@type': _t, ...json } = r;
  return json;
}

export function decode(any: AnyWire): object {
  assert.equal(any.type_url, RDS);
  return decodeRouteConfiguration(new Uint8Array(any.value), wire);
}

export function editFile(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `${file} does not contain ${from}`);
  writeFileSync(file, text.replace(from, to));
}

export interface Logs {
  lines: Array<Record<string, unknown>>;
  logger: pino.Logger;
}

export function captureLogs(): Logs {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { lines, logger };
}

export async function start(dir: string, extra: Partial<ServeOptions> = {}): Promise<Running & { logs: Logs }> {
  const logs = captureLogs();
  const running = await serve({ files: [dir], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: logs.logger, debounceMs: 30, pollIntervalMs: 100, shutdownGraceMs: 500, ...extra });
  return Object.assign(running, { logs });
}

/** A client-side duplex stream with a queue of responses and deadline-bounded waits. */
export class Stream<Res> {
  private readonly queue: Res[] = [];
  private waiters: Array<() => void> = [];
  error: (Error & { code?: number; details?: string }) | undefined;
  /** The call's final status, once the server has finished it (or the call failed). */
  status: grpc.StatusObject | undefined;

  constructor(readonly call: grpc.ClientDuplexStream<object, Res>) {
    call.on('data', (r: Res) => {
      this.queue.push(r);
      this.wake();
    });
    call.on('error', (e: Error) => {
      this.error = e;
      this.wake();
    });
    call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.wake();
    });
  }

  send(req: object): void {
    this.call.write(req);
  }

  async next(timeoutMs = 10_000): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r !== undefined) return r;
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await this.wait(left);
    }
  }

  async failure(timeoutMs = 10_000): Promise<Error & { code?: number; details?: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream did not fail within ${timeoutMs} ms`);
      await this.wait(left);
    }
    return this.error;
  }

  /** Waits for the call's final status. */
  async finished(timeoutMs = 10_000): Promise<grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (!this.status) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream did not finish within ${timeoutMs} ms`);
      await this.wait(left);
    }
    return this.status;
  }

  close(): void {
    this.call.cancel();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

type Method = (...args: unknown[]) => grpc.ClientDuplexStream<object, unknown>;

export function client(ctor: grpc.ServiceClientConstructor, port: number, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
  const c = new ctor(`127.0.0.1:${port}`, creds, options);
  const open = <Res>(method: string) => new Stream<Res>((c as unknown as Record<string, Method>)[method]!.call(c) as grpc.ClientDuplexStream<object, Res>);
  return { client: c, open };
}

export const sotwReq = (names: string[], extra: Record<string, unknown> = {}) => ({ node: NODE, type_url: RDS, resource_names: names, version_info: '', response_nonce: '', ...extra });

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

