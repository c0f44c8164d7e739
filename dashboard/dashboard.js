// The metamesh dashboard: plain JavaScript, no dependencies, no build step. Read-only: it fetches
// the JSON API (/api/..., described by /api/openapi.json) and refetches a panel when the event
// stream (/api/events) names it. On a server that needs the bearer token, it asks for it once,
// keeps it in sessionStorage (this tab only) and sends it as an Authorization header; the event
// stream is read with fetch() for the same reason (EventSource cannot send headers).
'use strict';

const TOKEN_KEY = 'metamesh-token';
const PAGE = 50;
const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', q: '', sort: 'host', order: 'asc', offset: 0, selected: '', diagCode: '', diagObject: '' };

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text: nothing is parsed as HTML). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

function badge(kind, text) {
  return el('span', { class: `badge ${kind}` }, text ?? kind);
}

function when(iso) {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const ago = s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  return `${new Date(iso).toLocaleTimeString()} (${ago})`;
}

class AuthError extends Error {}

async function api(path) {
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) {
    showAuth(res.status, (await res.text()).trim());
    throw new AuthError(res.status);
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).trim()}`);
  return res.json();
}

function showAuth(status, text) {
  $('auth').hidden = false;
  $('auth-form').hidden = status === 403;
  $('auth-why').textContent = status === 403 ? text : state.token ? 'The token was not accepted; enter it again.' : $('auth-why').textContent;
  setLive(status === 403 ? 'The API is disabled on this address.' : 'Waiting for the bearer token.');
}

function setLive(text) {
  $('live').textContent = text;
}

// --- registries -------------------------------------------------------------------------------

function chart(history) {
  const W = 600, H = 90, n = history.length;
  const maxLag = Math.max(1, ...history.map((p) => p.lagMs ?? 0));
  const maxChg = Math.max(1, ...history.map((p) => p.changes));
  const x = (i) => (i / Math.max(1, n - 1)) * (W - 10) + 5;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const lagged = history.filter((p) => p.lagMs !== null);
  const total = history.reduce((s, p) => s + p.changes, 0);
  svg.setAttribute('aria-label', `Last hour: ${total} ServiceEntry changes; longest sync lag ${lagged.length ? Math.max(...lagged.map((p) => p.lagMs)) : 0} ms.`);
  history.forEach((p, i) => {
    if (p.changes === 0) return;
    const h = (p.changes / maxChg) * (H - 10);
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', String(x(i) - 3));
    r.setAttribute('y', String(H - h));
    r.setAttribute('width', '6');
    r.setAttribute('height', String(h));
    r.setAttribute('fill', '#c98a00');
    svg.append(r);
  });
  const pts = history.map((p, i) => (p.lagMs === null ? null : `${x(i)},${H - 5 - (p.lagMs / maxLag) * (H - 15)}`)).filter(Boolean);
  if (pts.length > 0) {
    const line = document.createElementNS(ns, pts.length === 1 ? 'circle' : 'polyline');
    if (pts.length === 1) {
      const [cx, cy] = pts[0].split(',');
      line.setAttribute('cx', cx);
      line.setAttribute('cy', cy);
      line.setAttribute('r', '3');
      line.setAttribute('fill', '#0b5cad');
    } else {
      line.setAttribute('points', pts.join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', '#0b5cad');
      line.setAttribute('stroke-width', '2');
    }
    svg.append(line);
  }
  return svg;
}

function registryCard(r) {
  const held = r.heldBack.services.length + r.heldBack.servicesOmitted + r.heldBack.instances.length + r.heldBack.instancesOmitted;
  const lagged = r.history.filter((p) => p.lagMs !== null);
  const lastLag = lagged.length ? lagged[lagged.length - 1].lagMs : null;
  return el('article', { class: 'card', 'data-registry': r.registry, 'aria-label': `Registry ${r.registry}` },
    el('h3', {}, r.registry),
    badge(r.display),
    el('dl', {},
      el('dt', {}, 'Last sync'), el('dd', {}, when(r.lastSync)),
      el('dt', {}, 'Services'), el('dd', { class: 'services' }, r.services),
      el('dt', {}, 'Instances'), el('dd', { class: 'instances' }, r.instances),
      el('dt', {}, 'Held back'), el('dd', {}, held === 0 ? 'nothing' : `${held} (removal grace)`),
      el('dt', {}, 'Protections'), el('dd', {}, r.protections.length === 0 ? 'none' : r.protections.map((p) => `${p.scope === 'registry' ? 'registry' : p.host}: ${p.before} → ${p.after} refused${p.until ? ` until ${new Date(p.until).toLocaleTimeString()}` : ''}`).join('; ')),
      el('dt', {}, 'Sync lag'), el('dd', {}, lastLag === null ? 'no change this hour' : `${lastLag} ms (last change)`),
      r.error ? [el('dt', {}, 'Error'), el('dd', {}, r.error)] : [],
    ),
    chart(r.history),
    el('p', { class: 'legend' }, el('span', { class: 'lag' }, 'line: sync lag'), ' · ', el('span', { class: 'chg' }, 'bars: changes per minute'), ' · last hour'),
    held > 0 ? el('details', {}, el('summary', {}, 'Held back'), el('ul', {}, [...r.heldBack.services.map((s) => el('li', {}, `${s.host}: removed at ${new Date(s.removeAt).toLocaleTimeString()} unless it returns`)), ...r.heldBack.instances.map((i) => el('li', {}, `${i.host} ${i.instance}: removed at ${new Date(i.removeAt).toLocaleTimeString()}`))])) : [],
  );
}

async function loadRegistries() {
  const body = await api('/api/registries');
  $('policy').textContent = `Outage policy: removals wait ${body.policy.removalGraceMs / 1000} s; a loss of more than ${Math.round(body.policy.protectionThreshold * 100)} % is held back for ${body.policy.protectionHoldMs / 1000} s.`;
  const list = $('registry-list');
  list.replaceChildren(...(body.registries.length ? body.registries.map(registryCard) : [el('p', {}, 'No registry is configured (start serve with --registry).')]));
}

// --- services ---------------------------------------------------------------------------------

async function loadServices() {
  const p = new URLSearchParams({ q: state.q, sort: state.sort, order: state.order, offset: String(state.offset), limit: String(PAGE) });
  const body = await api(`/api/services?${p}`);
  const rows = body.rows.map((r) =>
    el('tr', {},
      el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => openDetail(r.host), 'aria-label': `Details of ${r.host}` }, r.host)),
      el('td', {}, r.protocol),
      el('td', {}, r.port),
      el('td', {}, r.instances ?? '–'),
      el('td', {}, r.registries.join(', ') || 'written by hand'),
      el('td', {}, r.serviceEntry),
    ),
  );
  $('services-table').tBodies[0].replaceChildren(...rows);
  const from = body.matched === 0 ? 0 : body.offset + 1;
  const to = body.offset + body.rows.length;
  $('services-count').textContent = `${body.matched} of ${body.total} rows match`;
  $('page-info').textContent = `${from}–${to} of ${body.matched}`;
  $('prev').disabled = body.offset === 0;
  $('next').disabled = to >= body.matched;
}

function setSort(key) {
  if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
  else { state.sort = key; state.order = 'asc'; }
  for (const th of document.querySelectorAll('#services-table th')) {
    if (th.dataset.sort === state.sort) th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  state.offset = 0;
  refresh('services');
}

// --- drill-down -------------------------------------------------------------------------------

function openDetail(host) {
  state.selected = host;
  history.replaceState(null, '', `#service=${encodeURIComponent(host)}`);
  loadDetail().then(() => $('detail').focus(), report);
}

