/**
 * istiod for the e2e tests, built with the Go toolchain from the Go module proxy and cached
 * outside the repo, keyed by the Istio version test/e2e/istiod/go.mod pins (the one place to
 * change it):
 *
 *   ${XDG_CACHE_HOME:-~/.cache}/metamesh-test/istiod-<version>/pilot-discovery
 *   ${XDG_CACHE_HOME:-~/.cache}/metamesh-test/istiod-<version>/adsclient-<source hash>
 *
 * pilot-discovery is istiod's binary (istio.io/istio/pilot/cmd/pilot-discovery); adsclient
 * (test/e2e/istiod/adsclient/) asks istiod for a proxy's clusters and listeners as pilot-agent does.
 * A cold build takes about 300 CPU-seconds and 2.8 GB of memory (10 to 15 minutes on two busy
 * cores; a 130 MB binary); a cached one costs nothing. Concurrent callers: one builds under a lock directory, the others wait (kube-build.ts).
 *
 * Run directly (`node --import tsx test/e2e/support/istiod-build.ts`) it builds whatever is missing
 * and prints the paths: what .ci/run and `npm run test:e2e` do before the tests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, cacheRoot, repoRoot, requireGo } from './kube-build.js';

const moduleDir = path.join(repoRoot, 'test/e2e/istiod');

/** The istio.io/istio version test/e2e/istiod/go.mod requires (a pseudo-version of the master branch). */
export const ISTIO_VERSION = ((): string => {
  const m = /^\s*(?:require\s+)?istio\.io\/istio\s+(v\S+)/m.exec(readFileSync(path.join(moduleDir, 'go.mod'), 'utf8'));
  if (!m) throw new Error('test/e2e/istiod/go.mod does not require istio.io/istio');
  return m[1]!;
})();

export interface IstiodBinaries {
  readonly pilotDiscovery: string;
  readonly adsClient: string;
  /**
   * The release line of that version (the VERSION file of istio.io/istio, e.g. 1.31), which the
   * built istiod reports and the test proxies send as ISTIO_VERSION, as pilot-agent of the same
   * release does.
   */
  readonly release: string;
}

/** The VERSION file of the pinned istio.io/istio, from the Go module cache (downloaded if need be). */
function istioRelease(): string {
  const json = execFileSync('go', ['mod', 'download', '-json', 'istio.io/istio'], { cwd: moduleDir, encoding: 'utf8' });
  const dir = (JSON.parse(json) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download istio.io/istio@${ISTIO_VERSION} gave no directory: ${json}`);
  const release = readFileSync(path.join(dir, 'VERSION'), 'utf8').trim();
  if (!/^\d+\.\d+$/.test(release)) throw new Error(`istio.io/istio@${ISTIO_VERSION} has an unexpected VERSION file: ${JSON.stringify(release)}`);
  return release;
}

const dir = (): string => path.join(cacheRoot(), `istiod-${ISTIO_VERSION}`);

/** The ADS client is keyed by its sources and go.sum, so an edit rebuilds it (in seconds, the cache warm). */
function adsClientHash(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(readFileSync(path.join(moduleDir, f)));
  const src = path.join(moduleDir, 'adsclient');
  for (const f of readdirSync(src).sort()) h.update(f).update(readFileSync(path.join(src, f)));
  return h.digest('hex').slice(0, 16);
}

export async function ensureIstiodBinaries(log: (line: string) => void = () => {}): Promise<IstiodBinaries> {
  const pilotDiscovery = path.join(dir(), 'pilot-discovery');
  const adsClient = path.join(dir(), `adsclient-${adsClientHash()}`);
  requireGo();
  const release = istioRelease();
  await build(
    {
      name: 'pilot-discovery',
      version: ISTIO_VERSION,
      moduleDir,
      target: 'istio.io/istio/pilot/cmd/pilot-discovery',
      // The version istiod reports (and compares proxies' ISTIO_VERSION with); "unknown" otherwise.
      ldflags: `-s -w -X istio.io/istio/pkg/version.buildVersion=${release}-dev`,
      out: pilotDiscovery,
    },
    log,
  );
  await build({ name: 'adsclient', version: ISTIO_VERSION, moduleDir, target: './adsclient', ldflags: '-s -w', out: adsClient }, log);
  // Builds of earlier sources of the client are of no further use.
  for (const f of readdirSync(dir())) if (f.startsWith('adsclient-') && f !== path.basename(adsClient) && !f.includes('.tmp-')) rmSync(path.join(dir(), f), { force: true });
  return { pilotDiscovery, adsClient, release };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line: string) => console.log(`istiod-build: ${line}`);
  log(requireGo());
  const b = await ensureIstiodBinaries(log);
  log(`istiod (pilot-discovery) istio.io/istio ${ISTIO_VERSION} (${b.release}): ${b.pilotDiscovery}`);
  log(`ADS client: ${b.adsClient}`);
}
