/**
 * deploy/Containerfile and .dockerignore, checked by rules since no base image can be pulled here
 * to build them (test/e2e/image.test.ts builds and runs the image with buildah where it can): the
 * real files pass; the same file broken in one place fails with that rule's code; the image agrees
 * with what the chart expects of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { contextSources, dockerignorePatterns, ignored, lintContainerfile, parseContainerfile } from '../support/containerfile-lint.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const containerfile = readFileSync(path.join(root, 'deploy/Containerfile'), 'utf8');
const patterns = dockerignorePatterns(readFileSync(path.join(root, '.dockerignore'), 'utf8'));
const codes = (text: string) => lintContainerfile(text).map((f) => f.code);

test('deploy/Containerfile keeps every rule', () => {
  assert.deepEqual(lintContainerfile(containerfile), []);
});

test('it has a build stage, a production-dependencies stage and a runtime stage on one pinned Node.js base', () => {
  const { globalArgs, stages } = parseContainerfile(containerfile);
  assert.deepEqual(stages.map((s) => s.name), ['build', 'deps', 'runtime']);
  assert.match(globalArgs.get('NODE_IMAGE')!, /^docker\.io\/library\/node:20\.\d+\.\d+-bookworm-slim$/);
  assert.ok(stages.every((s) => s.from === globalArgs.get('NODE_IMAGE')));
});

test('one stage only is CF_MULTI_STAGE', () => {
  const single = [
    'ARG NODE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim',
    'FROM ${NODE_IMAGE}',
    'WORKDIR /app',
    'COPY package.json package-lock.json ./',
    'RUN npm ci --omit=dev',
    'COPY dist ./dist',
    'ENV HOME=/tmp',
    'USER 10001:10001',
    'ENTRYPOINT ["node", "/app/bin/metamesh.js"]',
  ].join('\n');
  assert.deepEqual(codes(single), ['CF_MULTI_STAGE']);
  assert.deepEqual(codes(single.replace('COPY dist ./dist', 'RUN npx tsc')), ['CF_MULTI_STAGE', 'CF_MULTI_STAGE']);
});

const broken: Array<[string, string, string, string]> = [
  ['a latest tag', 'ARG NODE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim', 'ARG NODE_IMAGE=docker.io/library/node:latest', 'CF_BASE_PINNED'],
  ['a moving tag', 'ARG NODE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim', 'ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim', 'CF_BASE_PINNED'],
  ['no tag', 'ARG NODE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim', 'ARG NODE_IMAGE=node', 'CF_BASE_PINNED'],
  ['dev dependencies in the image', 'RUN npm ci --omit=dev --ignore-scripts', 'RUN npm ci --ignore-scripts', 'CF_PROD_DEPS'],
  ['node_modules from the build stage', 'COPY --from=deps /app/node_modules', 'COPY --from=build /src/node_modules', 'CF_PROD_DEPS'],
  ['root', 'USER 10001:10001', 'USER 0:0', 'CF_NON_ROOT'],
  ['a user name', 'USER 10001:10001', 'USER node', 'CF_NON_ROOT'],
  ['no USER', 'USER 10001:10001\n', '', 'CF_NON_ROOT'],
  ['files the process may rewrite', 'COPY bin ./bin', 'COPY --chown=10001:10001 bin ./bin', 'CF_READ_ONLY'],
  ['a HOME on the read-only root', '    HOME=/tmp', '    HOME=/home/metamesh', 'CF_READ_ONLY'],
  ['a shell as PID 1', 'ENTRYPOINT ["node", "/app/bin/metamesh.js"]', 'ENTRYPOINT node /app/bin/metamesh.js', 'CF_EXEC_FORM'],
  ['npm install', 'RUN npm ci --ignore-scripts --no-audit --no-fund\n', 'RUN npm install --ignore-scripts\n', 'CF_NPM_CI'],
  ['npm ci before the lock file', 'COPY package.json package-lock.json ./\nRUN npm ci --omit=dev', 'COPY package.json ./\nRUN npm ci --omit=dev', 'CF_LOCKFILE'],
  ['a secret baked in', 'ENV NODE_ENV=production', 'ENV REGISTRY_PASSWORD=hunter2 NODE_ENV=production', 'CF_NO_SECRETS'],
];
for (const [what, from, to, code] of broken) {
  test(`${what} is ${code}`, () => {
    assert.ok(containerfile.includes(from), `the Containerfile no longer contains ${JSON.stringify(from)}`);
    assert.deepEqual(codes(containerfile.replace(from, to)), [code]);
  });
}

test('.dockerignore sends what the Containerfile copies and nothing built, installed or secret on the host', () => {
  const sources = contextSources(containerfile);
  assert.deepEqual([...new Set(sources)].sort(), ['bin', 'crds', 'dashboard', 'docs/errors.md', 'package-lock.json', 'package.json', 'proto', 'protocols', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  const needed = tracked.filter((f) => sources.some((s) => f === s || f.startsWith(`${s}/`)));
  assert.ok(needed.length > 50);
  for (const f of needed) assert.equal(ignored(patterns, f), false, `${f} is copied but ignored`);
  for (const f of ['node_modules/yaml/package.json', 'dist/src/cli/main.js', '.git/HEAD', '.tmp/conformance/harness', 'test/unit/cli.test.ts', 'bench/generate.ts', 'deploy/helm/metamesh/values.yaml', '.env', 'README.md']) {
    assert.equal(ignored(patterns, f), true, `${f} is sent to the build`);
  }
});

test('the runtime stage holds every file the npm package ships (package.json "files"): dist from the build, the rest copied', () => {
  const runtime = parseContainerfile(containerfile).stages.find((s) => s.name === 'runtime')!;
  const copied = runtime.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')).at(-1)!.replace(/^\.\//, '').replace(/\/$/, ''));
  const files = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] }).files;
  for (const f of files) assert.ok(copied.includes(f), `${f} is in the npm package but not in the image (the dashboard did not start without dashboard/)`);
});

test("the image is what the chart runs: user, ports, entry point taking the chart's arguments", () => {
  const values = parse(readFileSync(path.join(root, 'deploy/helm/metamesh/values.yaml'), 'utf8')) as {
    securityContext: { runAsUser: number; runAsGroup: number };
    xdsPort: number;
    httpPort: number;
  };
  const runtime = parseContainerfile(containerfile).stages.at(-1)!.instructions;
  const arg = (k: string) => runtime.filter((i) => i.keyword === k).at(-1)!.args;
  assert.equal(arg('USER'), `${values.securityContext.runAsUser}:${values.securityContext.runAsGroup}`);
  assert.deepEqual(arg('EXPOSE').split(/\s+/).map(Number), [values.xdsPort, values.httpPort]);
  // The chart's arguments start with the command (`serve`), so the entry point is metamesh itself.
  assert.deepEqual(JSON.parse(arg('ENTRYPOINT')), ['node', '/app/bin/metamesh.js']);
});
