/** `metamesh serve`: starts the server and runs until SIGINT/SIGTERM (or `stop` aborts). Effects. */
import pino from 'pino';
import type { DebugAccess } from '../runtime/http-policy.js';
import { MissingSourceError, serve, type KubernetesServeOptions, type ServeOptions } from '../runtime/serve.js';
import { loadKubeConfig } from '../store/kubernetes/config.js';
import { HttpKubeClient } from '../store/kubernetes/http-client.js';
import { TlsRefusedError } from '../xds/tls-watch.js';
import type { Invocation } from './args.js';
import type { Io } from './io.js';

type ServeInvocation = Extract<Invocation, { kind: 'serve' }>;

export async function serveCommand(inv: ServeInvocation, io: Io, stop: AbortSignal | undefined): Promise<number> {
  const logger = pino({ name: 'metamesh' }, pino.destination(2));
  let kubernetes: KubernetesServeOptions | undefined;
  let writes: ServeOptions['writes'];
  if (inv.kubernetes) {
    const loaded = loadKubeConfig(inv.kubernetes.kubeconfig);
    if ('error' in loaded) {
      io.err(`metamesh serve: cannot read the Kubernetes API: ${loaded.error}; nothing was started.\n`);
      return 1;
    }
    const client = new HttpKubeClient(loaded.kc);
    logger.info({ event: 'kube-config', from: loaded.from, server: client.server }, `reading the Kubernetes API at ${client.server} (configuration from ${loaded.from})`);
    kubernetes = { client, meshConfig: inv.kubernetes.meshConfig, syncTimeoutMs: inv.kubernetes.syncTimeoutMs };
    const w = inv.writes;
    if (w) {
      writes = { client, apply: w.apply, status: w.status, instance: w.instance, fieldManager: w.fieldManager, leaderElection: w.leaderElection && { lease: w.leaderElection }, planOptions: { allowMassDeletion: w.allowMassDeletion } };
    }
  }
  let running;
  try {
    running = await serve({
      files: inv.files,
      registries: inv.registries,
      xdsAddress: inv.xdsAddress,
      httpAddress: inv.httpAddress,
      tls: inv.tls,
      logger,
      httpTokenFile: inv.httpTokenFile,
      httpHostNames: inv.httpHostNames,
      httpLimits: { idleTimeoutMs: inv.httpIdleTimeoutMs, maxConnections: inv.httpMaxConnections },
      shutdownGraceMs: inv.shutdownGraceMs,
      readyTimeoutMs: inv.readyTimeoutMs,
      rescanIntervalMs: inv.rescanIntervalMs,
      limits: inv.limits,
      xdsLimits: inv.xdsLimits,
      catalog: inv.catalog,
      serviceEntries: inv.serviceEntries,
      mcp: inv.mcp,
      webhook: inv.webhook,
      kubernetes,
      writes,
    });
  } catch (e) {
    if (e instanceof MissingSourceError) {
      io.err(`metamesh serve: cannot serve ${e.message}; nothing was started.\nRun 'metamesh serve --help' for usage.\n`);
      return 2;
    }
    if (e instanceof TlsRefusedError) {
      for (const d of e.diagnostics) io.err(`metamesh serve: cannot serve TLS: ${d.message} (${d.code})\n`);
      io.err('metamesh serve: nothing was started.\n');
      return 1;
    }
    io.err(`metamesh serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const host = (a: string) => a.slice(0, a.lastIndexOf(':'));
  const mode = inv.tls ? (inv.tls.ca ? 'mutual TLS' : 'TLS') : 'plaintext';
  const mcpApart = inv.mcp?.address !== undefined;
  const what = inv.mcp && !mcpApart ? ' with MCP for istiod' : '';
  const extra: string[] = [];
  if (inv.mcp?.address !== undefined) extra.push(`, MCP for istiod (${inv.mcp.plaintext || !inv.tls ? 'plaintext' : 'server TLS'}) on ${host(inv.mcp.address)}:${running.mcpPort}`);
  if (inv.webhook) extra.push(`, admission webhook (HTTPS) on ${host(inv.webhook.address)}:${running.webhookPort}`);
  io.out(`metamesh serve: xDS (gRPC, ${mode}${what}) on ${host(inv.xdsAddress)}:${running.xdsPort}${extra.join('')}, HTTP on ${host(inv.httpAddress)}:${running.httpPort} (${DEBUG_NOTE[running.debugAccess]})\n`);
  io.out(`metamesh serve: dashboard at http://${host(inv.httpAddress)}:${running.httpPort}/dashboard/${DASHBOARD_NOTE[running.debugAccess]}\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (stop?.aborted) done();
    else stop?.addEventListener('abort', done, { once: true });
  });
  io.out('metamesh serve: shutting down\n');
  await running.close();
  // The drain is over. A peer that stopped reading still holds its socket: grpc-js half-closes it
  // and waits for the unread data to flush, which may be never. Nothing is left to do, so the
  // process ends; the timer is unref'd, so a process that would end anyway ends by itself.
  if (io.exit) setTimeout(io.exit, 0, 0).unref();
  return 0;
}

const DASHBOARD_NOTE: Record<DebugAccess, string> = {
  open: '',
  token: ' (it asks for the bearer token of --http-token-file)',
  disabled: ' (its data is not served here: give --http-token-file, or use a loopback address)',
};

const DEBUG_NOTE: Record<DebugAccess, string> = {
  open: 'debug endpoints and dashboard open to local clients',
  token: 'debug endpoints and dashboard require the bearer token',
  disabled: 'debug endpoints and dashboard disabled: not loopback and no --http-token-file',
};
