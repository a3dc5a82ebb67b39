import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Identity verification (issue: `identify({ id, name, email, hash })`). The site's server computes
 *
 *   hash = hex(HMAC-SHA256(identitySecret, id))
 *
 * with the channel's identity secret (`olwi_…`, shown once when the channel is created or its
 * secrets are rotated) and hands it to the page. Only a page that got the hash from the site's
 * server can claim that id, so a visitor cannot read another user's conversation by guessing ids.
 */
export function identityHash(secret: string, id: string): string {
  return createHmac('sha256', secret).update(id, 'utf8').digest('hex');
}

/** Constant-time check of a hash sent by the page. */
export function verifyIdentityHash(secret: string, id: string, hash: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hash)) return false;
  return timingSafeEqual(Buffer.from(identityHash(secret, id), 'hex'), Buffer.from(hash, 'hex'));
}
