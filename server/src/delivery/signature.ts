import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures of the API channel (ARCHITECTURE: "Outbound webhooks signed with HMAC-SHA256
 * over the raw body, with a timestamp to stop replays").
 *
 * Every delivery carries
 *   X-Openlines-Timestamp: <unix seconds>
 *   X-Openlines-Signature: v1=<hex HMAC-SHA256(webhookSecret, "<timestamp>.<raw body>")>
 *
 * A receiver verifies it like this:
 *   1. take the raw request body bytes, before any JSON parsing or re-serialisation;
 *   2. compute HMAC-SHA256 with the channel's webhook secret (`olw_…`, shown once when the channel
 *      is created or its secrets are rotated) over `${timestamp}.${rawBody}`, hex-encoded;
 *   3. compare it in constant time with each `v1=` entry of the signature header (a list separated
 *      by commas, so a future scheme or a second key can be added);
 *   4. reject the request when the timestamp is more than 5 minutes away from its own clock
 *      (a replayed capture), and answer 401 when the signature does not match.
 * `verifyWebhookSignature` below does exactly this and can be copied into a receiver.
 */
export const TIMESTAMP_HEADER = 'X-Openlines-Timestamp';
export const SIGNATURE_HEADER = 'X-Openlines-Signature';
/** The message id: the same delivery retried carries the same value, for receiver-side dedup. */
export const DELIVERY_HEADER = 'X-Openlines-Delivery';
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;
const SCHEME = 'v1';

type Body = string | Uint8Array;

function hmacHex(secret: string, timestamp: string, body: Body): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return mac.digest('hex');
}

/** The X-Openlines-Signature value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number | string, body: Body): string {
  return `${SCHEME}=${hmacHex(secret, String(timestamp), body)}`;
}

/**
 * True when `signature` (the X-Openlines-Signature header) is a valid signature of `body` at
 * `timestamp` (the X-Openlines-Timestamp header) and the timestamp is within 5 minutes of `now`.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: Body,
  signature: string | null | undefined,
  now: Date | number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (timestamp === null || timestamp === undefined || !signature) return false;
  const text = String(timestamp).trim();
  if (!/^\d{1,12}$/.test(text)) return false;
  const nowSeconds = Math.floor((typeof now === 'number' ? now : now.getTime()) / 1000);
  if (Math.abs(nowSeconds - Number(text)) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, text, body), 'hex');
  let valid = false;
  for (const entry of signature.split(',')) {
    const [scheme, value] = entry.trim().split('=', 2);
    if (scheme !== SCHEME || !value || !/^[0-9a-f]{64}$/i.test(value)) continue;
    // Check every entry (no early exit), in constant time per entry.
    if (timingSafeEqual(expected, Buffer.from(value, 'hex'))) valid = true;
  }
  return valid;
}
