import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (connector tokens, webhook signing keys): AES-256-GCM with the server key
 * (ctx.encryptionKey), a fresh random 96-bit IV per seal and the 128-bit tag checked on open.
 *
 * Stored as `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The version lets a later format (or
 * key rotation with a key id) be read next to old values. Optional associated data (the channel id)
 * binds a sealed value to its row, so a value copied into another row does not open there.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretBoxError('The encryption key must be 32 bytes');
}

export function sealJson(key: Buffer, value: unknown, associatedData?: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    VERSION,
    iv.toString('base64url'),
    tag.toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

export function openJson<T = unknown>(key: Buffer, sealed: string, associatedData?: string): T {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts[0] !== VERSION) throw new SecretBoxError(`Unknown secret format "${parts[0] ?? ''}"`);
  if (parts.length !== 4) throw new SecretBoxError('The sealed secret is malformed');
  const [, ivText, tagText, dataText] = parts as [string, string, string, string];
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
    throw new SecretBoxError('The sealed secret is malformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    // Wrong key (SECRET_KEY changed?), tampering or a value from another row: never say which.
    throw new SecretBoxError('The secret cannot be decrypted with this server key');
  }
}
