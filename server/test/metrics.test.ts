import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, signIn, type TestServer } from './harness';

const TOKEN = 'scrape-token-0123456789';

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => server.stop());

  const scrape = (authorization?: string) =>
    fetch(`${server.url}/metrics`, authorization ? { headers: { authorization } } : {});

  it('refuses a scraper without the token, and one with a wrong token', async () => {
    const none = await scrape();
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect((await scrape(`Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await scrape('Bearer wrong')).status).toBe(401);
  });

  it('counts real traffic by route pattern and reports sockets, the bus, the event loop and memory', async () => {
    const admin = await signIn(server);
    await admin.lines.list();
    await admin.lines.list();
    const missing = await fetch(`${server.url}/api/v1/no-such-route`);
    expect(missing.status).toBe(404);
    const response = await scrape(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const linesCount = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('openlines_http_requests_total{') &&
          l.includes('route="/api/v1/lines"') &&
          l.includes('method="GET"'),
      );
    expect(linesCount).toBeDefined();
    expect(Number(linesCount?.split(' ').at(-1))).toBe(2);
    expect(text).toMatch(
      /openlines_http_requests_total\{method="POST",route="\/api\/v1\/auth\/login",status="200"\} 1/,
    );
    // An unknown URL is one label value, not one per URL.
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).not.toContain('no-such-route');
    expect(text).toMatch(
      /openlines_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v1\/lines"\}/,
    );
    expect(text).toMatch(/^openlines_operator_sockets 0$/m);
    expect(text).toMatch(/^openlines_bus_up 1$/m);
    expect(text).toContain('openlines_nodejs_eventloop_lag_seconds');
    expect(text).toContain('openlines_process_resident_memory_bytes');
  });
});

describe('request ids', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => server.stop());

  it('answers each request with an id of its own, and keeps a safe id given by a proxy', async () => {
    const a = await fetch(`${server.url}/healthz`);
    const b = await fetch(`${server.url}/healthz`);
    const idA = a.headers.get('x-request-id');
    expect(idA).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get('x-request-id')).not.toBe(idA);
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'lb-42.abc' } });
    expect(given.headers.get('x-request-id')).toBe('lb-42.abc');
    const unsafe = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has no metrics route when METRICS_TOKEN is unset', async () => {
    // The path falls through to the web app's handler (its page once the app is built, 503 before):
    // whatever it answers, no metrics.
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.headers.get('content-type') ?? '').not.toContain('version=0.0.4');
    expect(await response.text()).not.toContain('openlines_http_requests_total');
  });
});
