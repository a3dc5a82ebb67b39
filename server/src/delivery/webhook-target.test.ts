import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock';
import { SignedPostNetworkError, signedPost } from './signed-post';
import {
  checkWebhookTarget,
  guardedDispatcher,
  literalTargetProblem,
  WebhookTargetError,
} from './webhook-target';

// The SSRF guard at both of its checks: when a URL is saved, and on the connection itself (a name
// that resolves to a private address is refused there, whatever it resolved to when it was saved).

describe('webhook targets', () => {
  let server: http.Server;
  let port = 0;
  let requests = 0;

  beforeAll(async () => {
    server = http.createServer((_request, response) => {
      requests++;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a name that resolves to loopback when saved, unless private targets are allowed', async () => {
    await expect(checkWebhookTarget(`http://localhost:${port}/`, false)).rejects.toBeInstanceOf(
      WebhookTargetError,
    );
    await expect(checkWebhookTarget(`http://localhost:${port}/`, true)).resolves.toBeUndefined();
    expect(literalTargetProblem(`http://127.0.0.1:${port}/`, false)).toContain('private address');
    expect(literalTargetProblem(`http://127.0.0.1:${port}/`, true)).toBeNull();
  });

  it('refuses the connection to a private address, and lets it through when allowed', async () => {
    const post = { url: `http://localhost:${port}/hook`, secret: 'whs_x', body: '{}', deliveryId: '1' };
    const dispatcher = guardedDispatcher(false)!;
    const refused = await signedPost(post, { clock: systemClock, timeoutMs: 5000, dispatcher }).catch(
      (e) => e,
    );
    expect(refused).toBeInstanceOf(SignedPostNetworkError);
    // What the webhook worker reads to log the reason (workers/webhooks.ts).
    expect(refused.cause?.cause).toMatchObject({ code: 'EWEBHOOKTARGET' });
    expect(refused.cause.cause.message).toContain('resolves to a private address');
    expect(requests).toBe(0);
    await dispatcher.close();
    expect(guardedDispatcher(true)).toBeUndefined();
    const answer = await signedPost(post, { clock: systemClock, timeoutMs: 5000 });
    expect(answer.status).toBe(200);
    expect(requests).toBe(1);
  });
});
