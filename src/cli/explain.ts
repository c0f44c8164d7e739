/**
 * `metamesh explain <host | namespace/metarouter>`: offline, the engine built from -f and
 * --registry (as generate builds it) and the pure explain stage; with --server, the explanation a
 * running `metamesh serve` computes from its live state (GET /debug/explain), with its proxies.
 * Prints sentences (or -o json) and exits 0 only when everything asked about takes effect.
 */
import type { Explanation } from '../model/explanation.js';
import type { InputLimits } from '../input/limits.js';
import type { Engine } from '../pipeline/engine.js';
import type { RegistryConfig } from '../registry/config.js';
import { explain } from '../explain/explain.js';
import { renderExplanation } from '../explain/render.js';
import type { Invocation } from './args.js';
import { askServer } from './explain-client.js';
import type { Io } from './io.js';

import type { ServiceEntryOptions } from '../serviceentry/generate.js';

type ExplainInvocation = Extract<Invocation, { kind: 'explain' }>;

/** Builds the engine from files and registries, as `generate` does (main.ts run()). */
export type LoadEngine = (inv: { files: readonly string[]; registries: readonly RegistryConfig[]; serviceEntries: ServiceEntryOptions; limits: InputLimits }) => Promise<{ readonly engine: Engine } | { readonly error: string }>;

export async function explainCommand(inv: ExplainInvocation, io: Io, load: LoadEngine): Promise<number> {
  let e: Explanation;
  if (inv.source === 'files') {
    const r = await load(inv);
    if ('error' in r) {
      io.err(`metamesh explain: ${r.error}\n`);
      return 1;
    }
    e = explain(inv.query, r.engine.state());
  } else {
    const r = await askServer(inv.server, inv.query, inv.httpTokenFile);
    if ('error' in r) {
      io.err(`metamesh explain: ${r.error}\n`);
      return 1;
    }
    e = r.explanation;
  }
  io.out(inv.output === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(e));
  return e.inEffect ? 0 : 1;
}
