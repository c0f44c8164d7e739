/**
 * The dashboard page: a fixed set of static files from the package's dashboard/ folder (no
 * bundler; plain HTML, CSS and JavaScript), read once at start, and docs/errors.md rendered as a
 * page so that each diagnostic links to its explanation. Effects: reading those files at start.
 *
 * The files hold no data (the page fetches the guarded API, with the token if one is needed), so
 * they are served without the token: that is what lets the page ask for it. The Host check of
 * every request still applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { markdownPage } from './markdown.js';

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

/** The package root (where dashboard/ and docs/ are), from src/ (tsx) or dist/src/ (compiled). */
export function packageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      readFileSync(path.join(dir, 'dashboard', 'index.html'));
      return dir;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('bug: the dashboard/ folder of the metamesh package was not found');
}

/** Headers that keep the page from being framed or sniffed, and scripts to our own origin. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function dashboardPage(root = packageDir()) {
  const files = new Map(Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(path.join(root, 'dashboard', name)) }]));
  const errors = markdownPage(readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8'), 'metamesh diagnostics');
  return (app: FastifyInstance): void => {
    const schema = (summary: string) => ({ summary, tags: ['dashboard'], response: { 200: { type: 'string', description: 'text/html, text/css or text/javascript' } } });
    app.get('/', { schema: schema('Redirects to the dashboard') }, (_req, reply) => reply.redirect('/dashboard/', 302));
    app.get('/dashboard', { schema: schema('Redirects to the dashboard') }, (_req, reply) => reply.redirect('/dashboard/', 302));
    for (const [name, f] of files) {
      const url = name === 'index.html' ? '/dashboard/' : `/dashboard/${name}`;
      app.get(url, { schema: schema(`The dashboard's ${name}`) }, (_req, reply) => reply.headers(SECURITY_HEADERS).type(f.type).send(f.body));
    }
    app.get('/docs/errors', { schema: schema('docs/errors.md as a page; each diagnostic code is an anchor') }, (_req, reply) => reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(errors));
  };
}
