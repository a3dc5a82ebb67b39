import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import type { OutboundMessage } from '../types';
import type { ApiChannelSettings } from './settings';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature';

/** The JSON an API channel's webhook receives for each operator (or bot/system) message. */
export interface ApiWebhookBody {
  type: 'message';
  channelId: string;
  message: {
    id: string;
    dialogId: string;
    /** The recipient: the `user.id` the sender gave us with the client's messages. */
    user: { id: string };
    author: { kind: OutboundMessage['authorKind']; name: string | null; avatarUrl: string | null };
    text: string | null;
    attachments: OutboundMessage['attachments'];
    createdAt: string;
  };
}

export function webhookBody(channelId: string, outbound: OutboundMessage): ApiWebhookBody {
  return {
    type: 'message',
    channelId,
    message: {
      id: outbound.messageId,
      dialogId: outbound.dialogId,
      user: { id: outbound.recipientId },
      author: { kind: outbound.authorKind, name: outbound.authorName, avatarUrl: outbound.authorAvatarUrl },
      text: outbound.text,
      attachments: outbound.attachments,
      createdAt: outbound.createdAt,
    },
  };
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * The webhook's HTTP answer → a neutral ConnectorError, or null for success (2xx).
 *   5xx → temporary (Retry-After honoured when given) · 429 → rate_limited with Retry-After ·
 *   401/403 → auth_revoked · 404/410 → not_found · 3xx → not_found (the URL moved; set the final
 *   one) · other 4xx → invalid_payload · anything else (1xx) → temporary.
 */
export function errorForStatus(
  status: number,
  headers: { get(name: string): string | null },
  now: Date,
): ConnectorError | null {
  if (status >= 200 && status < 300) return null;
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), now);
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  const what = `The webhook answered HTTP ${status}`;
  if (status === 429) return new ConnectorError('rate_limited', `${what} (too many requests)`, retry);
  if (status >= 500) return new ConnectorError('temporary', what, retry);
  if (status === 401 || status === 403)
    return new ConnectorError('auth_revoked', `${what}: it refuses our requests (check the webhook secret)`);
  if (status === 404 || status === 410) return new ConnectorError('not_found', `${what}: no such endpoint`);
  if (status >= 300 && status < 400)
    return new ConnectorError('not_found', `${what}: the webhook URL redirects; set the final URL`);
  if (status >= 400) return new ConnectorError('invalid_payload', `${what}: it refuses the message`);
  return new ConnectorError('temporary', what);
}

const MAX_RESPONSE_BYTES = 64 * 1024;
export const USER_AGENT = 'Openlines-Webhook/1';

/** Reads at most `limit` bytes of a response body; the rest is discarded. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** The receiver may answer `{ "externalId": "…" }` to tell us its id for the message. */
function externalIdFrom(text: string): string | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'externalId' in parsed) {
      const id = (parsed as { externalId: unknown }).externalId;
      if (typeof id === 'string' && id.length > 0 && id.length <= 200) return id;
    }
  } catch {
    // Not JSON: a plain "ok" is a fine answer too.
  }
  return undefined;
}

function networkError(error: unknown, timeoutMs: number): ConnectorError {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ConnectorError('temporary', `The webhook did not answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new ConnectorError('temporary', `The webhook cannot be reached (${detail})`, { cause: error });
}

/** POSTs one message to the channel's webhook, signed; throws ConnectorError on failure. */
export async function sendToWebhook(
  channel: ChannelRuntime<ApiChannelSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const secret = channel.secrets.webhookSecret;
  if (!secret)
    throw new ConnectorError('auth_revoked', 'The channel has no webhook secret; rotate its secrets');
  const body = JSON.stringify(webhookBody(channel.id, outbound));
  const timestamp = Math.floor(io.clock.now().getTime() / 1000);
  const signal = AbortSignal.timeout(io.timeoutMs);
  let response: Response;
  let text = '';
  try {
    response = await fetch(channel.settings.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
        [DELIVERY_HEADER]: outbound.messageId,
      },
      body,
      // A signed POST must not be replayed to wherever a redirect points.
      redirect: 'manual',
      signal,
    });
    const error = errorForStatus(response.status, response.headers, io.clock.now());
    if (error) {
      await response.body?.cancel().catch(() => {});
      throw error;
    }
    text = await readLimited(response, MAX_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw networkError(error, io.timeoutMs);
  }
  const externalId = externalIdFrom(text);
  return externalId ? { externalId } : {};
}
