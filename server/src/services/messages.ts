import type { Attachment, LineSettings, Message, SystemKind } from '@openlines/contract';
import { findConnector } from '../channels/registry';
import type { OutboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import {
  OPERATOR_PROFILE_COLUMNS,
  operatorShownAs,
  type ShownOperator,
  shownByLine,
} from '../core/operator-shown';
import type { Database } from '../store/database';
import type { DialogRow, LineRow, MessageRow, SessionRow } from '../store/schema';
import { emitMessage, touchDialog } from './dialog-events';
import { presentMessage, previewOf } from './message-presenter';
import { enqueueOutbound } from './outbox';
import type { Tx, UnitOfWork } from './transaction';

/** The message an operator's send with this `clientMessageId` stored in the dialog, if any (idempotency). */
export function storedSend(
  db: Pick<Database | Tx, 'selectFrom'>,
  accountId: string,
  dialogId: string,
  clientMessageId: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('dialog_id', '=', dialogId)
    .where('client_message_id', '=', clientMessageId)
    .executeTakeFirst();
}

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
  template?: OutboundMessage['template'];
  /** A private note's mentioned colleagues (user ids, checked by the caller). */
  mentions?: string[];
}

export type { ShownOperator } from '../core/operator-shown';
export { operatorShownAs } from '../core/operator-shown';

/** The operator as clients see them: their profile, the line's replacement, or nobody. */
export async function operatorShownToClient(
  db: Pick<Tx, 'selectFrom'>,
  settings: LineSettings | undefined,
  operatorId: string,
): Promise<ShownOperator> {
  const byLine = shownByLine(settings);
  if (byLine) return byLine;
  const user = await db
    .selectFrom('users')
    .select(OPERATOR_PROFILE_COLUMNS)
    .where('id', '=', operatorId)
    .executeTakeFirst();
  return operatorShownAs(settings, user);
}

/** Outgoing messages of this channel kind need no outbox: the client reads them from our socket. */
export function deliveredOnWrite(channelKind: string): boolean {
  return findConnector(channelKind)?.deliversOverOwnSocket === true;
}

/** A bot as clients see it (BOT-2): its own name and avatar, whatever the line's Q-8 setting. */
export async function botShownToClient(db: Pick<Tx, 'selectFrom'>, botId: string): Promise<ShownOperator> {
  const bot = await db
    .selectFrom('bots')
    .select(['name', 'avatar_url'])
    .where('id', '=', botId)
    .executeTakeFirst();
  return { name: bot?.name ?? null, avatarUrl: bot?.avatar_url ?? null };
}

async function authorShownToClient(tx: Tx, line: LineRow | null, message: OutgoingMessage) {
  if (message.authorKind === 'bot' && message.authorId) return botShownToClient(tx, message.authorId);
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
  // Whom it goes to, and whether the channel needs an outbox round at all (the widget does not).
  const recipient = isPrivate
    ? null
    : await uow.tx
        .selectFrom('client_identities')
        .innerJoin('channels', 'channels.id', 'client_identities.channel_id')
        .select(['client_identities.external_id', 'channels.kind'])
        .where('client_identities.client_id', '=', dialog.client_id)
        .where('client_identities.channel_id', '=', dialog.channel_id)
        .executeTakeFirstOrThrow();
  const onWrite = recipient !== null && deliveredOnWrite(recipient.kind);
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
      delivery_state: isPrivate ? 'none' : onWrite ? 'sent' : 'pending',
      delivery_error: null,
      external_id: null,
      client_message_id: message.clientMessageId ?? null,
      system_kind: message.systemKind ?? null,
      created_at: now,
      ...(isPrivate && message.mentions?.length ? { mentions: JSON.stringify(message.mentions) } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (recipient) {
    const shown = await authorShownToClient(uow.tx, message.line, message);
    const outbound: OutboundMessage = {
      messageId: row.id,
      dialogId: dialog.id,
      recipientId: recipient.external_id,
      authorKind: message.authorKind,
      authorName: shown.name,
      authorAvatarUrl: shown.avatarUrl,
      text: row.text,
      attachments,
      ...(message.quickReplies ? { quickReplies: message.quickReplies } : {}),
      ...(message.template ? { template: message.template } : {}),
      createdAt: now.toISOString(),
    };
    // A message delivered on write keeps its row as the record of how it was shown (author,
    // quick replies), already `sent`: no worker claims it.
    await enqueueOutbound(uow.tx, {
      accountId: dialog.account_id,
      channelId: dialog.channel_id,
      messageId: row.id,
      payload: { kind: 'message', message: outbound },
      now,
      ...(onWrite ? { state: 'sent' as const } : {}),
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
