import { createHash, timingSafeEqual } from 'node:crypto';
import type { Message, Update, User } from '@grammyjs/types';
import { invalidField } from '../../errors';
import type { InboundItem } from '../connector';
import type { InboundMessage } from '../types';
import { checkUpdate } from './shape';

/**
 * Telegram updates → what Openlines stores. Pure: the generic inbound path
 * (services/channel-inbound.ts) fetches the files through `fetch.ts` and stores the message.
 *
 * Only private chats with the bot are conversations; groups and channels the bot was added to are
 * ignored. Ids are stable across redeliveries, so a repeated update is stored once:
 *   a message          `<chat id>:<message id>` (Telegram numbers messages per chat);
 *   an edited message  changes the stored `<chat id>:<message id>` in place and marks it edited
 *                      (InboundItem.edit); only when that one is not stored is it kept as a new
 *                      message `<chat id>:<message id>:edit:<edit_date>` whose text starts "(edited) ";
 *   a button press     `cb:<callback query id>`, with the button's value as the text, the same as
 *                      if the client had typed it (consent and rating read it like a reply).
 */

/** The updates we ask Telegram for (getUpdates and setWebhook `allowed_updates`). */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

/** Telegram's header with the webhook's `secret_token`. */
export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token';

export const EDITED_PREFIX = '(edited) ';

/** A file a message refers to, to fetch with getFile. */
export interface FileRef {
  fileId: string;
  fileUniqueId: string;
  name: string;
  mimeType: string;
  /** As Telegram reports it; absent for some files. */
  size?: number;
}

export interface ParsedMessage {
  externalId: string;
  /** `id` is the chat id, which in a private chat is the client's Telegram user id. */
  user: InboundMessage['user'];
  /** For getUserProfilePhotos. */
  telegramUserId: number;
  text?: string;
  files: FileRef[];
  /** An edit: the message it changes, its new text and when it was edited. */
  edits?: { externalId: string; text: string | null; at: string };
}

export type ParsedUpdate = (
  | { kind: 'ignored'; updateId: number; reason: string; callbackQueryId?: string }
  | { kind: 'message'; updateId: number; message: ParsedMessage; callbackQueryId?: string }
) & {
  /** Parts of the update that had the wrong shape and were left out (shape.ts). */
  unreadable?: string[];
};

/** "First Last (@username)": the client card has one name field, and the username helps find them. */
export function displayNameOf(user: Pick<User, 'first_name' | 'last_name' | 'username'>): string {
  const name = [user.first_name, user.last_name]
    .filter((part) => part?.trim())
    .join(' ')
    .trim();
  if (user.username) return name ? `${name} (@${user.username})` : `@${user.username}`;
  return name;
}

function clientOf(from: User, chatId: number): InboundMessage['user'] {
  const user: InboundMessage['user'] = { id: String(chatId) };
  const name = displayNameOf(from);
  if (name) user.name = name;
  return user;
}

function filesOf(message: Message): FileRef[] {
  const files: FileRef[] = [];
  const add = (
    file: { file_id: string; file_unique_id: string; file_size?: number },
    name: string,
    mime: string,
  ) => {
    files.push({
      fileId: file.file_id,
      fileUniqueId: file.file_unique_id,
      name,
      mimeType: mime,
      ...(file.file_size === undefined ? {} : { size: file.file_size }),
    });
  };
  if (message.photo && message.photo.length > 0) {
    // Sizes come smallest first; the original is the largest.
    const largest = [...message.photo].sort((a, b) => a.width * a.height - b.width * b.height).pop()!;
    add(largest, `photo_${largest.file_unique_id}.jpg`, 'image/jpeg');
  }
  if (message.animation) {
    const a = message.animation;
    add(a, a.file_name ?? `animation_${a.file_unique_id}.mp4`, a.mime_type ?? 'video/mp4');
  } else if (message.document) {
    // An animation also comes as `document` (for old clients): take it once.
    const d = message.document;
    add(d, d.file_name ?? `document_${d.file_unique_id}`, d.mime_type ?? 'application/octet-stream');
  }
  if (message.video) {
    const v = message.video;
    add(v, v.file_name ?? `video_${v.file_unique_id}.mp4`, v.mime_type ?? 'video/mp4');
  }
  if (message.video_note) {
    add(message.video_note, `video_note_${message.video_note.file_unique_id}.mp4`, 'video/mp4');
  }
  if (message.voice) {
    const v = message.voice;
    add(v, `voice_${v.file_unique_id}.ogg`, v.mime_type ?? 'audio/ogg');
  }
  if (message.audio) {
    const a = message.audio;
    add(a, a.file_name ?? `audio_${a.file_unique_id}.mp3`, a.mime_type ?? 'audio/mpeg');
  }
  return files;
}

