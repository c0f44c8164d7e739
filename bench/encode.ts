/**
 * Encoding speed of the RDS resources: proto3 JSON route tables -> protobuf bytes with the strict
 * encoder the xDS cache uses (src/proto/wire.ts), on route tables the real pipeline builds from the
 * synthetic input of bench/lib/xds-config.ts.
 *
 *   node --import tsx bench/encode.ts [--services 200] [--routes 9] [--runs 5] [--min-ms 1000]
 *
 * Each run encodes every table repeatedly for at least --min-ms; the figures of a run are tables
 * encoded per wall-clock second and per second of this process's CPU time (user + system; less
 * disturbed when other processes share the machine). Prints one JSON object on stdout (medians and
 * every run); progress on stderr.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createEngine } from '../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { createWire, encodeRouteConfiguration } from '../src/proto/wire.js';
import { benchConfig } from './lib/xds-config.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '200' },
    routes: { type: 'string', default: '9' },
    runs: { type: 'string', default: '5' },
    'min-ms': { type: 'string', default: '1000' },
  },
});
const services = Number(values.services);
const routesPerService = Number(values.routes);
const runs = Number(values.runs);
const minMs = Number(values['min-ms']);
const log = (m: string) => process.stderr.write(`[encode] ${m}\n`);

const tables = createEngine(benchConfig(services, routesPerService), loadBuiltinProtocols())
  .output()
  .routes.map(({ '@type': _type, ...json }) => json);
const wire = createWire();

function encodeAll(): number {
  let bytes = 0;
  for (const json of tables) bytes += encodeRouteConfiguration(json, wire).length;
  return bytes;
}

const bytesPerPass = encodeAll();
for (let i = 0; i < 3; i++) encodeAll(); // warm-up: let the JIT settle before measuring
log(`${tables.length} tables, ${bytesPerPass} bytes per pass`);

const perSecond: number[] = [];
const perCpuSecond: number[] = [];
for (let run = 0; run < runs; run++) {
  let passes = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < minMs) {
    encodeAll();
    passes++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  perSecond.push(Math.round((passes * tables.length * 1000) / elapsed));
  perCpuSecond.push(Math.round((passes * tables.length * 1e6) / (cpu.user + cpu.system)));
  log(`run ${run + 1}: ${perSecond[run]} tables/s, ${perCpuSecond[run]} tables/CPU-s`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  JSON.stringify({
    input: { services, routesPerService, tables: tables.length, bytesPerPass, meanTableBytes: Math.round(bytesPerPass / tables.length) },
    tablesPerSecond: { median: median(perSecond), runs: perSecond },
    tablesPerCpuSecond: { median: median(perCpuSecond), runs: perCpuSecond },
    bytesPerSecond: Math.round((median(perSecond) * bytesPerPass) / tables.length),
  }) + '\n',
);
