import type { Me } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { OpenlinesClient } from './client';
import { OpenlinesError } from './errors';
import type { FetchFunction } from './transport';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records requests and answers from a script. */
function fakeFetch(answer: (call: Call) => Response) {
  const calls: Call[] = [];
  const fetch: FetchFunction = async (url, init = {}) => {
    const call: Call = {
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return answer(call);
  };
  return { fetch, calls };
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), {
    status: 200,
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });

const me = {
  user: { id: 'u1' },
  account: { id: 'a1' },
  permissions: {},
  csrfToken: 'csrf-1',
} as unknown as Me;

describe('OpenlinesClient over HTTP', () => {
  it('keeps the session cookie and the CSRF token outside browsers', async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.endsWith('/auth/login')) {
        return json(me, { headers: { 'set-cookie': 'ol_session=s3cret; Path=/; HttpOnly' } });
      }
      if (call.url.endsWith('/auth/logout')) {
        return new Response(null, {
          status: 204,
          headers: { 'set-cookie': 'ol_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT' },
        });
      }
      if (call.method === 'GET') return json([]);
      return json({ id: 'd1', name: 'Sales', parentId: null, memberIds: [] }, { status: 201 });
    });
    const client = new OpenlinesClient({ baseUrl: 'http://ol.test/', fetch });
    await client.auth.login({ email: 'a@b.c', password: 'pw' });
    expect(client.sessionCookie).toBe('s3cret');
    await client.departments.list();
    await client.departments.create({ name: 'Sales' });
    expect(calls[0]).toMatchObject({
      url: 'http://ol.test/api/v1/auth/login',
      method: 'POST',
      body: { email: 'a@b.c', password: 'pw' },
    });
    expect(calls[0]!.headers.cookie).toBeUndefined();
    expect(calls[1]!.headers).toMatchObject({ cookie: 'ol_session=s3cret' });
    expect(calls[1]!.headers['x-csrf-token']).toBeUndefined();
    expect(calls[2]!.headers).toMatchObject({
      cookie: 'ol_session=s3cret',
      'x-csrf-token': 'csrf-1',
      'content-type': 'application/json',
    });
    await client.auth.logout();
    expect(client.sessionCookie).toBeNull();
    expect(client.transport.authHeaders('POST')).toEqual({});
  });

  it('authenticates with a bearer token and no cookie or CSRF token', async () => {
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 204 }));
    const client = new OpenlinesClient({
      baseUrl: 'http://ol.test',
      token: 'olt_x',
      fetch,
      headers: { 'user-agent': 'bot' },
    });
    await expect(client.roles.delete('r/1')).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({
      url: 'http://ol.test/api/v1/roles/r%2F1',
      method: 'DELETE',
      headers: { authorization: 'Bearer olt_x', 'user-agent': 'bot' },
    });
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
  });

  it('encodes query filters and leaves out the unset ones', async () => {
    const { fetch, calls } = fakeFetch(() => json([]));
    const client = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch });
    await client.users.list({ active: false, search: 'a&b' });
    expect(calls[0]!.url).toBe('http://ol.test/api/v1/users?active=false&search=a%26b');
    await client.users.list();
    expect(calls[1]!.url).toBe('http://ol.test/api/v1/users');
    await client.health();
    expect(calls[2]!.url).toBe('http://ol.test/healthz');
  });

  it('throws OpenlinesError with the problem, its code and the invalid fields', async () => {
    const problem = {
      type: 'https://openlines.dev/problems/validation-failed',
      title: 'The request is not valid',
      status: 400,
      code: 'validation_failed',
      detail: 'body.name is required',
      errors: [{ field: 'body.name', message: 'is required' }],
    };
    const { fetch } = fakeFetch(() =>
      json(problem, { status: 400, headers: { 'content-type': 'application/problem+json' } }),
    );
    const client = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch });
    const error = await client.departments.create({ name: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenlinesError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', message: 'body.name is required' });
    expect((error as OpenlinesError).fields).toEqual(['body.name']);
    expect((error as OpenlinesError).problem).toEqual(problem);
  });

  it('turns a failure without problem+json into an OpenlinesError too', async () => {
    const { fetch } = fakeFetch(
      () => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const client = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch });
    const error = (await client.auth.me().catch((e: unknown) => e)) as OpenlinesError;
    expect(error).toBeInstanceOf(OpenlinesError);
    expect(error).toMatchObject({ status: 502, code: 'internal', errors: [] });
    const limited = fakeFetch(() => new Response('slow down', { status: 429 }));
    const other = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch: limited.fetch });
    expect(await other.auth.me().catch((e: OpenlinesError) => e.code)).toBe('rate_limited');
  });

  it('takes the CSRF token from /me (a reloaded page)', async () => {
    const { fetch, calls } = fakeFetch((call) => (call.method === 'GET' ? json(me) : json({})));
    const client = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch });
    await client.auth.me();
    await client.auth.setPresence('away');
    expect(calls[1]).toMatchObject({ headers: { 'x-csrf-token': 'csrf-1' }, body: { presence: 'away' } });
  });
});
