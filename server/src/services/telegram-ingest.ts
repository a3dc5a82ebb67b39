import type { Update } from '@grammyjs/types';
import type { Attachment } from '@openlines/contract';
import type { Api } from 'grammy';
import { ConnectorError } from '../channels/connector';
import {
  type BotApiOptions,
  botApi,
  callBotApi,
  connectorErrorOf,
  downloadFile,
} from '../channels/telegram/bot-api';
import { type FileRef, parseUpdate } from '../channels/telegram/inbound';
import { apiRootOf } from '../channels/telegram/settings';
import type { InboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { repairUnstorableText } from '../core/storable-text';
import { AppError } from '../errors';
import type { ChannelRow } from '../store/schema';
import { channelRuntime } from './channels';
import { storeFile } from './files';
import { receiveInbound } from './intake';

/**
 * One Telegram update, from the webhook or from getUpdates, into the line: the files it refers to
 * are fetched (getFile + download) and stored like any attachment, then the message is committed by
 * receiveInbound. Only when this returns may the update be acknowledged (webhook 200, next offset).
 *
 *   - A redelivered update finds its message by external id and stores nothing (and downloads
 *     nothing) again.
 *   - A file Telegram will not give us (over 20 MB, or over MAX_UPLOAD_BYTES) does not block the
 *     message: it is stored with a note naming the file. Network trouble does block it: the error is
 *     thrown, and the update is delivered again later.
 *   - A new client's profile photo becomes their avatar (best effort).
 *   - A client who writes again is reachable again: intake clears the dialog's unreachable flag.
 *   - A button press is answered (answerCallbackQuery) so the client's app stops its spinner.
 */
export interface IngestResult {
  updateId: number;
  outcome: 'stored' | 'duplicate' | 'ignored';
  messageId?: string;
  dialogId?: string;
}

/** Downloads of one update's files give up after this long (each). */
const FILE_TIMEOUT_MS = 60_000;

export async function ingestUpdate(
  ctx: AppContext,
  channel: ChannelRow,
  update: Update,
): Promise<IngestResult> {
  // Polled updates did not cross the HTTP boundary, which repairs webhook bodies the same way.
  const parsed = parseUpdate(repairUnstorableText(update));
  const token = channelRuntime(ctx, channel).secrets.botToken;
  if (!token) throw new ConnectorError('auth_revoked', 'The channel has no bot token');
  const options: BotApiOptions = { apiRoot: apiRootOf(channel.settings), timeoutMs: FILE_TIMEOUT_MS };
  const api = botApi(token, options);
  const answer = async () => {
    if (!parsed.callbackQueryId) return;
    const id = parsed.callbackQueryId;
    await callBotApi(() => api.answerCallbackQuery(id)).catch((error: unknown) =>
      ctx.log.debug(
        { err: connectorErrorOf(error).message, channelId: channel.id },
        'telegram: answerCallbackQuery failed',
      ),
    );
  };
  if (parsed.kind === 'ignored') {
    ctx.log.debug(
      { channelId: channel.id, updateId: parsed.updateId, reason: parsed.reason },
      'telegram update ignored',
    );
    await answer();
    return { updateId: parsed.updateId, outcome: 'ignored' };
  }
  const { message } = parsed;
  const stored = await findStored(ctx, channel.id, message.externalId);
  if (stored) {
    await answer();
    return { updateId: parsed.updateId, outcome: 'duplicate', ...stored };
  }

  const attachments: Attachment[] = [];
  const notes: string[] = [];
  for (const file of message.files) {
    try {
      attachments.push(await fetchAttachment(ctx, api, { ...options, token }, channel, file));
    } catch (error) {
      const reason = unreceivable(error);
      if (!reason) throw connectorErrorOf(error);
      ctx.log.info(
        { channelId: channel.id, updateId: parsed.updateId, reason },
        'telegram file not received',
      );
      notes.push(`📎 ${file.name} (not received: ${reason})`);
    }
  }
  const user: InboundMessage['user'] = { ...message.user };
  if (await isNewClient(ctx, channel.id, user.id)) {
    const avatar = await fetchAvatar(ctx, api, { ...options, token }, channel, message.telegramUserId).catch(
      (error: unknown) => {
        ctx.log.debug(
          { err: connectorErrorOf(error).message, channelId: channel.id },
          'telegram: no profile photo',
        );
        return null;
      },
    );
    if (avatar) user.avatarUrl = avatar.url;
  }
  const text = [message.text, ...notes].filter(Boolean).join('\n');
  const inbound: InboundMessage = {
    externalId: message.externalId,
    user,
    ...(text ? { text } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  };
  const result = await receiveInbound(ctx, channel, inbound);
  await answer();
  return {
    updateId: parsed.updateId,
    outcome: result.duplicate ? 'duplicate' : 'stored',
    messageId: result.messageId,
    dialogId: result.dialogId,
  };
}

/** Why a file can never be received (the message is stored without it), or null: try again later. */
function unreceivable(error: unknown): string | null {
  if (error instanceof AppError) return error.code === 'payload_too_large' ? 'too large' : error.message;
  const neutral = connectorErrorOf(error);
  if (neutral.code === 'invalid_payload' || neutral.code === 'not_found') {
    return /too big|larger/i.test(neutral.message) ? 'too large' : 'Telegram does not provide it';
  }
  return null;
}

async function fetchAttachment(
  ctx: AppContext,
  api: Api,
  options: BotApiOptions & { token: string },
  channel: ChannelRow,
  file: FileRef,
): Promise<Attachment> {
  const maxBytes = ctx.config.maxUploadBytes;
  if (file.size !== undefined && file.size > maxBytes) {
    throw new AppError('payload_too_large', `The file is larger than ${maxBytes} bytes`);
  }
  const described = await callBotApi(() => api.getFile(file.fileId));
  if (!described.file_path) throw new ConnectorError('not_found', 'Telegram gave no path for the file');
  const data = await downloadFile({ ...options, maxBytes }, described.file_path);
  const stored = await storeFile(
    ctx,
    {
      accountId: channel.account_id,
      name: file.name,
      mimeType: file.mimeType,
      data,
      uploadedBy: { kind: 'channel', id: channel.id },
    },
    ctx.publicUrl.value,
  );
  return stored.attachment;
}

async function fetchAvatar(
  ctx: AppContext,
  api: Api,
  options: BotApiOptions & { token: string },
  channel: ChannelRow,
  userId: number,
): Promise<Attachment | null> {
  const photos = await callBotApi(() => api.getUserProfilePhotos(userId, { limit: 1 }));
  const sizes = photos.photos[0];
  if (!sizes || sizes.length === 0) return null;
  const ordered = [...sizes].sort((a, b) => a.width - b.width);
  // A card needs a small picture: the first one at least 160 px wide, else the largest there is.
  const size = ordered.find((s) => s.width >= 160) ?? ordered[ordered.length - 1]!;
  return fetchAttachment(ctx, api, options, channel, {
    fileId: size.file_id,
    fileUniqueId: size.file_unique_id,
    name: `avatar_${size.file_unique_id}.jpg`,
    mimeType: 'image/jpeg',
    ...(size.file_size === undefined ? {} : { size: size.file_size }),
  });
}

async function findStored(
  ctx: AppContext,
  channelId: string,
  externalId: string,
): Promise<{ messageId: string; dialogId: string } | null> {
  const row = await ctx.store.db
    .selectFrom('messages')
    .select(['id', 'dialog_id'])
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .where('author_kind', '=', 'client')
    .executeTakeFirst();
  return row ? { messageId: row.id, dialogId: row.dialog_id } : null;
}

async function isNewClient(ctx: AppContext, channelId: string, externalId: string): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('client_identities')
    .select('client_id')
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return !row;
}
