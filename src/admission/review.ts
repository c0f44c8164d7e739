/**
 * AdmissionReview (admission.k8s.io/v1) in and out: the request body the API server POSTs to a
 * validating webhook, and the response it expects. Pure: bytes in, the response object out.
 *
 * Contract with the API server: the response echoes `request.uid`; `allowed: false` comes with a
 * `status` whose message the API server shows the user as "admission webhook "<name>" denied the
 * request: <message>"; `warnings` are shown by kubectl as "Warning: …". A body that is not an
 * AdmissionReview is answered with an HTTP error (reviewError), never a decision.
 */
import { clip } from '../util/clip.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { ADMITTED_KINDS, admit, deciding, type AdmissionContext } from './validate.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** What the API server sends: nested at most a few levels below the object's spec. */
const MAX_JSON_DEPTH = 64;
/** kubectl prints each warning on a line; the API server drops warnings past 4 KiB in all. */
const MAX_WARNINGS = 8;
const MAX_WARNING_LENGTH = 400;
/** The refusal names every deciding diagnostic, up to this many characters. */
const MAX_MESSAGE_LENGTH = 8192;

export interface AdmissionResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
    readonly warnings?: readonly string[];
  };
}

/** A body that cannot be answered with a decision: the HTTP status and a one-line reason. */
export interface ReviewError {
  readonly error: { readonly status: number; readonly message: string };
}

/** A decision: the response to send, and what it was about (for the log). */
export interface Reviewed {
  readonly answer: AdmissionResponse;
  /** `Kind namespace/name`, or '' when nothing was checked (DELETE, a kind not ours). */
  readonly object: string;
  /** The codes of every diagnostic found, sorted, once each. */
  readonly codes: readonly string[];
}

/** The answer to one AdmissionReview body (already size-bounded by the server). */
export function review(body: string, context: AdmissionContext): Reviewed | ReviewError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return reviewError(400, `the body is not JSON (${(e as Error).message})`);
  }
  if (tooDeep(parsed, MAX_JSON_DEPTH)) return reviewError(400, `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (!isMapping(parsed) || parsed.kind !== 'AdmissionReview' || parsed.apiVersion !== ADMISSION_API_VERSION) {
    return reviewError(400, `the body is not an AdmissionReview of ${ADMISSION_API_VERSION} (the webhook's admissionReviewVersions must list v1)`);
  }
  const req = parsed.request;
  if (!isMapping(req) || typeof req.uid !== 'string' || req.uid === '') return reviewError(400, 'the AdmissionReview has no request.uid');
  const uid = req.uid;
  const kind = isMapping(req.kind) ? req.kind : {};
  const admitted = typeof kind.kind === 'string' ? ADMITTED_KINDS[kind.kind] : undefined;
  const operation = req.operation;
  // Deleting or connecting never needs a check; a kind the webhook was not registered for is let
  // through rather than refused, so that a too-wide registration cannot block a cluster.
  if (operation !== 'CREATE' && operation !== 'UPDATE') return unchecked(allow(uid, []));
  if (!admitted || kind.group !== admitted.group) {
    return unchecked(allow(uid, [`metamesh's webhook does not check ${String(kind.group ?? '')}/${String(kind.kind ?? '')}; it was let through (narrow the webhook's rules to MetaRouters and ApplicationProtocols)`]));
  }
  const namespace = typeof req.namespace === 'string' ? req.namespace : '';
  const decision = admit(kind.kind as string, req.object, namespace, context);
  const about = { object: decision.object, codes: [...new Set(decision.diagnostics.map((d) => d.code))].sort() };
  const warnings = decision.diagnostics.filter((d) => d.severity === 'warning').map(line);
  if (decision.allowed) return { answer: allow(uid, warnings), ...about };
  const refusal = deciding(decision);
  // One diagnostic per line: kubectl prints the message as is.
  const message = clip(refusal.map(line).join('\n'), MAX_MESSAGE_LENGTH);
  const answer: AdmissionResponse = {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed: false,
      status: { code: 422, reason: 'Invalid', message },
      ...boundedWarnings(warnings.filter((w) => !refusal.some((d) => line(d) === w))),
    },
  };
  return { answer, ...about };
}

function unchecked(answer: AdmissionResponse): Reviewed {
  return { answer, object: '', codes: [] };
}

export function reviewError(status: number, message: string): ReviewError {
  return { error: { status, message } };
}

/** One diagnostic as the user sees it: `MM_CODE: <object>: <sentence>`. */
function line(d: Diagnostic): string {
  return `${d.code}: ${d.object}: ${d.message}`;
}

function allow(uid: string, warnings: readonly string[]): AdmissionResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: true, ...boundedWarnings(warnings) } };
}

function boundedWarnings(warnings: readonly string[]): { warnings?: string[] } {
  if (warnings.length === 0) return {};
  const shown = warnings.slice(0, MAX_WARNINGS).map((w) => clip(w, MAX_WARNING_LENGTH));
  if (warnings.length > MAX_WARNINGS) shown.push(`…and ${warnings.length - MAX_WARNINGS} more warnings (metamesh validate lists them all)`);
  return { warnings: shown };
}

/** Whether `v` nests deeper than `max` (iterative: a deep value must not overflow the stack). */
function tooDeep(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (depth >= max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push([c, depth + 1]);
  }
  return false;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