async function loadDetail() {
  if (!state.selected) return;
  let d;
  try {
    d = await api(`/api/services/${encodeURIComponent(state.selected)}`);
  } catch (e) {
    if (e instanceof AuthError) throw e;
    $('detail').hidden = false;
    $('detail-h').textContent = state.selected;
    $('detail-summary').textContent = 'This service is not served any more.';
    return;
  }
  const x = d.explanation;
  $('detail').hidden = false;
  $('detail-h').textContent = d.host;
  $('detail-summary').replaceChildren(badge(x.inEffect ? 'ok' : 'error', x.inEffect ? 'in effect' : 'not in effect'), ' ', x.summary);
  const sections = new Map();
  for (const f of x.facts) {
    if (!sections.has(f.section)) sections.set(f.section, []);
    sections.get(f.section).push(f.sentence);
  }
  $('detail-facts').replaceChildren(...[...sections].map(([s, list]) => el('div', {}, el('h4', {}, s), el('ul', { class: 'facts' }, list.map((t) => el('li', {}, t))))),
    x.diagnostics.length ? el('div', {}, el('h4', {}, 'diagnostics'), el('ul', {}, x.diagnostics.map((g) => el('li', {}, badge(g.severity), ' ', el('a', { href: docHref(g.doc) }, g.code), ` ${g.object}: ${g.message}`)))) : []);
  const proxies = x.proxies || [];
  $('detail-proxies').replaceChildren(proxies.length === 0 ? el('p', {}, 'No connected proxy subscribes to its route tables.') :
    el('table', { id: 'detail-proxies-table' }, el('caption', { class: 'visually-hidden' }, 'Proxies and the version of the route table they hold'),
      el('thead', {}, el('tr', {}, ['Node', 'Route table', 'State', 'Holds', 'Current', 'NACK message'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, proxies.map((p) => el('tr', {}, el('td', {}, p.nodeId || '(no node id)'), el('td', {}, p.routeConfiguration), el('td', {}, badge(p.state)), el('td', {}, p.heldVersion ?? '–'), el('td', {}, p.currentVersion ?? '–'), el('td', { class: 'nack' }, p.nackMessage ?? '')))),
    ));
  $('detail-endpoints').replaceChildren(d.endpoints.length === 0 ? el('p', {}, 'No endpoints listed.') :
    el('table', {}, el('caption', { class: 'visually-hidden' }, 'Endpoints'),
      el('thead', {}, el('tr', {}, ['Address', 'Ports', 'Labels', 'Weight'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, d.endpoints.map((e) => el('tr', {}, el('td', {}, e.address), el('td', {}, Object.entries(e.ports).map(([k, v]) => `${k}=${v}`).join(', ')), el('td', {}, Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(', ')), el('td', {}, e.weight ?? '–'))))),
    d.endpointsOmitted ? el('p', {}, `${d.endpointsOmitted} more endpoints are not listed.`) : []);
  $('detail-se').textContent = d.serviceEntryYaml || '(defined by a Kubernetes Service)';
  $('detail-ef').textContent = d.envoyFiltersYaml || '(none generated)';
  $('detail-routes').textContent = JSON.stringify(d.routes, null, 2);
}

function closeDetail() {
  state.selected = '';
  $('detail').hidden = true;
  history.replaceState(null, '', location.pathname);
  $('q').focus();
}

// --- proxies ----------------------------------------------------------------------------------

async function loadProxies() {
  const body = await api('/api/proxies?limit=200');
  const h = body.ackLatency;
  const max = Math.max(1, ...h.buckets.map((b) => b.count));
  $('histogram').replaceChildren(
    el('h3', {}, 'Push-to-ACK latency'),
    el('p', { class: 'muted' }, `${h.count} pushes ACKed${h.count ? `, ${Math.round(h.sumMs / h.count)} ms on average` : ''}; ${h.nacks} NACKed.`),
    el('div', { class: 'bars', role: 'img', 'aria-label': `Histogram: ${h.buckets.map((b) => `${b.count} at most ${b.le ?? 'over 10000'} ms`).join(', ')}` }, h.buckets.map((b) => { const bar = el('div', { class: 'bar', title: `${b.count}` }); bar.style.height = `${(b.count / max) * 100}%`; return bar; })),
    el('div', { class: 'bars-labels', 'aria-hidden': 'true' }, h.buckets.map((b) => el('span', {}, b.le === null ? '>10s' : b.le >= 1000 ? `${b.le / 1000}s` : `${b.le}ms`))),
  );
  const rows = body.proxies.map((p) => {
    const nacks = p.types.reduce((s, t) => s + t.nackCount, 0);
    const last = p.types.map((t) => t.lastNackMessage).filter(Boolean).join('; ');
    return el('tr', { 'data-node': p.nodeId },
      el('td', {}, `${p.stream} (${p.service} ${p.mode})`),
      el('td', {}, p.nodeId || '(no node id)', el('br'), el('span', { class: 'muted' }, p.peer)),
      el('td', {}, p.kind === 'istiod' ? 'istiod (MCP)' : 'proxy'),
      el('td', {}, p.types.map((t) => `${t.typeUrl.split('/').pop()} (${t.subscribedCount})`).join(', ')),
      el('td', {}, p.types.map((t) => t.held.map((v) => `${v.name}@${v.version}`).join(', ') + (t.heldCount > t.held.length ? ` and ${t.heldCount - t.held.length} more` : '')).join('; ') || 'none'),
      el('td', {}, nacks ? badge('nacked', String(nacks)) : '0'),
      el('td', { class: 'nack' }, last),
    );
  });
  $('proxies-table').tBodies[0].replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '7' }, 'No xDS stream is connected.'))]));
}

