/**
 * The /debug endpoints of `metamesh serve`: thin routes over the pure views of debug.ts and
 * registries-debug.ts, reading the running server's state when asked.
 */
import { EMPTY_CATALOG_STATE, type CatalogOptions } from '../catalog/model.js';
import { outputDocument } from '../pipeline/document.js';
import type { Engine } from '../pipeline/engine.js';
import type { XdsServer } from '../xds/server.js';
import type { OpenStream } from '../xds/session.js';
import { configDebug, DEFAULT_CONFIG_LIMIT, DEFAULT_STREAMS_LIMIT, MAX_CONFIG_LIMIT, MAX_STREAMS_LIMIT, pageOf, xdsDebug } from './debug.js';
import type { Endpoint, Reply } from './http.js';
import { registriesDebug } from '../dashboard/registries-debug.js';
import type { RegistryHub } from './registries.js';
import type { KubeWrites } from './kube-writes.js';

export interface DebugState {
  readonly xds: XdsServer;
  readonly engine: Engine;
  readonly registries: RegistryHub | undefined;
  /** The outage policy in force, shown even when no registry is configured. */
  readonly catalog: CatalogOptions;
  /** Streams of other listeners (the MCP listener), listed with the xDS server's by id. */
  readonly moreStreams?: (() => OpenStream[]) | undefined;
  /** The apply sink, status writer and elector, when on. */
  readonly writes?: KubeWrites | undefined;
}

const text = (status: number, body: string): Reply => ({ status, text: body });

export function debugEndpoints(s: DebugState): Record<string, Endpoint> {
  return {
    '/debug/xds': {
      debug: true,
      handle: (q) => {
        const page = pageOf(q, DEFAULT_STREAMS_LIMIT, MAX_STREAMS_LIMIT);
        return 'error' in page ? text(400, page.error) : { status: 200, json: xdsDebug([...s.xds.openStreams(), ...(s.moreStreams?.() ?? [])].sort((a, b) => a.id - b.id), page) };
      },
    },
    '/debug/config': {
      debug: true,
      handle: (q) => {
        const page = pageOf(q, DEFAULT_CONFIG_LIMIT, MAX_CONFIG_LIMIT);
        return 'error' in page ? text(400, page.error) : { status: 200, json: configDebug(outputDocument(s.engine.output()), page) };
      },
    },
    '/debug/registries': {
      debug: true,
      handle: () => ({
        status: 200,
        json: registriesDebug(s.registries?.debugInput() ?? { statuses: [], state: EMPTY_CATALOG_STATE, decisions: [], options: s.catalog, nowMs: Date.now() }),
      }),
    },
    // The apply sink's last pass, the status writes and who leads (null: none of them is on).
    '/debug/sink': { debug: true, handle: () => ({ status: 200, json: s.writes?.debug() ?? { leading: null, sink: null, status: null } }) },
  };
}
