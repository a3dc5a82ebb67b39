import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundReply, InboundRequest } from '../connector';

/**
 * What Meta's webhooks (WhatsApp Cloud API, Messenger, Instagram) share:
 *   - the subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`,
 *     answered with the challenge as text when the verify token is the one the administrator chose;
 *   - `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>` on every delivery. Meta
 *     computes it over the payload with non-ASCII characters escaped as lowercase `\uXXXX` (what
 *     whatsapp-api-js checks): the bytes it sends are already escaped, so the raw body as received
 *     verifies as is; a body whose non-ASCII characters arrive unescaped (a proxy re-encoded it) is
 *     checked in its escaped form too.
 */

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** Non-ASCII characters as lowercase `\uXXXX` escapes (UTF-16 units), as Meta signs them. */
export function escapeUnicode(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The header value Meta sends for `body`. */
export function signMetaBody(appSecret: string, body: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(escapeUnicode(body), 'utf8').digest('hex')}`;
}

function queryValue(query: InboundRequest['query'], key: string): string | undefined {
  const value = query[key];
  return typeof value === 'string' ? value : undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A POST delivery signed with the app secret, or a GET handshake carrying the verify token. */
export function verifyMetaRequest(
  request: InboundRequest,
  secrets: { appSecret?: string; verifyToken?: string },
): boolean {
  if (request.method === 'GET') {
    const token = queryValue(request.query, 'hub.verify_token');
    return Boolean(secrets.verifyToken && token && sameSecret(token, secrets.verifyToken));
  }
  const header = request.headers[SIGNATURE_HEADER];
  if (!secrets.appSecret || typeof header !== 'string' || !/^sha256=[0-9a-f]{64}$/i.test(header))
    return false;
  return sameSecret(signMetaBody(secrets.appSecret, request.rawBody).toLowerCase(), header.toLowerCase());
}

/** The answer to a verified GET `hub.mode=subscribe`: the challenge, as text. */
export function answerMetaHandshake(request: InboundRequest): InboundReply | null {
  if (request.method !== 'GET') return null;
  const challenge = queryValue(request.query, 'hub.challenge');
  if (queryValue(request.query, 'hub.mode') !== 'subscribe' || challenge === undefined) {
    return {
      status: 400,
      contentType: 'text/plain',
      body: 'hub.mode=subscribe and hub.challenge are required',
    };
  }
  return { status: 200, contentType: 'text/plain', body: challenge };
}