// --- diagnostics ------------------------------------------------------------------------------

function docHref(doc) {
  return `/docs/errors#${doc.split('#')[1] || ''}`;
}

async function loadDiagnostics() {
  const p = new URLSearchParams({ code: state.diagCode, object: state.diagObject, limit: '500' });
  const body = await api(`/api/diagnostics?${p}`);
  const select = $('diag-code');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'All codes'), ...body.codes.map((c) => el('option', { value: c.code }, `${c.code} (${c.count})`)));
  select.value = body.codes.some((c) => c.code === chosen) ? chosen : '';
  $('diag-count').textContent = `${body.matched} of ${body.total} diagnostics`;
  $('diag-table').tBodies[0].replaceChildren(...body.diagnostics.map((g) =>
    el('tr', {}, el('td', {}, badge(g.severity)), el('td', {}, el('a', { href: docHref(g.doc) }, g.code)), el('td', {}, g.object), el('td', {}, g.message)),
  ));
}

// --- refresh and live updates -----------------------------------------------------------------

const loaders = { registries: loadRegistries, services: () => Promise.all([loadServices(), loadDetail()]), proxies: () => Promise.all([loadProxies(), loadDetail()]), diagnostics: loadDiagnostics };

function report(e) {
  if (!(e instanceof AuthError)) setLive(`Update failed: ${e.message}`);
}

