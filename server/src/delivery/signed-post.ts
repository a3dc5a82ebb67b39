import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature';

/**
 * The one signed outbound POST (ARCHITECTURE: "Outbound webhooks signed with HMAC-SHA256 over the
 * raw body, with a timestamp to stop replays"): the API channel's webhook uses it, and so will
 * event webhooks (PL-1) and bot callbacks. It sends, it does not decide: the caller classifies the
 * answer (retry, fail) from the status and Retry-After it returns.
 *
 * A signed POST never follows a redirect (it would be replayed to wherever the redirect points),
 * is aborted after `timeoutMs`, and reads at most 64 KiB of the answer.
 */
export const USER_AGENT = 'Openlines-Webhook/1';
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SignedPostIo {
  clock: Clock;
  timeoutMs: number;
  /** How connections are made (event webhooks: only to addresses the SSRF guard allows). */
  dispatcher?: Dispatcher;
}

export interface SignedPost {
  url: string;
  secret: string;
  /** The raw body, signed exactly as sent. */
  body: string;
  /** Defaults to application/json (a Bitrix24-style event is form-encoded). */
  contentType?: string;
  /** X-Openlines-Delivery: the same delivery retried carries the same value (receiver dedup). */
  deliveryId: string;
  /** Extra headers (e.g. an event type); they are not signed. */
  headers?: Record<string, string>;
}

export interface SignedPostAnswer {
  status: number;
  headers: { get(name: string): string | null };
  /** The body of a 2xx answer (up to 64 KiB); empty otherwise. */
  text: string;
}

/** The request never got an HTTP answer: timeout, refused, DNS, reset. */
export class SignedPostNetworkError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignedPostNetworkError';
  }
}

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

function networkError(error: unknown, timeoutMs: number): SignedPostNetworkError {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return new SignedPostNetworkError(`The webhook did not answer within ${timeoutMs} ms`, true, {
      cause: error,
    });
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new SignedPostNetworkError(`The webhook cannot be reached (${detail})`, false, { cause: error });
}

/** POSTs `body` signed with `secret`; resolves with any HTTP answer, throws SignedPostNetworkError. */
export async function signedPost(post: SignedPost, io: SignedPostIo): Promise<SignedPostAnswer> {
  const timestamp = Math.floor(io.clock.now().getTime() / 1000);
  const signal = AbortSignal.timeout(io.timeoutMs);
  try {
    const response = await fetch(post.url, {
      method: 'POST',
      headers: {
        ...post.headers,
        'content-type': post.contentType ?? 'application/json',
        'user-agent': USER_AGENT,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(post.secret, timestamp, post.body),
        [DELIVERY_HEADER]: post.deliveryId,
      },
      body: post.body,
      redirect: 'manual',
      signal,
      ...(io.dispatcher ? { dispatcher: io.dispatcher } : {}),
    } as RequestInit);
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel().catch(() => {});
      return { status: response.status, headers: response.headers, text: '' };
    }
    const text = await readLimited(response, MAX_RESPONSE_BYTES);
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    throw networkError(error, io.timeoutMs);
  }
}