/** What a message says in words: its text or caption, or a description of a location/contact/sticker. */
function textOf(message: Message): string | undefined {
  if (message.text) return message.text;
  if (message.caption) return message.caption;
  if (message.venue) return `📍 ${message.venue.title}, ${message.venue.address}`;
  if (message.location) return `📍 ${message.location.latitude}, ${message.location.longitude}`;
  if (message.contact) {
    const c = message.contact;
    return `👤 ${[c.first_name, c.last_name].filter(Boolean).join(' ')}, ${c.phone_number}`;
  }
  if (message.sticker) return message.sticker.emoji ?? '[sticker]';
  return undefined;
}

function parseMessage(updateId: number, message: Message, edited: boolean): ParsedUpdate {
  if (message.chat.type !== 'private') {
    return { kind: 'ignored', updateId, reason: `a ${message.chat.type} chat, not a private one` };
  }
  const from = message.from;
  if (!from) return { kind: 'ignored', updateId, reason: 'no sender' };
  let text = textOf(message);
  const files = filesOf(message);
  if (!text && files.length === 0) return { kind: 'ignored', updateId, reason: 'nothing to store' };
  const user = clientOf(from, message.chat.id);
  // The client shared their own number (the "share my phone" button): it belongs on their card.
  if (message.contact?.user_id === from.id) user.phone = message.contact.phone_number;
  let externalId = `${message.chat.id}:${message.message_id}`;
  let edits: ParsedMessage['edits'];
  if (edited) {
    const at = new Date((message.edit_date ?? message.date) * 1000).toISOString();
    edits = { externalId, text: text ?? null, at };
    externalId += `:edit:${message.edit_date ?? 0}`;
    text = `${EDITED_PREFIX}${text ?? ''}`.trimEnd();
  }
  return {
    kind: 'message',
    updateId,
    message: {
      externalId,
      user,
      telegramUserId: from.id,
      files,
      ...(text ? { text } : {}),
      ...(edits ? { edits } : {}),
    },
  };
}

export function parseUpdate(raw: Update): ParsedUpdate {
  const updateId = raw.update_id;
  const checked = checkUpdate(raw);
  if (!checked.ok) return { kind: 'ignored', updateId, reason: checked.reason, unreadable: [checked.reason] };
  const parsed = parseChecked(checked.update);
  return checked.dropped.length > 0 ? { ...parsed, unreadable: checked.dropped } : parsed;
}

function parseChecked(update: Update): ParsedUpdate {
  const updateId = update.update_id;
  if (update.message) return parseMessage(updateId, update.message, false);
  if (update.edited_message) return parseMessage(updateId, update.edited_message, true);
  const query = update.callback_query;
  if (query) {
    const chat = query.message?.chat;
    if (chat && chat.type !== 'private') {
      return { kind: 'ignored', updateId, reason: 'a button in a group chat', callbackQueryId: query.id };
    }
    if (!query.data)
      return { kind: 'ignored', updateId, reason: 'a button without data', callbackQueryId: query.id };
    return {
      kind: 'message',
      updateId,
      callbackQueryId: query.id,
      message: {
        externalId: `cb:${query.id}`,
        user: clientOf(query.from, chat?.id ?? query.from.id),
        telegramUserId: query.from.id,
        text: query.data,
        files: [],
      },
    };
  }
  return { kind: 'ignored', updateId, reason: 'an update type we do not handle' };
}

/**
 * A webhook body or a polled update → the connector's items (`parseInbound`): one per update, with
 * its files to fetch (by file id), the sender's user id for the avatar and the callback query to
 * answer. Anything but an object with a non-negative integer `update_id` is a 400.
 */
export function inboundItemsOf(payload: unknown): InboundItem[] {
  const updateId = (payload as { update_id?: unknown } | null)?.update_id;
  if (
    typeof payload !== 'object' ||
    payload === null ||
    !Number.isInteger(updateId) ||
    Number(updateId) < 0
  ) {
    throw invalidField('body.update_id', 'must be an integer of at least 0');
  }
  const parsed = parseUpdate(payload as Update);
  const ack = parsed.callbackQueryId === undefined ? {} : { ack: parsed.callbackQueryId };
  const unreadable = parsed.unreadable ? { unreadable: parsed.unreadable } : {};
  if (parsed.kind === 'ignored') return [{ ignored: parsed.reason, ...ack, ...unreadable }];
  const { message } = parsed;
  return [
    {
      message: {
        externalId: message.externalId,
        user: message.user,
        ...(message.text === undefined ? {} : { text: message.text }),
      },
      files: message.files.map((file) => ({
        ref: file.fileId,
        name: file.name,
        mimeType: file.mimeType,
        ...(file.size === undefined ? {} : { size: file.size }),
      })),
      avatar: String(message.telegramUserId),
      ...(message.edits ? { edit: message.edits } : {}),
      ...ack,
      ...unreadable,
    },
  ];
}

/** Is this webhook request from Telegram? (Its `X-Telegram-Bot-Api-Secret-Token` header.) */
export function verifySecretToken(
  header: string | string[] | undefined,
  secret: string | undefined,
): boolean {
  if (!secret || typeof header !== 'string' || header.length === 0) return false;
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(header), digest(secret));
}
