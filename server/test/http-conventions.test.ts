import { randomBytes } from 'node:crypto';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOf, createTestServer, problemOf, signIn, type TestServer } from './harness';

const BODY_LIMIT = 2048;

/**
 * A client address of its own (sent as X-Forwarded-For, which this server trusts): login attempts
 * are counted per address, and on Redis the counters are shared by every test server.
 */
const newAddress = () => `10.${[...randomBytes(3)].map((byte) => byte % 250).join('.')}`;

let server: TestServer;
let admin: OpenlinesClient;

beforeAll(async () => {
  server = await createTestServer({
    env: {
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      LOGIN_RATE_LIMIT_PER_MINUTE: '3',
      TRUST_PROXY: 'true',
    },
  });
  admin = await signIn(server, server.admin, { headers: { 'x-forwarded-for': newAddress() } });
});
afterAll(async () => server?.stop());

/** A raw request as the signed-in administrator: the SDK would never send these bodies. */
function send(method: string, path: string, body: string, contentType = 'application/json') {
  return fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { ...admin.transport.authHeaders(method), 'content-type': contentType },
    body,
  });
}

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as { status: number; code: string; errors?: { field: string }[] };
  expect(body).toMatchObject({ status, code });
  return body;
}

describe('bad input', () => {
  it('malformed JSON → 400 naming the body', async () => {
    const body = await expectProblem(
      await send('POST', '/departments', '{"name": "Sales",'),
      400,
      'invalid_json',
    );
    expect(body.errors?.map((e) => e.field)).toEqual(['body']);
  });

  it('a prototype key → 400 naming it, never merged into an object', async () => {
    for (const [raw, field] of [
      ['{"name": "Sales", "__proto__": {"admin": true}}', 'body.__proto__'],
      ['{"name": "Sales", "constructor": {"prototype": {"admin": true}}}', 'body.constructor.prototype'],
    ] as const) {
      const body = await expectProblem(await send('POST', '/departments', raw), 400, 'invalid_json');
      expect(body.errors?.map((e) => e.field)).toEqual([field]);
    }
  });

  it('an unknown field → 400 naming it', async () => {
    const error = await problemOf(
      admin.request('POST', '/departments', { body: { name: 'Sales', colour: 'red' } }),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.fields).toEqual(['body.colour']);
  });

  it('a wrong type → 400 naming the field, never coerced', async () => {
    const error = await problemOf(admin.request('POST', '/departments', { body: { name: 42 } }));
    expect(error.status).toBe(400);
    expect(error.fields).toEqual(['body.name']);
    const nested = await problemOf(
      admin.request('POST', '/roles', {
        body: {
          name: 'Typed',
          permissions: {
            manageLines: 'yes',
            manageUsers: false,
            manageQuickAnswers: false,
            dialogHistory: 'everything',
            statistics: 'own',
            supervise: false,
            managePersonalData: false,
            manageIntegrations: false,
            crm: 'none',
          },
        },
      }),
    );
    expect(nested.fields.sort()).toEqual(['body.permissions.dialogHistory', 'body.permissions.manageLines']);
    expect(await admin.roles.list()).not.toContainEqual(expect.objectContaining({ name: 'Typed' }));
  });

  it('a missing field, a bad e-mail, a bad id → 400 naming each', async () => {
    const missing = await problemOf(admin.request('POST', '/departments', { body: {} }));
    expect(missing.fields).toEqual(['body.name']);
    const user = await problemOf(
      admin.request('POST', '/users', { body: { email: 'not-an-email', name: 'X', password: 'short' } }),
    );
    expect(user.fields.sort()).toEqual(['body.email', 'body.password']);
    const id = await problemOf(admin.users.get('not-a-uuid'));
    expect(id.status).toBe(400);
    expect(id.fields).toEqual(['params.id']);
    const query = await problemOf(admin.request('GET', '/users', { query: { active: 'perhaps' } }));
    expect(query.fields).toEqual(['query.active']);
  });

  it('an oversized body → 413', async () => {
    const name = 'x'.repeat(BODY_LIMIT);
    await expectProblem(
      await send('POST', '/departments', JSON.stringify({ name })),
      413,
      'payload_too_large',
    );
    const error = await problemOf(admin.departments.create({ name }));
    expect(error.status).toBe(413);
  });

  it('a body of a type the API does not take → 415, or 400 naming the body', async () => {
    await expectProblem(
      await send('POST', '/departments', '<name>Sales</name>', 'application/xml'),
      415,
      'unsupported_media_type',
    );
    const text = await expectProblem(
      await send('POST', '/departments', 'Sales', 'text/plain'),
      400,
      'validation_failed',
    );
    expect(text.errors?.map((e) => e.field)).toEqual(['body']);
  });

  it('an unknown route → 404 problem+json, signed in or not', async () => {
    const anonymous = await fetch(`${server.url}/api/v1/no-such-thing?x=1`);
    const body = await expectProblem(anonymous, 404, 'route_not_found');
    expect(body).toMatchObject({ detail: 'No route GET /api/v1/no-such-thing' });
    await expectProblem(await fetch(`${server.url}/nowhere`, { method: 'DELETE' }), 404, 'route_not_found');
    const error = await problemOf(admin.request('GET', '/no-such-thing'));
    expect(error.code).toBe('route_not_found');
  });

  it('a NUL or an unpaired surrogate in any string → 400 naming the field, not a database error', async () => {
    const cases: [Response, string][] = [
      [await send('POST', '/departments', JSON.stringify({ name: 'Sales\u0000' })), 'body.name'],
      [await send('POST', '/departments', '{"name": "Sales \\ud800"}'), 'body.name'],
      [await send('POST', '/departments', JSON.stringify({ name: 'ok', 'x\u0000': 1 })), 'body.x\ufffd'],
      [
        await fetch(`${server.url}/api/v1/dialogs?search=a%00b`, {
          headers: admin.transport.authHeaders('GET'),
        }),
        'query.search',
      ],
      [
        await fetch(`${server.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': newAddress() },
          body: JSON.stringify({ email: 'admin@openlines.local\u0000', password: 'whatever-password' }),
        }),
        'body.email',
      ],
    ];
    for (const [response, field] of cases) {
      const body = await expectProblem(response, 400, 'validation_failed');
      expect(body.errors?.map((e) => e.field)).toEqual([field]);
    }
  });

  it('a number beyond what the database holds → 400 naming it, not "bigint out of range"', async () => {
    const response = await fetch(`${server.url}/api/v1/dialogs?offset=1e20`, {
      headers: admin.transport.authHeaders('GET'),
    });
    const body = await expectProblem(response, 400, 'validation_failed');
    expect(body.errors?.map((e) => e.field)).toEqual(['query.offset']);
  });

  it('an id the database could not look up, inside line settings → 400 naming it', async () => {
    const line = await admin.request<{ id: string }>('POST', '/lines', { body: { name: 'Ids' } });
    const response = await send(
      'PATCH',
      `/lines/${line.id}`,
      JSON.stringify({ settings: { queue: { members: [{ type: 'user', id: 'not-a-uuid' }] } } }),
    );
    const body = await expectProblem(response, 400, 'validation_failed');
    expect(body.errors?.map((e) => e.field)).toEqual(['body.settings.queue.members.0.id']);
  });

  it('headers over the HTTP limit → 431 problem+json, not a bare status line', async () => {
    const response = await fetch(`${server.url}/api/v1/me`, { headers: { 'x-padding': 'a'.repeat(20_000) } });
    await expectProblem(response, 431, 'headers_too_large');
  });

  it('a path that is not percent-encoded UTF-8 → 400 problem+json naming the path', async () => {
    for (const path of ['/api/v1/users/%ED%A0%80', '/widget/x%ED%A0%80y', '/api/v1/lines/%FF']) {
      const body = await expectProblem(await fetch(`${server.url}${path}`), 400, 'validation_failed');
      expect(body.errors?.map((e) => e.field)).toEqual(['path']);
    }
  });

  it('left the process serving', async () => {
    await expect(clientOf(server).health()).resolves.toEqual({ status: 'ok' });
    await expect(admin.departments.create({ name: 'Still here' })).resolves.toMatchObject({
      name: 'Still here',
    });
  });
});

describe('API documentation', () => {
  it('is an OpenAPI document listing the routes', async () => {
    const response = await fetch(`${server.url}/api/docs/json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toMatch(/^3\./);
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /readyz',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/logout',
        'GET /api/v1/me',
        'POST /api/v1/me/password',
        'PUT /api/v1/me/presence',
        'GET /api/v1/me/api-tokens',
        'POST /api/v1/me/api-tokens',
        'DELETE /api/v1/me/api-tokens/{id}',
        'GET /api/v1/users',
        'POST /api/v1/users',
        'GET /api/v1/users/{id}',
        'PATCH /api/v1/users/{id}',
        'GET /api/v1/users/{id}/absences',
        'POST /api/v1/users/{id}/absences',
        'DELETE /api/v1/users/{id}/absences/{absenceId}',
        'GET /api/v1/departments',
        'POST /api/v1/departments',
        'PATCH /api/v1/departments/{id}',
        'DELETE /api/v1/departments/{id}',
        'GET /api/v1/roles',
        'POST /api/v1/roles',
        'PATCH /api/v1/roles/{id}',
        'DELETE /api/v1/roles/{id}',
      ]),
    );
    expect(JSON.stringify(document.paths['/api/v1/departments'])).toContain('"name"');
  });

  it('has a browsable UI', async () => {
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toMatch(/<html/i);
  });
});

describe('login rate limit', () => {
  /** A client from an address of its own. */
  const fromNewAddress = (ip = newAddress()) => clientOf(server, { headers: { 'x-forwarded-for': ip } });

  it('answers the fourth attempt in a minute with 429 problem+json', async () => {
    const ip = newAddress();
    const client = fromNewAddress(ip);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const error = await problemOf(
        client.auth.login({ email: server.admin.email, password: 'wrong password' }),
      );
      expect(error.status).toBe(401);
    }
    // Even the right password is refused now.
    const error = await problemOf(client.auth.login(server.admin));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');

    const raw = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(server.admin),
    });
    await expectProblem(raw, 429, 'rate_limited');
  });

  it('counts per client address', async () => {
    const busy = fromNewAddress();
    for (let attempt = 1; attempt <= 3; attempt++) await busy.auth.login(server.admin);
    expect((await problemOf(busy.auth.login(server.admin))).status).toBe(429);
    await expect(fromNewAddress().auth.login(server.admin)).resolves.toMatchObject({
      user: { email: server.admin.email },
    });
  });
});
