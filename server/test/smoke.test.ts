import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from './harness';

describe('test harness', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(async () => server?.stop());

  it('serves health and creates the first administrator', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(server.admin.password.length).toBeGreaterThanOrEqual(20);
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(server.admin),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/ol_session=.*HttpOnly/i);
  });
});
