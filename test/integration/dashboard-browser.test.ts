/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser download) against a running `metamesh serve` with a real ZooKeeper registry and a real
 * gRPC xDS client: the registry's state is shown, a service is found by search and its drill-down
 * opened, a provider added to ZooKeeper shows up live (no reload), a NACK from the xDS client shows
 * with its message, the page passes an axe-core accessibility scan with zero violations, and it
 * works behind the bearer token; with 10,000 services it holds one page of rows and pages, sorts and
 * searches on the server. Screenshots go to .tmp/test-output/dashboard/;
 * METAMESH_UPDATE_SCREENSHOT=1 also writes docs/dashboard.png (the README's).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseRegistry, type RegistryConfig } from '../../src/registry/config.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { client, examplesCopy, NODE, removeTemps, root, services, sotwReq, start, tempDir, until } from '../support/xds.js';
import { ZkServer, ZkWriter } from '../support/zookeeper.js';
import { snapshotRegistry } from '../support/snapshot-registry.js';

const CHROMIUM = process.env.METAMESH_CHROMIUM ?? '/usr/bin/chromium';
const OUT = path.join(root, '.tmp', 'test-output', 'dashboard');
const AXE = readFileSync(path.join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** Dubbo interfaces registered as a Dubbo 3 provider does (interface mode), with 1 to 3 providers each. */
const INTERFACES = ['GreetingService', 'OrderService', 'UserService', 'PaymentService', 'InventoryService', 'ShippingService', 'CatalogService', 'ReviewService', 'CartService', 'PricingService', 'SearchService', 'NotificationService'];
const provider = (iface: string, ip: string, version = '1.0.0') =>
  encodeURIComponent(`dubbo://${ip}:20880/demo.${iface}?application=${iface.toLowerCase()}-app&dubbo=2.0.2&interface=demo.${iface}&methods=get,list&release=3.3.6&side=provider&version=${version}`);
const HOST = 'demo.greetingservice-1-0-0';
const ROUTE = `${HOST}_20880`;

let zk: ZkServer;
let writer: ZkWriter;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `headless Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  mkdirSync(OUT, { recursive: true });
  zk = await ZkServer.start();
  writer = await ZkWriter.connect(zk.connect);
  for (const [i, iface] of INTERFACES.entries()) {
    await writer.mkdirp(`/dubbo/demo.${iface}/providers`);
    for (let k = 0; k < 1 + (i % 3); k++) await writer.create(`/dubbo/demo.${iface}/providers/${provider(iface, `10.1.${i}.${k + 1}`)}`, '', true);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
});

after(async () => {
  await browser?.close();
  writer?.close();
  await zk?.close();
  removeTemps();
});

function zkRegistry(): RegistryConfig {
  const c = parseRegistry(`zookeeper://${zk.connect}`);
  assert.ok(!('error' in c));
  return c as RegistryConfig;
}

async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy (script-src 'self')
  // rightly refuses an inline script tag.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

test('the dashboard shows the ZooKeeper registry, finds and opens a service, updates live on a new provider and on a NACK, and has no axe violations', async () => {
  const srv = await start(examplesCopy(), { watch: 'none', registries: [zkRegistry()] });
  const xds = client(services.RdsClient, srv.xdsPort);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    const base = `http://127.0.0.1:${srv.httpPort}`;
    await page.goto(`${base}/dashboard/`);
    const card = page.locator('article.card').first();
    await card.locator('.badge', { hasText: 'connected' }).waitFor();
    await until(async () => (await card.locator('dd.services').textContent()) === String(INTERFACES.length), 'the registry card to count every interface');
    assert.equal(await card.locator('dd.instances').textContent(), String(INTERFACES.reduce((n, _, i) => n + 1 + (i % 3), 0)));
    await page.locator('#live', { hasText: 'Live:' }).waitFor();
    // The page never reloads from here on: a marker set now must survive every update.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));

    await page.getByLabel('Search services').fill('greeting');
    await until(async () => (await page.locator('#services-table tbody tr').count()) === 1, 'the search to leave one row');
    await page.locator('#services-table tbody tr', { hasText: HOST }).waitFor();
    await page.getByRole('button', { name: `Details of ${HOST}` }).click();
    await page.locator('#detail-h', { hasText: HOST }).waitFor();
    assert.equal(await page.locator('#detail-endpoints tbody tr').count(), 1);
    await page.locator('#detail-proxies', { hasText: 'No connected proxy' }).waitFor();

    // A provider added to ZooKeeper appears in the open drill-down and the table, without reload.
    await writer.create(`/dubbo/demo.GreetingService/providers/${provider('GreetingService', '10.9.9.9')}`, '', true);
    await page.locator('#detail-endpoints td', { hasText: '10.9.9.9' }).waitFor({ timeout: 20_000 });
    await page.locator('#services-table tbody tr', { hasText: HOST }).locator('td', { hasText: /^2$/ }).waitFor();

    // A real gRPC xDS client subscribes to the service's route table and NACKs the version.
    const s = xds.open<DiscoveryResponseWire>('StreamRoutes');
    s.send(sotwReq([ROUTE], { node: { ...NODE, id: 'sidecar~10.0.0.7~consumer-1.demo~demo.svc.cluster.local' } }));
    const r = await s.next();
    s.send(sotwReq([ROUTE], { node: { ...NODE, id: 'sidecar~10.0.0.7~consumer-1.demo~demo.svc.cluster.local' }, response_nonce: r.nonce, error_detail: { code: 3, message: 'unknown codec aeraki.meta_protocol.codec.dubbo' } }));
    await page.locator('#detail-proxies td.nack', { hasText: 'unknown codec aeraki.meta_protocol.codec.dubbo' }).waitFor();
    await page.locator('#detail-proxies .badge', { hasText: 'nacked' }).waitFor();
    await page.locator('#proxies-table td.nack', { hasText: 'unknown codec' }).waitFor();
    await page.locator('#detail-summary', { hasText: 'not in effect' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');

    for (const what of ['ServiceEntry (YAML)', 'EnvoyFilters (YAML)', 'Routes as served (JSON)']) await page.getByText(what).click();
    assert.match((await page.locator('#detail-se').textContent()) ?? '', /kind: ServiceEntry[\s\S]*address: 10\.9\.9\.9/);
    assert.match((await page.locator('#detail-ef').textContent()) ?? '', /kind: EnvoyFilter/);
    assert.match((await page.locator('#detail-routes').textContent()) ?? '', new RegExp(`"name": "${ROUTE.replaceAll('.', '\\.')}"`));
    assert.deepEqual(await axeViolations(page), [], 'the drill-down with its YAML open');
    await page.screenshot({ path: path.join(OUT, 'detail-nack.png'), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByLabel('Search services').fill('');
    await page.locator('#services-table tbody tr').nth(10).waitFor();
    await page.getByLabel('Search services').blur();
    const shot = path.join(OUT, 'dashboard.png');
    await page.screenshot({ path: shot });
    if (process.env.METAMESH_UPDATE_SCREENSHOT === '1') copyFileSync(shot, path.join(root, 'docs', 'dashboard.png'));

    assert.deepEqual(await axeViolations(page), []);
    // The scan does look: the search field without its label (and placeholder) is a violation.
    await page.evaluate(() => {
      document.querySelector('label[for="q"]')!.remove();
      document.getElementById('q')!.removeAttribute('placeholder');
    });
    const broken = await axeViolations(page);
    assert.ok(broken.some((v) => v.startsWith('label:')), `axe reports the unlabelled field: ${broken.join('; ')}`);
    // The diagnostics link to their explanation.
    const link = page.locator('#diag-table a').first();
    const href = await link.getAttribute('href');
    assert.match(href ?? '', /^\/docs\/errors#mm_[a-z_]+$/);
    await link.click();
    await page.locator(`h3[id="${href!.split('#')[1]}"]`).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'docs/errors as a page');
  } finally {
    await page.close();
    xds.client.close();
    await srv.close();
  }
});

test('behind a bearer token the page asks for it, keeps it for the tab, and then shows the data and its live updates', async () => {
  const file = path.join(tempDir('metamesh-token-'), 'token');
  writeFileSync(file, 'browser-t0ken\n');
  const srv = await start(examplesCopy(), { watch: 'none', registries: [zkRegistry()], httpTokenFile: file });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`http://127.0.0.1:${srv.httpPort}/dashboard/`);
    await page.locator('#auth').waitFor();
    assert.deepEqual(await axeViolations(page), [], 'the token prompt');
    await page.getByLabel('Bearer token').fill('wrong');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('#auth-why', { hasText: 'not accepted' }).waitFor();
    await page.getByLabel('Bearer token').fill('browser-t0ken');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('article.card .badge', { hasText: 'connected' }).waitFor();
    assert.equal(await page.locator('#auth').isHidden(), true);
    await page.locator('#live', { hasText: 'Live:' }).waitFor();
    await writer.create(`/dubbo/demo.OrderService/providers/${provider('OrderService', '10.8.8.8', '2.0.0')}`, '', true);
    await page.getByLabel('Search services').fill('orderservice-2-0-0');
    await page.locator('#services-table tbody tr', { hasText: 'demo.orderservice-2-0-0' }).waitFor({ timeout: 20_000 });
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: path.join(OUT, 'token.png') });
  } finally {
    await page.close();
    await srv.close();
  }
});

