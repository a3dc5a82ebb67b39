import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';

/**
 * The key that encrypts connector secrets at rest. SECRET_KEY (any length ≥ 32, hashed to 32 bytes)
 * wins; otherwise a random key is created once in DATA_DIR/secret.key (mode 0600), which is what
 * the embedded one-command server uses. Several processes on PostgreSQL must share SECRET_KEY.
 */
export async function resolveEncryptionKey(config: Config): Promise<Buffer> {
  if (config.secretKey) return createHash('sha256').update(config.secretKey).digest();
  const file = path.join(config.dataDir, 'secret.key');
  try {
    const existing = await fs.readFile(file, 'utf8');
    return Buffer.from(existing.trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  try {
    await fs.writeFile(file, key.toString('hex'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return Buffer.from((await fs.readFile(file, 'utf8')).trim(), 'hex');
    throw error;
  }
}
