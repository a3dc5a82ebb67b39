import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../errors';
import {
  ConnectorError,
  type FetchedFile,
  type InboundFile,
  type InboundIo,
  type InboundItem,
} from '../connector';
import type { EmailPayload } from './mime';

const PayloadSchema = Type.Object({
  uidValidity: Type.String(),
  uid: Type.Integer({ minimum: 1 }),
  messageId: Type.Union([Type.String(), Type.Null()]),
  inReplyTo: Type.Union([Type.String(), Type.Null()]),
  references: Type.Array(Type.String()),
  from: Type.Union([Type.Object({ address: Type.String(), name: Type.String() }), Type.Null()]),
  subject: Type.String(),
  text: Type.String(),
  automatic: Type.Union([Type.String(), Type.Null()]),
  attachments: Type.Array(
    Type.Object({ name: Type.String(), mimeType: Type.String(), size: Type.Integer(), data: Type.String() }),
  ),
});

/** The longest external id stored; a longer Message-ID falls back to the UID. */
const MAX_EXTERNAL_ID = 255;

/** The stored text of a mail: its subject as the first line, then the (trimmed) body. */
export function mailText(subject: string, body: string): string {
  return [subject, body].filter((part) => part.trim() !== '').join('\n\n');
}

/**
 * A parsed mail (mime.ts, by the IMAP worker) → one inbound item. The client is the sender's
 * address; automatic mail (auto-replies, bounces, bulk) and mail without a sender are ignored,
 * so they are never answered. The external id is the `Message-ID` (a copy of the same mail in
 * the folder is stored once), or `uid:<UIDVALIDITY>:<UID>` for mail without one.
 */
export function inboundItemsOf(payload: unknown): InboundItem[] {
  if (!Value.Check(PayloadSchema, payload)) throw new AppError('validation_failed', 'Not a parsed mail');
  const mail = payload as EmailPayload;
  if (!mail.from) return [{ ignored: 'mail without a sender address' }];
  if (mail.automatic) return [{ ignored: `automatic mail (${mail.automatic})` }];
  const externalId =
    mail.messageId && mail.messageId.length <= MAX_EXTERNAL_ID
      ? mail.messageId
      : `uid:${mail.uidValidity}:${mail.uid}`;
  const files: InboundFile[] = mail.attachments.map((a) => ({
    ref: `data:${a.mimeType};base64,${a.data}`,
    name: a.name,
    mimeType: a.mimeType,
    size: a.size,
  }));
  const text = mailText(mail.subject, mail.text);
  return [
    {
      message: {
        externalId,
        user: {
          id: mail.from.address,
          email: mail.from.address,
          ...(mail.from.name ? { name: mail.from.name } : {}),
        },
        // A mail with nothing but attachments still needs text or files; an empty one says so.
        ...(text || files.length === 0 ? { text: text || '(empty message)' } : {}),
      },
      files,
    },
  ];
}

/** Mail carries its files inline: the "fetch" decodes the bytes the payload brought. */
export async function fetchEmailFile(
  _channel: unknown,
  file: InboundFile,
  io: InboundIo,
): Promise<FetchedFile> {
  if (file.size !== undefined && file.size > io.maxBytes) {
    throw new ConnectorError('invalid_payload', `The attachment is larger than ${io.maxBytes} bytes`);
  }
  const comma = file.ref.indexOf(',');
  if (!file.ref.startsWith('data:') || comma < 0)
    throw new ConnectorError('invalid_payload', 'Not an inline file');
  return { data: Buffer.from(file.ref.slice(comma + 1), 'base64'), name: file.name, mimeType: file.mimeType };
}

/** A file that is too large can never be stored: the message keeps a note instead. */
export function emailUnreceivedNote(file: InboundFile, error: ConnectorError): string | null {
  return error.code === 'invalid_payload' ? `[attachment not kept: ${file.name} — ${error.message}]` : null;
}
