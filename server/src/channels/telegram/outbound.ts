import type { InlineKeyboardMarkup } from '@grammyjs/types';
import type { Attachment } from '@openlines/contract';
import { type Api, InputFile } from 'grammy';
import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import { signatureOf, splitText, withOptionsInText } from '../text';
import type { OutboundMessage } from '../types';
import { botApi, callBotApi } from './bot-api';
import { apiRootOf, type TelegramChannelSettings } from './settings';

/** Telegram's limits, in UTF-16 code units after entity parsing (escapes count as one character). */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
/** callback_data is 1–64 bytes. */
const CALLBACK_DATA_LIMIT = 64;
/** Photos larger than this are refused by sendPhoto; they go as documents. */
const PHOTO_LIMIT = 10 * 1024 * 1024;

/** Escapes text for parse_mode HTML: `<`, `>` and `&` are the only characters Telegram needs escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The operator's name (when the line shows it, Q-8) or the bot's, in bold above the text. */
function headerOf(outbound: OutboundMessage): { html: string; length: number } | null {
  const name = signatureOf(outbound);
  if (!name) return null;
  return { html: `<b>${escapeHtml(name)}</b>\n`, length: name.length + 1 };
}

/** The message's text as HTML pieces that each fit `limit` (the first carries the author's name). */
export function formatText(outbound: OutboundMessage, limit = TEXT_LIMIT): string[] {
  const text = outbound.text ?? '';
  if (!text) return [];
  const header = headerOf(outbound);
  const pieces = splitText(text, Math.max(limit - (header?.length ?? 0), limit / 2));
  return pieces.map((piece, index) => (index === 0 && header ? header.html : '') + escapeHtml(piece));
}

/** Quick replies → an inline keyboard; none when a value does not fit callback_data. */
export function keyboardOf(quickReplies: OutboundMessage['quickReplies']): InlineKeyboardMarkup | undefined {
  if (!quickReplies || quickReplies.length === 0) return undefined;
  const fits = quickReplies.every((q) => {
    const size = Buffer.byteLength(q.reply, 'utf8');
    return size >= 1 && size <= CALLBACK_DATA_LIMIT && q.title.length > 0;
  });
  if (!fits) return undefined;
  const buttons = quickReplies.map((q) => ({ text: q.title, callback_data: q.reply }));
  // Short lists (yes/no, 1/0) side by side; longer ones one per row.
  const inline_keyboard = buttons.length <= 3 ? [buttons] : buttons.map((button) => [button]);
  return { inline_keyboard };
}

type SendMethod = 'sendPhoto' | 'sendAnimation' | 'sendVideo' | 'sendVoice' | 'sendAudio' | 'sendDocument';

/** Which Bot API method shows a file best; anything unusual goes as a document. */
export function sendMethodOf(attachment: Pick<Attachment, 'mimeType' | 'size'>): SendMethod {
  const type = attachment.mimeType.toLowerCase();
  if ((type === 'image/jpeg' || type === 'image/png') && attachment.size <= PHOTO_LIMIT) return 'sendPhoto';
  if (type === 'image/gif') return 'sendAnimation';
  if (type === 'video/mp4') return 'sendVideo';
  if (type === 'audio/ogg') return 'sendVoice';
  if (type === 'audio/mpeg' || type === 'audio/mp4') return 'sendAudio';
  return 'sendDocument';
}

const MEDIA_FIELD: Record<SendMethod, string> = {
  sendPhoto: 'photo',
  sendAnimation: 'animation',
  sendVideo: 'video',
  sendVoice: 'voice',
  sendAudio: 'audio',
  sendDocument: 'document',
};

/** A private chat's id (a number) as Telegram wants it. */
export function chatIdOf(recipientId: string): number | string {
  if (/^-?\d{1,17}$/.test(recipientId)) return Number(recipientId);
  return recipientId;
}

/** Our stored bytes when the attachment is ours, else its URL for Telegram to fetch. */
async function fileOf(attachment: Attachment, io: ConnectorIo): Promise<InputFile | string> {
  let data: Buffer | null = null;
  try {
    data = (await io.readAttachment?.(attachment)) ?? null;
  } catch (error) {
    throw new ConnectorError('invalid_payload', `The attachment "${attachment.name}" is no longer stored`, {
      cause: error,
    });
  }
  if (data) return new InputFile(data, attachment.name);
  if (!/^https?:\/\//i.test(attachment.url)) {
    throw new ConnectorError('invalid_payload', `The attachment "${attachment.name}" has no usable URL`);
  }
  return attachment.url;
}

async function sendAttachment(
  api: Api,
  chatId: number | string,
  attachment: Attachment,
  io: ConnectorIo,
  extra: { caption?: string; reply_markup?: InlineKeyboardMarkup },
): Promise<number> {
  const method = sendMethodOf(attachment);
  const file = await fileOf(attachment, io);
  const options = {
    ...(extra.caption ? { caption: extra.caption, parse_mode: 'HTML' as const } : {}),
    ...(extra.reply_markup ? { reply_markup: extra.reply_markup } : {}),
  };
  const raw = api.raw as unknown as Record<
    SendMethod,
    (payload: Record<string, unknown>) => Promise<{ message_id: number }>
  >;
  const sent = await callBotApi(() =>
    raw[method]({ chat_id: chatId, [MEDIA_FIELD[method]]: file, ...options }),
  );
  return sent.message_id;
}

