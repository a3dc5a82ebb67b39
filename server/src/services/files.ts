import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Attachment } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError, notFound } from '../errors';
import type { Database } from '../store/database';
import { assertStorageAllows } from './plan-limits';

/**
 * Attachments (operators' uploads, visitors' uploads, files fetched from channels) are stored once
 * here: bytes on disk under DATA_DIR/files, a row in `files`. They are reached through capability
 * URLs (`/api/v1/files/<id>/<signature>/<name>`) so a client in the widget or a messenger's link
 * preview can open them without an account, while nobody can guess another file's address.
 */

/** Types a browser would run or render as a page are never served inline. */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'audio/ogg',
  'audio/mpeg',
  'video/mp4',
]);

export interface StoredFile {
  id: string;
  attachment: Attachment;
}

export interface NewFile {
  accountId: string;
  name: string;
  mimeType: string;
  data: Buffer;
  uploadedBy: { kind: 'user' | 'client' | 'channel'; id: string | null };
}

function filesDir(ctx: AppContext): string {
  return path.join(ctx.config.dataDir, 'files');
}

/** Where a stored file's bytes live (the erasure routine removes them from here too). */
export function pathOf(ctx: AppContext, id: string): string {
  return path.join(filesDir(ctx), id.slice(0, 2), id);
}

function signatureOf(ctx: AppContext, id: string): string {
  return createHmac('sha256', ctx.encryptionKey).update(`file:${id}`).digest('base64url').slice(0, 32);
}

/** A file name safe to show and to put in a header: no paths, no control characters. */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = [...base]
    .filter((char) => char !== '"' && char.charCodeAt(0) >= 0x20 && char.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 200);
  return cleaned || 'file';
}

export function fileUrl(ctx: AppContext, id: string, name: string, baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/files/${id}/${signatureOf(ctx, id)}/${encodeURIComponent(cleanFileName(name))}`;
}

export async function storeFile(ctx: AppContext, input: NewFile, baseUrl: string): Promise<StoredFile> {
  if (input.data.length > ctx.config.maxUploadBytes) {
    throw new AppError(
      'payload_too_large',
      `Files may be at most ${Math.floor(ctx.config.maxUploadBytes / 1024 / 1024)} MB`,
      [{ field: 'file', message: `is larger than ${ctx.config.maxUploadBytes} bytes` }],
    );
  }
  if (input.data.length === 0)
    throw new AppError('validation_failed', 'The file is empty', [{ field: 'file', message: 'is empty' }]);
  await assertStorageAllows(ctx.store.db, input.accountId, input.data.length);
  const name = cleanFileName(input.name);
  const mimeType = /^[\w.+-]+\/[\w.+-]+$/.test(input.mimeType)
    ? input.mimeType.toLowerCase()
    : 'application/octet-stream';
  const row = await ctx.store.db
    .insertInto('files')
    .values({
      account_id: input.accountId,
      name,
      mime_type: mimeType,
      size: input.data.length,
      sha256: createHash('sha256').update(input.data).digest('hex'),
      uploaded_by_kind: input.uploadedBy.kind,
      uploaded_by_id: input.uploadedBy.id,
      created_at: ctx.clock.now(),
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  const target = pathOf(ctx, row.id);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, input.data, { mode: 0o600 });
  return {
    id: row.id,
    attachment: { name, url: fileUrl(ctx, row.id, name, baseUrl), mimeType, size: input.data.length },
  };
}

export interface OpenedFile {
  name: string;
  mimeType: string;
  size: number;
  inline: boolean;
  stream: NodeJS.ReadableStream;
}

/** Opens a file by its capability URL parts; a wrong signature is the same 404 as a missing file. */
export async function openFile(ctx: AppContext, id: string, signature: string): Promise<OpenedFile> {
  const expected = Buffer.from(signatureOf(ctx, id));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw notFound('The file');
  const row = await ctx.store.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('The file');
  try {
    await fs.access(pathOf(ctx, id));
  } catch {
    throw notFound('The file');
  }
  return {
    name: row.name,
    mimeType: row.mime_type,
    size: Number(row.size),
    inline: INLINE_TYPES.has(row.mime_type),
    stream: createReadStream(pathOf(ctx, id)),
  };
}

/** Reads a stored file's bytes (connectors uploading an attachment to a channel). */
export async function readFileOf(
  ctx: AppContext,
  db: Database,
  accountId: string,
  id: string,
): Promise<Buffer> {
  const row = await db
    .selectFrom('files')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('The file');
  return fs.readFile(pathOf(ctx, id));
}

/** The file id inside one of our capability URLs, if it is one. */
export function fileIdFromUrl(url: string): string | null {
  const match = /\/api\/v1\/files\/([0-9a-f-]{36})\//.exec(url);
  return match ? match[1]! : null;
}

/**
 * A stored file by id within an account, for the account's own exports (no capability URL):
 * null when the row or the bytes are gone (erased).
 */
export async function openStoredFile(
  ctx: AppContext,
  accountId: string,
  id: string,
): Promise<{
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  open: () => NodeJS.ReadableStream;
} | null> {
  const row = await ctx.store.db
    .selectFrom('files')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  try {
    await fs.access(pathOf(ctx, id));
  } catch {
    return null;
  }
  return {
    name: row.name,
    mimeType: row.mime_type,
    size: Number(row.size),
    sha256: row.sha256,
    open: () => createReadStream(pathOf(ctx, id)),
  };
}

/** Where a stored file's bytes are (backups, the account deletion test). */
export function storedFilePath(ctx: AppContext, id: string): string {
  return pathOf(ctx, id);
}
