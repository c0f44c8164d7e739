/** The state of one xDS stream as reported for the debug pages, explain and the dashboard. */
import type { StreamMode, StreamService } from './callbacks.js';

/** What `XdsServer.streams()` reports per stream and type URL, for the dashboard. */
export interface StreamInfo {
  readonly id: number;
  readonly service: StreamService;
  readonly mode: StreamMode;
  readonly peer: string;
  readonly nodeId: string | undefined;
  readonly connectedAt: string;
  readonly typeUrl: string;
  readonly subscribed: string[];
  /** Per resource, the version the client runs (ACKed, or declared on a reconnect). */
  readonly ackedVersions: Record<string, string>;
  readonly nackCount: number;
  readonly lastNackMessage: string | undefined;
  /** Per resource, the version the client NACKed (not sent again until the content changes). */
  readonly rejectedVersions?: Record<string, string>;
  /** Per resource, the version sent and not yet ACKed or NACKed. */
  readonly sentVersions?: Record<string, string>;
}
