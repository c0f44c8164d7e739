/**
 * The listeners of `metamesh serve` besides xDS and HTTP, wired: the MCP listener for istiod
 * (--mcp-address) and the validating admission webhook (--webhook-address). Effects: sockets.
 *
 * The MCP listener is one more XdsServer on the same cache and MCP family, serving only ADS state
 * of the world with the MCP type URLs (no RDS: nobody here is authenticated), with server TLS from
 * the xDS certificate watcher (istiod's tlsSettings SIMPLE) or plaintext. It exists because
 * istiod presents no client certificate: with --tls-ca the xDS port refuses it at the handshake,
 * and sidecars must keep mutual TLS.
 *
 * The webhook is an HTTPS server with its own certificate (the API server checks a DNS name, the
 * Service's, where sidecars check a SPIFFE id), reloaded like the xDS one.
 */
import type { Logger } from 'pino';
import { WebhookServer, type WebhookEvent } from '../admission/server.js';
import type { AdmissionContext } from '../admission/validate.js';
import type { ResourceCache } from '../xds/cache.js';
import type { XdsCallbacks } from '../xds/callbacks.js';
import type { TypeFamily } from '../xds/family.js';
import type { XdsLimits } from '../xds/limits.js';
import type { OpenStream } from '../xds/session.js';
import { XdsServer } from '../xds/server.js';
import type { SotwRequest, SotwResponse } from '../xds/sotw.js';
import type { CertificateWatcher } from '../xds/tls-watch.js';

export interface SideListenerOptions {
  readonly log: Logger;
  /** MCP on its own listener: where, and whether without TLS. */
  readonly mcp?: { readonly address: string; readonly plaintext: boolean; readonly family: TypeFamily<SotwRequest, SotwResponse> } | undefined;
  readonly cache: ResourceCache;
  readonly callbacks: XdsCallbacks;
  readonly xdsLimits?: Partial<XdsLimits> | undefined;
  /** The xDS server's stream ids, so that /debug/xds lists istiod's streams beside the sidecars'. */
  readonly nextStreamId: () => number;
  /** The xDS certificate watcher, when --tls-cert is given. */
  readonly xdsCertificates?: CertificateWatcher | undefined;
  readonly webhook?: { readonly address: string; readonly certificates: CertificateWatcher; readonly context: () => AdmissionContext } | undefined;
}

export interface SideListeners {
  readonly mcpPort: number | undefined;
  /** The MCP listener's open streams (none without one). */
  openStreams(): OpenStream[];
  readonly webhookPort: number | undefined;
  close(graceMs: number): Promise<void>;
}

/** Starts what is configured; on a failure, closes what it started and throws. */
export async function startSideListeners(o: SideListenerOptions): Promise<SideListeners> {
  let mcp: XdsServer | undefined;
  let webhook: WebhookServer | undefined;
  const close = async (graceMs: number) => {
    await Promise.all([mcp?.shutdown(graceMs), webhook?.close(graceMs)]);
  };
  try {
    let mcpPort: number | undefined;
    if (o.mcp) {
      const tls = o.mcp.plaintext ? undefined : o.xdsCertificates;
      mcp = new XdsServer({ cache: o.cache, callbacks: o.callbacks, credentials: tls?.credentials(false), limits: o.xdsLimits, adsFamily: o.mcp.family, routes: false, nextStreamId: o.nextStreamId });
      mcpPort = await mcp.listen(o.mcp.address);
      o.log.info({ event: 'mcp-listening', address: o.mcp.address, port: mcpPort, tls: tls ? 'server' : 'none' }, `MCP for istiod listening on port ${mcpPort} (${tls ? 'server TLS: istiod tlsSettings mode SIMPLE' : 'plaintext'})`);
    }
    let webhookPort: number | undefined;
    if (o.webhook) {
      webhook = new WebhookServer({ address: o.webhook.address, certificates: o.webhook.certificates, context: o.webhook.context, report: (e) => logWebhookEvent(o.log, e) });
      webhookPort = await webhook.listen();
      o.log.info({ event: 'webhook-listening', address: o.webhook.address, port: webhookPort }, `admission webhook listening on port ${webhookPort} (HTTPS, POST /validate)`);
    }
    const server = mcp;
    return { mcpPort, webhookPort, close, openStreams: () => server?.openStreams() ?? [] };
  } catch (e) {
    await close(0);
    throw e;
  }
}

/** One line per decision (info when allowed, warn when refused) or refused request (warn). */
function logWebhookEvent(log: Logger, e: WebhookEvent): void {
  if (e.kind === 'decided') {
    const fields = { event: 'admission', uid: e.uid, allowed: e.allowed, object: e.object, codes: e.codes };
    if (e.allowed) log.info(fields, e.object ? `admitted ${e.object}` : 'admitted a request that needs no check');
    else log.warn(fields, `refused ${e.object}: ${e.codes.join(', ')}`);
    return;
  }
  log.warn({ event: 'admission-refused-request', status: e.status, peer: e.peer, message: e.message }, `webhook request refused (${e.status}): ${e.message}`);
}