function refresh(...topics) {
  return Promise.all(topics.map((t) => loaders[t]().catch((e) => { report(e); throw e; })));
}

let streamGen = 0;
async function listen() {
  const gen = ++streamGen;
  for (let delay = 1000; gen === streamGen; delay = Math.min(delay * 2, 15000)) {
    try {
      const res = await fetch('/api/events', { headers: state.token ? { authorization: `Bearer ${state.token}` } : {}, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) { showAuth(res.status, (await res.text()).trim()); return; }
      if (!res.ok || !res.body) throw new Error(`event stream: ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done || gen !== streamGen) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'hello') {
            delay = 1000;
            setLive(`Live: connected at ${new Date().toLocaleTimeString()}`);
            await refresh('registries', 'services', 'proxies', 'diagnostics').catch(() => {});
          } else if (event === 'change' && data) {
            const { topics } = JSON.parse(data);
            await refresh(...topics).catch(() => {});
            setLive(`Live: updated at ${new Date().toLocaleTimeString()}`);
          }
        }
      }
    } catch (e) {
      setLive(`Live updates interrupted (${e.message}); reconnecting…`);
    }
    if (gen !== streamGen) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

function start() {
  $('auth').hidden = true;
  refresh('registries', 'services', 'proxies', 'diagnostics').then(() => listen(), (e) => { if (!(e instanceof AuthError)) listen(); });
}

document.addEventListener('DOMContentLoaded', () => {
  $('auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('token').value = '';
    start();
  });
  let typing;
  $('q').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = $('q').value; state.offset = 0; refresh('services').catch(() => {}); }, 200);
  });
  $('service-search').addEventListener('submit', (ev) => ev.preventDefault());
  for (const th of document.querySelectorAll('#services-table th')) th.querySelector('button').addEventListener('click', () => setSort(th.dataset.sort));
  $('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); refresh('services').catch(() => {}); });
  $('next').addEventListener('click', () => { state.offset += PAGE; refresh('services').catch(() => {}); });
  $('detail-close').addEventListener('click', closeDetail);
  $('diag-filter').addEventListener('submit', (ev) => ev.preventDefault());
  $('diag-code').addEventListener('change', () => { state.diagCode = $('diag-code').value; refresh('diagnostics').catch(() => {}); });
  $('diag-object').addEventListener('input', () => { state.diagObject = $('diag-object').value; refresh('diagnostics').catch(() => {}); });
  const m = /^#service=(.+)$/.exec(location.hash);
  if (m) state.selected = decodeURIComponent(m[1]);
  start();
});
