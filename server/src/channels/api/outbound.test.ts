import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { verifyWebhookSignature } from '../../delivery/signature';
import { type ChannelRuntime, ConnectorError } from '../connector';
import type { OutboundMessage } from '../types';
import { apiConnector } from './connector';
import { parseApiInbound } from './inbound';
import { errorForStatus, sendToWebhook, webhookBody } from './outbound';
import type { ApiChannelSettings } from './settings';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** A local webhook receiver: each test says how it answers. */
let handler: Handler = (_request, _body, response) => response.end();
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clock = new FakeClock('2026-01-05T09:00:00Z');
const io = { clock, timeoutMs: 2_000 };
const outbound: OutboundMessage = {
  messageId: '6d0c1f44-3a8f-4d8e-9a57-0b6e1f1c2a11',
  dialogId: '0b8c9d5e-1f2a-4b3c-8d4e-5f6a7b8c9d0e',
  recipientId: 'visitor-42',
  authorKind: 'operator',
  authorName: 'Anna',
  authorAvatarUrl: null,
  text: 'Hello!',
  attachments: [],
  createdAt: '2026-01-05T09:00:00.000Z',
};
const channel = (path = '/hook'): ChannelRuntime<ApiChannelSettings> => ({
  id: 'c5f1f7c4-8f4b-4c1e-9d0a-9b3e2f1a0c55',
  accountId: 'a',
  lineId: 'l',
  kind: 'api',
  name: 'API',
  settings: { webhookUrl: `${baseUrl}${path}` },
  secrets: { webhookSecret: 'olw_secret' },
});

async function sendError(answer: Handler, options = io): Promise<ConnectorError> {
  handler = answer;
  try {
    await sendToWebhook(channel(), outbound, options);
  } catch (error) {
    if (error instanceof ConnectorError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('API channel: delivery to the webhook', () => {
  it('POSTs the message as JSON, signed over the raw body with the current timestamp', async () => {
    let seen: { request: IncomingMessage; body: string } | null = null;
    handler = (request, body, response) => {
      seen = { request, body };
      response.end();
    };
    await expect(sendToWebhook(channel(), outbound, io)).resolves.toEqual({});
    const { request, body } = seen!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-openlines-delivery']).toBe(outbound.messageId);
    const timestamp = request.headers['x-openlines-timestamp'] as string;
    expect(Number(timestamp)).toBe(Math.floor(clock.now().getTime() / 1000));
    const signature = request.headers['x-openlines-signature'] as string;
    expect(verifyWebhookSignature('olw_secret', timestamp, body, signature, clock.now())).toBe(true);
    expect(verifyWebhookSignature('olw_wrong', timestamp, body, signature, clock.now())).toBe(false);
    expect(JSON.parse(body)).toEqual(webhookBody(channel().id, outbound));
    expect(JSON.parse(body).message).toMatchObject({
      id: outbound.messageId,
      user: { id: 'visitor-42' },
      author: { kind: 'operator', name: 'Anna', avatarUrl: null },
      text: 'Hello!',
    });
  });

  it("takes the receiver's externalId from a JSON answer", async () => {
    handler = (_request, _body, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ externalId: 'ext-1' }));
    };
    await expect(sendToWebhook(channel(), outbound, io)).resolves.toEqual({ externalId: 'ext-1' });
    handler = (_request, _body, response) => response.end('ok');
    await expect(sendToWebhook(channel(), outbound, io)).resolves.toEqual({});
  });

  it.each([
    { status: 500, code: 'temporary' },
    { status: 502, code: 'temporary' },
    { status: 503, code: 'temporary' },
    { status: 429, code: 'rate_limited' },
    { status: 401, code: 'auth_revoked' },
    { status: 403, code: 'auth_revoked' },
    { status: 404, code: 'not_found' },
    { status: 410, code: 'not_found' },
    { status: 400, code: 'invalid_payload' },
    { status: 413, code: 'invalid_payload' },
    { status: 422, code: 'invalid_payload' },
    { status: 301, code: 'not_found' },
    { status: 308, code: 'not_found' },
  ])('HTTP $status → $code', async ({ status, code }) => {
    const error = await sendError((_request, _body, response) => {
      if (status >= 300 && status < 400) response.setHeader('location', `${baseUrl}/elsewhere`);
      response.statusCode = status;
      response.end('nope');
    });
    expect(error.code).toBe(code);
    expect(error.message).toContain(String(status));
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    const seconds = await sendError((_request, _body, response) => {
      response.writeHead(429, { 'retry-after': '120' }).end();
    });
    expect(seconds).toMatchObject({ code: 'rate_limited', retryAfterMs: 120_000 });
    const date = new Date(clock.now().getTime() + 90_000).toUTCString();
    const dated = await sendError((_request, _body, response) => {
      response.writeHead(429, { 'retry-after': date }).end();
    });
    expect(dated).toMatchObject({ code: 'rate_limited', retryAfterMs: 90_000 });
    const unavailable = await sendError((_request, _body, response) => {
      response.writeHead(503, { 'retry-after': '30' }).end();
    });
    expect(unavailable).toMatchObject({ code: 'temporary', retryAfterMs: 30_000 });
    const none = await sendError((_request, _body, response) => response.writeHead(429).end());
    expect(none.code).toBe('rate_limited');
    expect(none.retryAfterMs).toBeUndefined();
  });

  it('maps a receiver that never answers to temporary, after the timeout', async () => {
    const error = await sendError(
      () => {
        // never answers
      },
      { clock, timeoutMs: 150 },
    );
    expect(error.code).toBe('temporary');
    expect(error.message).toMatch(/did not answer within 150 ms/);
  });

  it('maps a refused connection to temporary', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const target = { ...channel(), settings: { webhookUrl: `http://127.0.0.1:${port}/hook` } };
    const error = await sendToWebhook(target, outbound, io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('temporary');
    expect((error as ConnectorError).message).toMatch(/cannot be reached/);
  });
});

