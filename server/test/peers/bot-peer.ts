import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotApiClient } from '@openlines/sdk';
import { verifyWebhookSignature } from '../../src/delivery/signature';

/**
 * An external chatbot for tests: a real HTTP server that receives Openlines' bot events, checks
 * their signature the way docs/bots.md tells bot authors to (raw body, HMAC-SHA256, timestamp
 * within 5 minutes of its clock), and acts over the bot API with its token. Its behaviour per
 * event is the test's `react` function; it can also answer with a chosen status (a failing bot).
 */
export interface ReceivedEvent {
  type: string;
  id: string;
  session: { id: string; dialogId: string; lineId: string };
  message?: { id: string; text: string | null } | null;
  reason?: string;
  status?: string;
  client?: { id: string; name: string };
}

export interface BotPeer {
  url: string;
  events: ReceivedEvent[];
  /** Requests whose signature did not verify (each answered 401). */
  rejected: number;
  /** Every delivery id seen, retries included. */
  deliveries: string[];
  status: number;
  api: BotApiClient | null;
  react: (event: ReceivedEvent, api: BotApiClient) => Promise<void>;
  /** The bot's errors when acting (a 409 after hand-over, …). */
  errors: unknown[];
  secret: string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startBotPeer(now: () => Date): Promise<BotPeer> {
  const peer: BotPeer = {
    url: '',
    events: [],
    rejected: 0,
    deliveries: [],
    status: 200,
    api: null,
    react: async () => {},
    errors: [],
    secret: '',
    close: async () => {},
  };
  const server: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const valid = verifyWebhookSignature(
      peer.secret,
      request.headers['x-openlines-timestamp'] as string | undefined,
      raw,
      request.headers['x-openlines-signature'] as string | undefined,
      now(),
    );
    if (!valid) {
      peer.rejected += 1;
      response.writeHead(401).end();
      return;
    }
    peer.deliveries.push(String(request.headers['x-openlines-delivery']));
    if (peer.status !== 200) {
      response.writeHead(peer.status).end('not now');
      return;
    }
    const event = JSON.parse(raw.toString('utf8')) as ReceivedEvent;
    // At least once: a retried delivery (same id) is acknowledged and not acted on twice.
    if (!peer.events.some((seen) => seen.id === event.id)) {
      peer.events.push(event);
      if (peer.api) await peer.react(event, peer.api).catch((error) => peer.errors.push(error));
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  peer.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections of the server's fetch would hold close() for seconds.
      server.closeAllConnections();
    });
  return peer;
}
