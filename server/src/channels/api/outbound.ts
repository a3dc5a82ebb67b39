import { parseRetryAfter } from '../../core/backoff';
import { type SignedPostAnswer, signedPost } from '../../delivery/signed-post';
import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import { withNumberedOptions } from '../text';
import type { OutboundMessage } from '../types';
import type { ApiChannelSettings } from './settings';

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
      // The API channel has no buttons: a bot's options (and the rating's 1/0) are numbered lines.
      text: withNumberedOptions(outbound.text, outbound.quickReplies),
      attachments: outbound.attachments,
      createdAt: outbound.createdAt,
    },
  };
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
  let answer: SignedPostAnswer;
  try {
    answer = await signedPost(
      { url: channel.settings.webhookUrl, secret, body, deliveryId: outbound.messageId },
      io,
    );
  } catch (error) {
    throw new ConnectorError('temporary', (error as Error).message, { cause: error });
  }
  const error = errorForStatus(answer.status, answer.headers, io.clock.now());
  if (error) throw error;
  const externalId = externalIdFrom(answer.text);
  return externalId ? { externalId } : {};
}
