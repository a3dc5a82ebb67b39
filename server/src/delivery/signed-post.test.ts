import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/clock';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './signature';
import { SignedPostNetworkError, signedPost } from './signed-post';

type Handler = (request: IncomingMessage, body: Buffer, response: ServerResponse) => void;

/** A real local receiver that checks signatures the way docs tell integrators to. */
let handler: Handler = (_request, _body, response) => response.end();
let received = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received++;
      handler(request, Buffer.concat(chunks), response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clock = new FakeClock('2026-01-05T09:00:00Z');
const io = { clock, timeoutMs: 1_000 };
const secret = 'whsec_test';
const body = JSON.stringify({ type: 'message.created', text: 'Привет' });

describe('signedPost', () => {
  it('signs the raw body with a timestamp; a receiver verifies it and a wrong secret does not', async () => {
    let verified: boolean | null = null;
    let wrongSecret: boolean | null = null;
    handler = (request, raw, response) => {
      const timestamp = request.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
      const signature = request.headers[SIGNATURE_HEADER.toLowerCase()] as string;
      verified = verifyWebhookSignature(secret, timestamp, raw, signature, clock.now());
      wrongSecret = verifyWebhookSignature('other', timestamp, raw, signature, clock.now());
      response.statusCode = verified ? 200 : 401;
      response.end('ok');
    };
    const answer = await signedPost(
      { url, secret, body, deliveryId: 'd-1', headers: { 'x-extra': '1' } },
      io,
    );
    expect(answer).toMatchObject({ status: 200, text: 'ok' });
    expect(verified).toBe(true);
    expect(wrongSecret).toBe(false);
  });

  it('returns a 429 with its Retry-After for the caller to honour', async () => {
    handler = (_request, _raw, response) => {
      response.writeHead(429, { 'retry-after': '120' });
      response.end('slow down');
    };
    const answer = await signedPost({ url, secret, body, deliveryId: 'd-2' }, io);
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('120');
    expect(answer.text).toBe('');
  });

  it('does not follow a redirect with a signed body', async () => {
    const before = received;
    handler = (_request, _raw, response) => {
      response.writeHead(307, { location: `${url}/elsewhere` });
      response.end();
    };
    const answer = await signedPost({ url, secret, body, deliveryId: 'd-3' }, io);
    expect(answer.status).toBe(307);
    expect(received - before).toBe(1);
  });

  it('gives up on a receiver that does not answer in time, as a timeout', async () => {
    handler = () => {
      // never answers
    };
    const error = await signedPost({ url, secret, body, deliveryId: 'd-4' }, { clock, timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SignedPostNetworkError);
    expect((error as SignedPostNetworkError).timedOut).toBe(true);
  });

  it('reports a refused connection as unreachable, not a timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await signedPost(
      { url: `http://127.0.0.1:${port}/`, secret, body, deliveryId: 'd-5' },
      io,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignedPostNetworkError);
    expect((error as SignedPostNetworkError).timedOut).toBe(false);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});
