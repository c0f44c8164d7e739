/**
 * The status writes of one pipeline run: for every MetaRouter and ApplicationProtocol, its new
 * status and whether it must be written. Only the leader executes them (a server-side apply to
 * the status subresource under FIELD_MANAGER, force: metamesh owns Accepted and Programmed;
 * conditions are a list map keyed by type, so other writers' conditions are kept).
 */
import { cmp, type Diagnostic } from '../model/diagnostics.js';
import { sortKeys } from '../util/canonical.js';
import { computeStatus, statusNeedsWrite } from './conditions.js';
import type { RuleStatus, StatusTarget } from './model.js';

/** A server-side apply body for the status subresource: names and status only. */
export interface StatusBody {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly status: RuleStatus;
}

export interface StatusWrite {
  /** `Kind namespace/name`. */
  readonly object: string;
  readonly body: StatusBody;
}

export function statusBody(target: StatusTarget, status: RuleStatus): StatusBody {
  return sortKeys({
    apiVersion: target.apiVersion,
    kind: target.kind,
    metadata: { name: target.metadata.name, namespace: target.metadata.namespace },
    status,
  });
}

/** The writes needed, sorted by object; targets whose status is up to date are left out. */
export function planStatusWrites(targets: readonly StatusTarget[], diagnostics: readonly Diagnostic[], now: string): StatusWrite[] {
  const byObject = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const list = byObject.get(d.object);
    if (list) list.push(d);
    else byObject.set(d.object, [d]);
  }
  const writes: StatusWrite[] = [];
  for (const t of targets) {
    const object = `${t.kind} ${t.metadata.namespace}/${t.metadata.name}`;
    const next = computeStatus(t, byObject.get(object) ?? [], now);
    if (!statusNeedsWrite(t.status, next)) continue;
    writes.push({ object, body: statusBody(t, next) });
  }
  return writes.sort((a, b) => cmp(a.object, b.object));
}
