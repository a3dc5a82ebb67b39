import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_APP_CSP, webAppPlugin } from '../src/http/web-app';
import { createTestServer, type TestServer } from './harness';
import { ensureWebBuilt } from './web-build';

// The server serves the built web app at `/` (npm start needs no separate dev server).

describe('the web app served by the server', () => {
  let server: TestServer;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await createTestServer();
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('serves index.html at / and for the app’s own routes, never cached, with a strict CSP', async () => {
    for (const route of ['/', '/dialogs/6f1c0d7e-0000-4000-8000-000000000000', '/admin/lines']) {
      const response = await fetch(`${server.url}${route}`);
      expect(response.status, route).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe(WEB_APP_CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const html = await response.text();
      expect(html).toContain('<div id="root"></div>');
      expect(html).not.toMatch(/<script>(?!<\/script>)/);
    }
    expect(WEB_APP_CSP).toContain("script-src 'self'");
    expect(WEB_APP_CSP).not.toContain('unsafe-inline');
    expect(WEB_APP_CSP).not.toContain('unsafe-eval');
  });

  it('serves hashed assets for a year, precompressed when the browser takes it', async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const plain = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await plain.text();
    const compressed = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(compressed.headers.get('content-encoding')).toMatch(/^(br|gzip)$/);
    expect(await compressed.text()).toBe(body);
    const head = await fetch(`${server.url}${script}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('keeps problem+json 404s for the API, and 404s for missing files', async () => {
    const api = await fetch(`${server.url}/api/v1/no-such-thing`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await api.json()).code).toBe('route_not_found');
    const apiRoot = await fetch(`${server.url}/api`);
    expect(apiRoot.status).toBe(404);
    expect((await apiRoot.json()).code).toBe('route_not_found');
    const missing = await fetch(`${server.url}/assets/missing-0000.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).not.toMatch(/^text\/html/);
    const traversal = await fetch(`${server.url}/assets/..%2f..%2fpackage.json`);
    expect(traversal.status).not.toBe(200);
    // The API and health checks are untouched.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/me`)).status).toBe(401);
  });
});

describe('before the web app is built', () => {
  it('says how to build it instead of a blank page', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'openlines-web-'));
    const app = Fastify();
    app.setNotFoundHandler((_request, reply) => reply.status(404).send({ code: 'route_not_found' }));
    await app.register(webAppPlugin, { root });
    try {
      const response = await app.inject({ method: 'GET', url: '/admin' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build');
      expect(response.headers['content-security-policy']).toBe(WEB_APP_CSP);
      expect((await app.inject({ method: 'GET', url: '/api/v1/x' })).statusCode).toBe(404);
      writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="root"></div>');
      const built = await app.inject({ method: 'GET', url: '/admin' });
      expect(built.statusCode).toBe(200);
      expect(built.body).toContain('id="root"');
    } finally {
      await app.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
