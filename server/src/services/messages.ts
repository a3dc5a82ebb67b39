import type { Attachment, LineSettings, Message, SystemKind } from '@openlines/contract';
import type { OutboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import type { DialogRow, LineRow, SessionRow } from '../store/schema';
import { emitMessage, touchDialog } from './dialog-events';
import { previewOf } from './intake';
import { presentMessage } from './message-presenter';
import { enqueueOutbound } from './outbox';
import type { Tx, UnitOfWork } from './transaction';

export interface OutgoingMessage {
  dialog: DialogRow;
  session: SessionRow | null;
  line: LineRow | null;
  authorKind: 'operator' | 'bot' | 'system';
  authorId: string | null;
  text: string | null;
  attachments?: Attachment[];
  /** Notes and consultations: stored and shown to colleagues, never sent to the client. */
  private?: boolean;
  clientMessageId?: string | null;
  systemKind?: SystemKind | null;
  quickReplies?: OutboundMessage['quickReplies'];
}

/** The operator as clients see them: their profile, the line's replacement, or nobody. */
export async function operatorShownToClient(
  db: Pick<Tx, 'selectFrom'>,
  settings: LineSettings | undefined,
  operatorId: string,
): Promise<{ name: string | null; avatarUrl: string | null }> {
  const data = settings?.queue.operatorData;
  if (!data || data.mode === 'hidden') return { name: null, avatarUrl: null };
  if (data.mode === 'replaced')
    return { name: data.replacementName || null, avatarUrl: data.replacementAvatarUrl || null };
  const user = await db
    .selectFrom('users')
    .select(['name', 'avatar_url'])
    .where('id', '=', operatorId)
    .executeTakeFirst();
  return { name: user?.name ?? null, avatarUrl: user?.avatar_url ?? null };
}

async function authorShownToClient(tx: Tx, line: LineRow | null, message: OutgoingMessage) {
  if (message.authorKind !== 'operator' || !message.authorId || !line) return { name: null, avatarUrl: null };
  return operatorShownToClient(tx, line.settings, message.authorId);
}

/**
 * Writes a message from our side (operator, bot or automation) in the caller's transaction: the
 * row, and for anything not private the outbox entry that delivers it to the client's channel,
 * the dialog's preview and the events. One path for every outgoing message, so none skips the
 * outbox and no private note can reach a client.
 */
export async function writeOutgoingMessage(
  ctx: AppContext,
  uow: UnitOfWork,
  message: OutgoingMessage,
): Promise<Message> {
  const now = ctx.clock.now();
  const attachments = message.attachments ?? [];
  const isPrivate = message.private === true;
  const { dialog } = message;
  const row = await uow.tx
    .insertInto('messages')
    .values({
      account_id: dialog.account_id,
      dialog_id: dialog.id,
      session_id: message.session?.id ?? null,
      channel_id: dialog.channel_id,
      author_kind: message.authorKind,
      author_id: message.authorId,
      text: message.text,
      attachments: JSON.stringify(attachments),
      private: isPrivate,
      delivery_state: isPrivate ? 'none' : 'pending',
      delivery_error: null,
      external_id: null,
      client_message_id: message.clientMessageId ?? null,
      system_kind: message.systemKind ?? null,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (!isPrivate) {
    const identity = await uow.tx
      .selectFrom('client_identities')
      .select('external_id')
      .where('client_id', '=', dialog.client_id)
      .where('channel_id', '=', dialog.channel_id)
      .executeTakeFirstOrThrow();
    const shown = await authorShownToClient(uow.tx, message.line, message);
    const outbound: OutboundMessage = {
      messageId: row.id,
      dialogId: dialog.id,
      recipientId: identity.external_id,
      authorKind: message.authorKind,
      authorName: shown.name,
      authorAvatarUrl: shown.avatarUrl,
      text: row.text,
      attachments,
      ...(message.quickReplies ? { quickReplies: message.quickReplies } : {}),
      createdAt: now.toISOString(),
    };
    await enqueueOutbound(uow.tx, {
      accountId: dialog.account_id,
      channelId: dialog.channel_id,
      messageId: row.id,
      payload: { kind: 'message', message: outbound },
      now,
    });
    await uow.tx
      .updateTable('dialogs')
      .set({ last_message_at: now, last_message_preview: previewOf(message.text, attachments) })
      .where('id', '=', dialog.id)
      .execute();
  }
  touchDialog(ctx, uow, dialog.account_id, dialog.id);
  const presented = presentMessage(row);
  emitMessage(ctx, uow, 'message.created', presented, dialog.account_id);
  return presented;
}