describe('API channel: HTTP result mapping (pure)', () => {
  const headers = (values: Record<string, string> = {}) => ({ get: (name: string) => values[name] ?? null });
  const now = new Date('2026-01-05T09:00:00Z');

  it('treats 2xx as success', () => {
    expect(errorForStatus(200, headers(), now)).toBeNull();
    expect(errorForStatus(204, headers(), now)).toBeNull();
  });
});

describe('API channel: connector', () => {
  it('creates both secrets once and keeps them when only settings change', async () => {
    const created = await apiConnector.prepare(
      { settings: { webhookUrl: 'https://example.test/hook' }, current: null, rotate: true },
      io,
    );
    expect(created.inboundToken).toMatch(/^olc_[A-Za-z0-9_-]{43}$/);
    expect(created.secrets.webhookSecret).toMatch(/^olw_[A-Za-z0-9_-]{43}$/);
    expect(created.reveal).toEqual({
      inboundToken: created.inboundToken,
      webhookSecret: created.secrets.webhookSecret,
    });
    const current = {
      id: 'c',
      settings: { webhookUrl: 'https://example.test/hook' },
      secrets: created.secrets,
    };
    const changed = await apiConnector.prepare(
      { settings: { webhookUrl: 'https://example.test/other' }, current, rotate: false },
      io,
    );
    expect(changed).toEqual({
      settings: { webhookUrl: 'https://example.test/other' },
      secrets: created.secrets,
      reveal: {},
    });
    const rotated = await apiConnector.prepare({ settings: current.settings, current, rotate: true }, io);
    expect(rotated.inboundToken).not.toBe(created.inboundToken);
    expect(rotated.secrets.webhookSecret).not.toBe(created.secrets.webhookSecret);
  });

  it('accepts only http(s) webhook URLs without credentials', () => {
    const check = (webhookUrl: string) => apiConnector.checkSettings?.({ webhookUrl }) ?? [];
    expect(check('https://example.test/hook')).toEqual([]);
    expect(check('http://127.0.0.1:8080/x?y=1')).toEqual([]);
    expect(check('ftp://example.test/')).toEqual([
      { field: 'webhookUrl', message: 'must be an http or https URL' },
    ]);
    expect(check('https://user:pw@example.test/')[0]?.field).toBe('webhookUrl');
    expect(check('not a url')[0]?.message).toBe('must be a valid URL');
  });

  it('maps the inbound body to the internal message', () => {
    expect(parseApiInbound({ externalId: 'm1', user: { id: 'u1', name: 'Ivan' }, text: 'Hi' })).toEqual({
      externalId: 'm1',
      user: { id: 'u1', name: 'Ivan' },
      text: 'Hi',
    });
    // Bearer-authenticated, not a webhook: the generic webhook path has nothing to call.
    expect(apiConnector.verifyInbound).toBeUndefined();
  });
});
