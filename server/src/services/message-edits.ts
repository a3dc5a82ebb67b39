import type { EditMessageBody, Message } from '@openlines/contract';
import { findConnector } from '../channels/registry';
import type { OutboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { AppError, forbidden, notFound } from '../errors';
import type { BotRow, ChannelRow, DialogRow, MessageRow } from '../store/schema';
import type { Actor } from './actor';
import { enqueueClientMessageChange } from './bot-deliveries';
import { emitMessage, touchDialog } from './dialog-events';
import { loadVisibleDialog } from './dialogs';
import { eraseWithdrawnMessage } from './erasure';
import { loadLineRow } from './line-rows';
import { presentMessage, previewOf } from './message-presenter';
import { botShownToClient, operatorShownToClient } from './messages';
import { enqueueOutbound } from './outbox';
import { runInTransaction, type UnitOfWork } from './transaction';

/**
 * An operator corrects or withdraws their own message (issue 19). The row changes in place and
 * says when (`edited_at`, `deleted_at`); a 'message.updated' event carries it to colleagues and to
 * the widget visitor, whose socket shows the new version at once. For a channel whose connector can
 * change what it delivered (Telegram's editMessageText / deleteMessage) the change is queued in the
 * outbox in the same transaction, and the worker applies it after commit. Channels without that
 * (the API channel, e-mail, WhatsApp, …) keep the client's first copy; the web app does not say so yet.
 *
 * A bot changes its own messages the same way (imbot.message.update / delete of the Bitrix24
 * surface), and a client's channel withdraws a client's message (imconnector.delete.messages):
 * one path, whoever the author is. A client's withdrawn message is also erased (docs/privacy.md).
 */

type Change = { kind: 'edit'; text: string } | { kind: 'delete' };

/**
 * Who changes the message: an operator (their own messages in dialogs they see), a bot (its own),
 * or a client's channel withdrawing a message the client sent through it (imconnector.delete.messages).
 */
type Editor =
  | { kind: 'operator'; actor: Actor }
  | { kind: 'bot'; bot: BotRow }
  | { kind: 'client'; channel: ChannelRow };

export function editMessage(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  messageId: string,
  body: EditMessageBody,
): Promise<Message> {
  return changeMessage(ctx, { kind: 'operator', actor }, dialogId, messageId, {
    kind: 'edit',
    text: body.text,
  });
}

export function deleteMessage(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  messageId: string,
): Promise<Message> {
  return changeMessage(ctx, { kind: 'operator', actor }, dialogId, messageId, { kind: 'delete' });
}

/** A bot corrects its own message (any message of another author is not found). */
export function editBotMessage(ctx: AppContext, bot: BotRow, messageId: string, text: string) {
  return changeMessage(ctx, { kind: 'bot', bot }, null, messageId, { kind: 'edit', text });
}

/** A bot withdraws its own message. */
export function deleteBotMessage(ctx: AppContext, bot: BotRow, messageId: string) {
  return changeMessage(ctx, { kind: 'bot', bot }, null, messageId, { kind: 'delete' });
}

/**
 * The client withdrew a message they sent (a connector's imconnector.delete.messages): it stays in
 * the timeline as deleted, its text, attachments and files are erased and its events redacted
 * (docs/privacy.md). A message of another channel or author is not found.
 */
export function deleteClientMessage(ctx: AppContext, channel: ChannelRow, messageId: string) {
  return changeMessage(ctx, { kind: 'client', channel }, null, messageId, { kind: 'delete' });
}

async function changeMessage(
  ctx: AppContext,
  editor: Editor,
  dialogId: string | null,
  messageId: string,
  change: Change,
): Promise<Message> {
  return runInTransaction(ctx, async (uow) => {
    const accountId =
      editor.kind === 'operator'
        ? editor.actor.accountId
        : editor.kind === 'bot'
          ? editor.bot.account_id
          : editor.channel.account_id;
    let dialog: DialogRow | undefined;
    let query = uow.tx
      .selectFrom('messages')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', messageId);
    if (editor.kind === 'operator') {
      dialog = await loadVisibleDialog(uow.tx, editor.actor, dialogId!);
      query = query.where('dialog_id', '=', dialog.id);
    } else if (editor.kind === 'bot') {
      // A bot reaches only its own messages: another author's is not found, as if it did not exist.
      query = query.where('author_kind', '=', 'bot').where('author_id', '=', editor.bot.id);
    } else {
      query = query.where('author_kind', '=', 'client').where('channel_id', '=', editor.channel.id);
    }
    const current = await query.forUpdate().executeTakeFirst();
    if (!current) throw notFound('The message');
    if (
      editor.kind === 'operator' &&
      (current.author_kind !== 'operator' || current.author_id !== editor.actor.userId)
    ) {
      throw forbidden('Only the operator who wrote a message may edit or delete it');
    }
    dialog ??= await uow.tx
      .selectFrom('dialogs')
      .selectAll()
      .where('id', '=', current.dialog_id)
      .executeTakeFirstOrThrow();
    if (current.deleted_at) {
      throw new AppError('invalid_state', 'The message is deleted', undefined, { deleted: true });
    }
    if (change.kind === 'edit' && current.text === change.text) return presentMessage(current);
    const now = ctx.clock.now();
    // A client's withdrawn message is erased as privacy.md says; it reached no channel of ours.
    if (editor.kind === 'client') await eraseWithdrawnMessage(ctx, uow.tx, accountId, current.id);
    const row = await uow.tx
      .updateTable('messages')
      .set(
        change.kind === 'edit'
          ? { text: change.text, edited_at: now }
          : { text: null, attachments: JSON.stringify([]), deleted_at: now },
      )
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (!row.private && editor.kind !== 'client') await queueChannelChange(ctx, uow, current, row, change);
    // The dialog list's preview follows its last message.
    const preview = await uow.tx
      .updateTable('dialogs')
      .set({ last_message_preview: row.deleted_at ? null : previewOf(row.text, row.attachments ?? []) })
      .where('id', '=', dialog.id)
      .where('last_message_at', '=', row.created_at)
      .executeTakeFirst();
    if (preview.numUpdatedRows > 0n) touchDialog(ctx, uow, dialog.account_id, dialog.id);
    if (editor.kind === 'client') {
      await enqueueClientMessageChange(uow.tx, {
        sessionId: row.session_id,
        kind: 'deleted',
        message: row,
        now,
      });
    }
    const presented = presentMessage(row);
    emitMessage(ctx, uow, 'message.updated', presented, dialog.account_id);
    return presented;
  });
}

/**
 * The channel's side of the change. A message still waiting in the outbox when it is deleted is
 * not sent at all; one already sent is changed by the connector, if it can.
 */
async function queueChannelChange(
  ctx: AppContext,
  uow: UnitOfWork,
  before: MessageRow,
  row: MessageRow,
  change: Change,
): Promise<void> {
  const channel = await uow.tx
    .selectFrom('channels')
    .innerJoin('client_identities', 'client_identities.channel_id', 'channels.id')
    .innerJoin('dialogs', 'dialogs.client_id', 'client_identities.client_id')
    .select(['channels.kind', 'client_identities.external_id as recipientId', 'dialogs.line_id'])
    .where('dialogs.id', '=', row.dialog_id)
    .where('channels.id', '=', row.channel_id)
    .executeTakeFirst();
  if (!channel) return;
  const connector = findConnector(channel.kind);
  if (!connector || connector.deliversOverOwnSocket) return;
  if (change.kind === 'delete' && before.delivery_state === 'pending') {
    const cancelled = await uow.tx
      .updateTable('outbox')
      .set({ state: 'failed', last_error: 'The message was deleted before it was sent' })
      .where('message_id', '=', row.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (cancelled.numUpdatedRows > 0n) {
      await uow.tx
        .updateTable('messages')
        .set({ delivery_state: 'failed', delivery_error: 'Deleted before it was sent' })
        .where('id', '=', row.id)
        .execute();
      row.delivery_state = 'failed';
      row.delivery_error = 'Deleted before it was sent';
      return;
    }
  }
  if (!(change.kind === 'edit' ? connector.editSent : connector.deleteSent)) return;
  if (before.delivery_state === 'failed' || before.delivery_state === 'none') return;
  const shown =
    row.author_kind === 'bot'
      ? await botShownToClient(uow.tx, row.author_id!)
      : await operatorShownToClient(
          uow.tx,
          (await loadLineRow(uow.tx, row.account_id, channel.line_id)).settings,
          row.author_id!,
        );
  const outbound: OutboundMessage = {
    messageId: row.id,
    dialogId: row.dialog_id,
    recipientId: channel.recipientId,
    authorKind: row.author_kind === 'bot' ? 'bot' : 'operator',
    authorName: shown.name,
    authorAvatarUrl: shown.avatarUrl,
    text: change.kind === 'edit' ? row.text : null,
    attachments: before.attachments ?? [],
    createdAt: row.created_at.toISOString(),
  };
  await enqueueOutbound(uow.tx, {
    accountId: row.account_id,
    channelId: row.channel_id,
    messageId: row.id,
    payload: { kind: change.kind, message: outbound },
    now: ctx.clock.now(),
  });
}