/**
 * Delivers one outbound message: the text (HTML, escaped; split when longer than Telegram allows),
 * then each attachment uploaded from our storage. A single attachment with a short text goes as one
 * message with a caption. Quick replies become an inline keyboard on the last message.
 * The external id is `<chat id>:<message id>` of the first message sent.
 */
export async function sendToTelegram(
  channel: ChannelRuntime<TelegramChannelSettings>,
  message: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const token = channel.secrets.botToken;
  if (!token)
    throw new ConnectorError('auth_revoked', 'The channel has no bot token; paste it in the settings');
  const api = botApi(token, { apiRoot: apiRootOf(channel.settings), timeoutMs: io.timeoutMs });
  const chatId = chatIdOf(message.recipientId);
  const keyboard = keyboardOf(message.quickReplies);
  // Options a keyboard cannot carry (a value over 64 bytes) are numbered lines of the text instead.
  const outbound = keyboard ? message : withOptionsInText(message);
  const attachments = outbound.attachments;
  const ids: number[] = [];

  const captionPieces = attachments.length === 1 ? formatText(outbound, CAPTION_LIMIT) : [];
  if (attachments.length === 1 && captionPieces.length <= 1) {
    ids.push(
      await sendAttachment(api, chatId, attachments[0]!, io, {
        ...(captionPieces[0] ? { caption: captionPieces[0] } : {}),
        ...(keyboard ? { reply_markup: keyboard } : {}),
      }),
    );
    return { externalId: `${chatId}:${ids[0]}` };
  }

  const pieces = formatText(outbound);
  if (pieces.length === 0 && attachments.length === 0) {
    throw new ConnectorError('invalid_payload', 'The message has neither text nor attachments');
  }
  for (const [index, piece] of pieces.entries()) {
    const last = index === pieces.length - 1;
    const sent = await callBotApi(() =>
      api.sendMessage(chatId, piece, {
        parse_mode: 'HTML',
        ...(last && keyboard ? { reply_markup: keyboard } : {}),
      }),
    );
    ids.push(sent.message_id);
  }
  for (const [index, attachment] of attachments.entries()) {
    const last = index === attachments.length - 1;
    const markup = pieces.length === 0 && last && keyboard ? { reply_markup: keyboard } : {};
    ids.push(await sendAttachment(api, chatId, attachment, io, markup));
  }
  return { externalId: `${chatId}:${ids[0]}` };
}

/** `<chat id>:<message id>` (what sendToTelegram returned) → its parts; null for anything else. */
export function sentIdOf(externalId: string): { chatId: number | string; messageId: number } | null {
  const match = /^(.+):(\d{1,12})$/.exec(externalId);
  if (!match) return null;
  return { chatId: chatIdOf(match[1]!), messageId: Number(match[2]) };
}

function apiFor(channel: ChannelRuntime<TelegramChannelSettings>, io: ConnectorIo): Api {
  const token = channel.secrets.botToken;
  if (!token)
    throw new ConnectorError('auth_revoked', 'The channel has no bot token; paste it in the settings');
  return botApi(token, { apiRoot: apiRootOf(channel.settings), timeoutMs: io.timeoutMs });
}

function sentIdOrThrow(externalId: string) {
  const sent = sentIdOf(externalId);
  if (!sent) throw new ConnectorError('invalid_payload', 'The message was not sent as a Telegram message');
  return sent;
}

/**
 * An operator's edit (editSent): the first Telegram message sendToTelegram made gets the new text —
 * editMessageCaption when it went as one attachment with a caption, editMessageText otherwise (a
 * text longer than one Telegram message keeps its later parts as they were).
 */
export async function editOnTelegram(
  channel: ChannelRuntime<TelegramChannelSettings>,
  externalId: string,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<void> {
  const api = apiFor(channel, io);
  const { chatId, messageId } = sentIdOrThrow(externalId);
  const asCaption = outbound.attachments.length === 1 && formatText(outbound, CAPTION_LIMIT).length <= 1;
  if (asCaption) {
    const caption = formatText(outbound, CAPTION_LIMIT)[0] ?? '';
    await callBotApi(() => api.editMessageCaption(chatId, messageId, { caption, parse_mode: 'HTML' }));
    return;
  }
  const text = formatText(outbound)[0];
  if (!text) throw new ConnectorError('invalid_payload', 'An edited message needs a text');
  await callBotApi(() => api.editMessageText(chatId, messageId, text, { parse_mode: 'HTML' }));
}

/** An operator's deletion (deleteSent): Telegram removes the bot's message for the client too. */
export async function deleteOnTelegram(
  channel: ChannelRuntime<TelegramChannelSettings>,
  externalId: string,
  _outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<void> {
  const api = apiFor(channel, io);
  const { chatId, messageId } = sentIdOrThrow(externalId);
  await callBotApi(() => api.deleteMessage(chatId, messageId));
}