test('10,000 services: the page holds one page of 50 rows, pages and searches on the server, and stays responsive', async () => {
  const srv = await start(examplesCopy(), { watch: 'none', registries: [snapshotRegistry(10_000)] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await until(async () => ((await srv.http.inject({ url: '/api/services?limit=1' })).json() as { total: number }).total > 10_000, 'the registry services to be applied', 120_000);
    await page.goto(`http://127.0.0.1:${srv.httpPort}/dashboard/`);
    await page.locator('#services-count', { hasText: '10003 of 10003 rows match' }).waitFor();
    assert.equal(await page.locator('#services-table tbody tr').count(), 50, 'one page in the DOM, not 10,000 rows');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.locator('#page-info', { hasText: '51–100 of 10003' }).waitFor();
    await page.getByRole('button', { name: 'Instances' }).click();
    await page.getByRole('button', { name: 'Instances' }).click();
    await page.locator('#services-table th[data-sort="instances"][aria-sort="descending"]').waitFor();
    await page.locator('#page-info', { hasText: '1–50 of 10003' }).waitFor();
    assert.equal(await page.locator('#services-table tbody tr td:nth-child(4)').first().textContent(), '4');
    await page.getByLabel('Search services').fill('svc-09999');
    await page.locator('#services-count', { hasText: '1 of 10003 rows match' }).waitFor();
    await page.locator('#services-table tbody tr', { hasText: 'svc-09999.registry.example.com' }).waitFor();
    // Keyboard only: the row's button opens the drill-down.
    await page.getByRole('button', { name: 'Details of svc-09999.registry.example.com' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#detail-h', { hasText: 'svc-09999.registry.example.com' }).waitFor();
    assert.equal(await page.locator('#detail-endpoints tbody tr').count(), 4);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'detail', 'focus moves to the opened service');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: path.join(OUT, 'ten-thousand.png') });
  } finally {
    await page.close();
    await srv.close();
  }
});
