/**
 * Builds the Dubbo provider of the integration tests ahead of them, as .ci/run does:
 * `node --import tsx test/support/dubbo-build.ts`. Maven fetches from Maven Central into
 * `${XDG_CACHE_HOME:-~/.cache}/metamesh-test/m2`, so a registry problem shows here and not in a
 * test; a build for the same sources is reused.
 */
import { buildProvider } from './dubbo.js';

buildProvider().then(
  (b) => {
    const how = b.buildMs === undefined ? 'already built' : `built in ${(b.buildMs / 1000).toFixed(1)} s`;
    process.stdout.write(`dubbo-build: the Dubbo provider is ${how}: ${b.dir}\n`);
  },
  (e: unknown) => {
    process.stderr.write(`dubbo-build: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
