import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local external CRM for tests (CRM-4): a real HTTP server speaking the generic REST CRM API that
 * crm-adapters/rest implements (docs/crm.md "The generic REST CRM"). It checks the bearer token
 * (401 otherwise), keeps contacts with identities, leads, deals and activities in memory, honours
 * `Idempotency-Key` (a repeated creating call answers what the first one did), and serves the
 * failures a test queues in `failures`: a 429 with Retry-After, a 5xx, or `down` (every request
 * answers 503 while it is set).
 */
export interface FakeIdentity {
  kind: string;
  value: string;
}
export interface FakePerson {
  id: string;
  name: string;
  email: string;
}
export interface FakeContact {
  id: string;
  name: string;
  identities: FakeIdentity[];
}
export interface FakeRecord {
  id: string;
  kind: 'lead' | 'deal';
  title: string;
  clientId: string;
  source: string;
  channelKind: string;
  responsible: FakePerson | null;
  open: boolean;
  activities: {
    id: string;
    dialogId: string;
    transcriptUrl: string;
    startedAt: string;
    operator: FakePerson | null;
  }[];
}
/**
 * A failure to serve: to the next request, or the next one whose path matches `path`; with
 * `afterDoing`, the request is carried out first and only its answer is lost (a timeout after the
 * CRM acted), which is what idempotency keys are for.
 */
export type FakeFailure = ({ status: 429; retryAfter: string } | { status: 500 | 502 | 503 }) & {
  path?: RegExp;
  afterDoing?: boolean;
};

export interface FakeCrm {
  url: string;
  token: string;
  contacts: FakeContact[];
  records: FakeRecord[];
  /** Every request, in order, with the status it got. */
  requests: { method: string; path: string; status: number; idempotencyKey: string | null }[];
  failures: FakeFailure[];
  down: boolean;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startFakeCrm(token: string): Promise<FakeCrm> {
  const crm: FakeCrm = {
    url: '',
    token,
    contacts: [],
    records: [],
    requests: [],
    failures: [],
    down: false,
    close: async () => {},
  };
  const idempotent = new Map<string, { status: number; body: unknown }>();

  function route(
    method: string,
    path: string,
    body: Record<string, unknown>,
  ): { status: number; body: unknown } {
    if (method === 'POST' && path === '/contacts/search') {
      const wanted = (body.identities as FakeIdentity[]) ?? [];
      // The first identity that matches wins (the channel user over a phone over an e-mail).
      for (const identity of wanted) {
        const contact = crm.contacts.find((c) =>
          c.identities.some((i) => i.kind === identity.kind && i.value === identity.value),
        );
        if (!contact) continue;
        const open = crm.records.filter((r) => r.clientId === contact.id && r.open);
        const record = open.find((r) => r.kind === 'deal') ?? open.at(-1) ?? null;
        return {
          status: 200,
          body: {
            contact: { id: contact.id, openRecord: record ? { kind: record.kind, id: record.id } : null },
          },
        };
      }
      return { status: 200, body: { contact: null } };
    }
    if (method === 'POST' && path === '/contacts') {
      if (typeof body.name !== 'string') return { status: 422, body: { error: 'name' } };
      const contact = {
        id: `c-${randomUUID()}`,
        name: body.name,
        identities: body.identities as FakeIdentity[],
      };
      crm.contacts.push(contact);
      return { status: 201, body: { id: contact.id } };
    }
    const create = /^\/(lead|deal)s$/.exec(path);
    if (method === 'POST' && create) {
      if (!crm.contacts.some((c) => c.id === body.clientId))
        return { status: 422, body: { error: 'clientId' } };
      const record: FakeRecord = {
        id: `${create[1]}-${randomUUID()}`,
        kind: create[1] as 'lead' | 'deal',
        title: String(body.title),
        clientId: String(body.clientId),
        source: String(body.source),
        channelKind: String(body.channelKind),
        responsible: (body.responsible as FakePerson | null) ?? null,
        open: true,
        activities: [],
      };
      crm.records.push(record);
      return { status: 201, body: { id: record.id } };
    }
    const one = /^\/(lead|deal)s\/([^/]+)(\/activities)?$/.exec(path);
    const record = one
      ? crm.records.find((r) => r.kind === one[1] && r.id === decodeURIComponent(one[2]!))
      : undefined;
    if (one && !record) return { status: 404, body: { error: 'record' } };
    if (record && method === 'POST' && one?.[3]) {
      record.activities.push({
        id: String(body.id),
        dialogId: String(body.dialogId),
        transcriptUrl: String(body.transcriptUrl),
        startedAt: String(body.startedAt),
        operator: (body.operator as FakePerson | null) ?? null,
      });
      return { status: 201, body: {} };
    }
    if (record && method === 'PATCH' && !one?.[3]) {
      record.responsible = body.responsible as FakePerson;
      return { status: 200, body: {} };
    }
    return { status: 404, body: { error: 'route' } };
  }

  const server: Server = createServer(async (request, response) => {
    const text = await readBody(request);
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0]!.replace(/^\/api/, '');
    const key = (request.headers['idempotency-key'] as string | undefined) ?? null;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      crm.requests.push({ method, path, status, idempotencyKey: key });
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (request.headers.authorization !== `Bearer ${crm.token}`) return answer(401, { error: 'token' });
    if (crm.down) return answer(503, { error: 'down' });
    const at = crm.failures.findIndex((f) => !f.path || f.path.test(path));
    const failure = at >= 0 ? crm.failures.splice(at, 1)[0] : undefined;
    if (failure?.status === 429)
      return answer(429, { error: 'slow down' }, { 'retry-after': failure.retryAfter });
    if (failure && !failure.afterDoing) return answer(failure.status, { error: 'broken' });
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return answer(400, { error: 'json' });
    }
    const seen = key ? idempotent.get(`${method} ${path} ${key}`) : undefined;
    if (seen) return answer(seen.status, seen.body);
    const result = route(method, path, body);
    if (key && result.status < 300) idempotent.set(`${method} ${path} ${key}`, result);
    if (failure) return answer(failure.status, { error: 'lost answer' });
    return answer(result.status, result.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  crm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  crm.close = () => new Promise((resolve) => server.close(() => resolve()));
  return crm;
}
