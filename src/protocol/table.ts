/**
 * The protocol table: built-in descriptors (data from protocols/) plus ApplicationProtocol
 * resources. Pure; deleting an ApplicationProtocol simply means it is no longer in the input.
 */
import { cmp, diag, refString, type Diagnostic } from '../model/diagnostics.js';
import type { ApplicationProtocol } from '../model/resources.js';

export interface ProtocolDescriptor {
  readonly name: string;
  readonly codec: string;
  readonly description?: string;
  readonly typicalPort?: number;
  /** Routable metadata keys the codec exposes. */
  readonly attributes: readonly string[];
  /** Whether the codec exposes arbitrary further keys (attachments). */
  readonly openAttributes: boolean;
  /** Whether the codec applies request/response mutations. */
  readonly mutations: boolean;
  /** `builtin` or the ApplicationProtocol that defined it. */
  readonly source: string;
}

export type ProtocolTable = ReadonlyMap<string, ProtocolDescriptor>;

export const PROTOCOL_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const CODEC_NAME = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

export function buildProtocolTable(
  builtins: readonly ProtocolDescriptor[],
  resources: readonly ApplicationProtocol[],
): { table: ProtocolTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const table = new Map<string, ProtocolDescriptor>();
  for (const b of builtins) table.set(b.name, b);

  // Group valid resources by protocol; sorted by reference so the outcome is order-independent.
  const byProtocol = new Map<string, ApplicationProtocol[]>();
  for (const ap of [...resources].sort((a, b) => cmp(keyOf(a), keyOf(b)))) {
    const ref = refString({ kind: 'ApplicationProtocol', namespace: ap.metadata.namespace, name: ap.metadata.name });
    const protocol = ap.spec.protocol ?? '';
    const codec = ap.spec.codec ?? '';
    if (!PROTOCOL_NAME.test(protocol) || !CODEC_NAME.test(codec)) {
      diagnostics.push(
        diag('MM_PROTOCOL_INVALID', ref, `spec.protocol must be a lowercase name like "dubbo" and spec.codec a codec name like "aeraki.meta_protocol.codec.dubbo" (got protocol ${JSON.stringify(ap.spec.protocol ?? '')}, codec ${JSON.stringify(codec)}); the resource was ignored.`),
      );
      continue;
    }
    const list = byProtocol.get(protocol) ?? [];
    list.push(ap);
    byProtocol.set(protocol, list);
  }
  for (const [protocol, list] of byProtocol) {
    const codecs = new Set(list.map((ap) => ap.spec.codec));
    const first = list[0]!;
    const ref = refString({ kind: 'ApplicationProtocol', namespace: first.metadata.namespace, name: first.metadata.name });
    if (codecs.size > 1) {
      for (const other of list.slice(1)) {
        if (other.spec.codec === first.spec.codec) continue;
        diagnostics.push(
          diag('MM_PROTOCOL_CONFLICT', refString({ kind: 'ApplicationProtocol', namespace: other.metadata.namespace, name: other.metadata.name }), `protocol "${protocol}" is also defined by ${ref} with codec ${first.spec.codec}; that one (first by namespace/name) is used. Delete one of them.`),
        );
      }
    }
    const builtin = table.get(protocol);
    if (builtin && builtin.source === 'builtin' && builtin.codec !== first.spec.codec) {
      diagnostics.push(
        diag('MM_PROTOCOL_OVERRIDE', ref, `overrides the built-in codec of "${protocol}" (${builtin.codec}) with ${first.spec.codec}.`),
      );
    }
    table.set(protocol, {
      name: protocol,
      codec: first.spec.codec!,
      // A custom codec's attributes are unknown: allow any, keep the built-in's list as a hint.
      attributes: builtin?.attributes ?? [],
      openAttributes: builtin && builtin.codec === first.spec.codec ? builtin.openAttributes : true,
      mutations: builtin && builtin.codec === first.spec.codec ? builtin.mutations : true,
      source: ref,
    });
  }
  return { table, diagnostics };
}

function keyOf(ap: ApplicationProtocol): string {
  return `${ap.metadata.namespace}/${ap.metadata.name}`;
}
