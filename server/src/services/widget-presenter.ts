import {
  type Dialog,
  hasOperator,
  isOpen,
  type LineSettings,
  type Message,
  type VisitorMessage,
  type VisitorSession,
} from '@openlines/contract';
import type { OutboundMessage, OutboxPayload } from '../channels/types';
import type { Database } from '../store/database';
import type { MessageRow } from '../store/schema';
import { operatorShownToClient } from './messages';

/**
 * What a visitor may see of their conversation, field by field (STYLE convention 6): never an
 * operator's id, a private note, the client record or the line's settings.
 */

type Reader = Pick<Database, 'selectFrom'>;

/** The part of a message both the rows and the realtime events have. */
export type MessageLike = Pick<
  Message,
  'id' | 'authorKind' | 'text' | 'attachments' | 'private' | 'externalId' | 'createdAt'
> & { systemKind?: string | null };

/** A visitor's message is stored with externalId `<visitor id>/<client message id>` (idempotency). */
export function visitorExternalId(visitorId: string, clientMessageId: string): string {
  return `${visitorId}/${clientMessageId}`;
}

function clientMessageIdOf(message: MessageLike): string | null {
  if (message.authorKind !== 'client' || !message.externalId) return null;
  const slash = message.externalId.indexOf('/');
  return slash >= 0 ? message.externalId.slice(slash + 1) : null;
}

/** Only http(s) links reach the page: an attachment URL is put in href and src. */
function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export function rowAsMessageLike(row: MessageRow): MessageLike {
  return {
    id: row.id,
    authorKind: row.author_kind,
    text: row.text,
    attachments: row.attachments ?? [],
    private: row.private,
    externalId: row.external_id,
    createdAt: row.created_at.toISOString(),
    systemKind: row.system_kind ?? null,
  };
}

/**
 * The outbound payloads of our side's messages: the author as the line shows them to clients
 * (Q-8, computed once when the message was queued, the same for every channel) and quick replies.
 */
async function outboundOf(db: Reader, ids: string[]): Promise<Map<string, OutboundMessage>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('outbox')
    .select(['message_id', 'payload'])
    .where('message_id', 'in', ids)
    .execute();
  const result = new Map<string, OutboundMessage>();
  for (const row of rows) {
    const payload = row.payload as OutboxPayload | null;
    if (row.message_id && payload?.kind === 'message' && payload.message)
      result.set(row.message_id, payload.message);
  }
  return result;
}

/** Messages as the visitor sees them; private ones are left out. */
export async function presentVisitorMessages(db: Reader, messages: MessageLike[]): Promise<VisitorMessage[]> {
  const visible = messages.filter((message) => !message.private);
  const outbound = await outboundOf(
    db,
    visible.filter((message) => message.authorKind !== 'client').map((message) => message.id),
  );
  return visible.map((message) => {
    const sent = outbound.get(message.id);
    return {
      id: message.id,
      author: message.authorKind === 'client' ? 'visitor' : message.authorKind,
      name: message.authorKind === 'client' ? null : (sent?.authorName ?? null),
      avatarUrl: message.authorKind === 'client' ? null : safeUrl(sent?.authorAvatarUrl),
      text: message.text,
      attachments: message.attachments.flatMap((attachment) => {
        const url = safeUrl(attachment.url);
        return url ? [{ ...attachment, url }] : [];
      }),
      createdAt: message.createdAt,
      clientMessageId: clientMessageIdOf(message),
      systemKind: message.systemKind ?? null,
      quickReplies: sent?.quickReplies ?? [],
    };
  });
}

type LineSettingsRow = { settings: LineSettings };

/** The operator as the line shows them to clients, with only http(s) picture links. */
async function operatorShown(db: Reader, line: LineSettingsRow | undefined, operatorId: string) {
  const shown = await operatorShownToClient(db, line?.settings, operatorId);
  return { name: shown.name, avatarUrl: safeUrl(shown.avatarUrl) };
}

export const NO_SESSION: VisitorSession = {
  status: 'none',
  operator: null,
  consentPending: false,
  ratingPending: false,
  ratingAllowed: false,
};

/** The dialog's current session as the visitor may know it. */
export async function presentVisitorSession(db: Reader, dialog: Dialog | null): Promise<VisitorSession> {
  const session = dialog?.session;
  if (!session) return NO_SESSION;
  const status = hasOperator(session.status) ? 'active' : isOpen(session.status) ? 'waiting' : 'closed';
  const line = await db
    .selectFrom('lines')
    .select('settings')
    .where('id', '=', session.lineId)
    .executeTakeFirst();
  const operator =
    status === 'active' && session.operatorId ? await operatorShown(db, line, session.operatorId) : null;
  const rating = line?.settings.rating;
  const rated = Boolean(session.rating);
  return {
    status,
    operator,
    consentPending: session.consent === 'pending',
    ratingPending: Boolean(session.ratingRequestedAt) && !rated,
    ratingAllowed: Boolean(rating?.enabled && rating.allowBeforeFinish) && status === 'active' && !rated,
  };
}
