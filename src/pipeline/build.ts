/** Full build: a ConfigSet in, the whole output out. The same engine serves incremental updates. */
import type { Diagnostic } from '../model/diagnostics.js';
import type { ConfigSet } from '../input/read.js';
import type { ProtocolDescriptor } from '../protocol/table.js';
import { Engine } from './engine.js';
import type { Change, PipelineOutput } from './types.js';

export function changesOf(config: ConfigSet): Change[] {
  return [
    ...config.applicationProtocols,
    ...config.serviceEntries,
    ...config.services,
    ...config.destinationRules,
    ...config.gateways,
    ...config.metaRouters,
  ].map((resource) => ({ op: 'upsert' as const, resource }));
}

export function createEngine(config: ConfigSet, builtins: readonly ProtocolDescriptor[], inputDiagnostics: Diagnostic[] = []): Engine {
  const engine = new Engine(builtins, config.options, inputDiagnostics);
  engine.apply(changesOf(config));
  engine.flush();
  return engine;
}

export function build(config: ConfigSet, builtins: readonly ProtocolDescriptor[], inputDiagnostics: Diagnostic[] = []): PipelineOutput {
  return createEngine(config, builtins, inputDiagnostics).output();
}
