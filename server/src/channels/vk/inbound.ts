import { createHash, timingSafeEqual } from 'node:crypto';
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalidField } from '../../errors';
import {
  type ChannelRuntime,
  type InboundFile,
  type InboundItem,
  type InboundReply,
  type InboundRequest,
  isHttpUrl,
} from '../connector';
import type { VkChannelSettings } from './settings';

/**
 * VK's Callback API in (https://dev.vk.com/en/api/callback/getting-started). Every request is a
 * POST of `{type, object, group_id, event_id, v, secret}`:
 *   confirmation   answered with the confirmation string as text/plain (the handshake)
 *   message_new    `object.message` (+ `client_info`): a client's message, stored as
 *                  `<peer id>:<message id>`, so a redelivered event stores one message (DB unique)
 *   message_edit   the bare message: stored as a new message "(edited) …" keyed by its update time
 *   message_deny   the user no longer takes the community's messages: their dialogs become unreachable
 *                  (their next message clears it, as after any refused send)
 *   message_allow, anything else: acknowledged, nothing stored
 * A request is VK's when its `secret` is the channel's secret key and its `group_id` the channel's
 * community; every stored delivery is answered with the text `ok` (VK wants exactly that).
 */

export const EDITED_PREFIX = '(edited) ';
/** Peer ids of group chats start here; a community channel takes private messages only. */
const CHAT_PEER_BASE = 2_000_000_000;

export const VK_OK: InboundReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };

interface VkPhotoSize {
  type?: string;
  url?: string;
  width?: number;
  height?: number;
}

export interface VkAttachment {
  type: string;
  photo?: { id: number; owner_id: number; sizes?: VkPhotoSize[] };
  doc?: { id: number; owner_id: number; title?: string; ext?: string; url?: string; size?: number };
  audio_message?: { id: number; link_ogg?: string; link_mp3?: string };
}

export interface VkMessage {
  id: number;
  date?: number;
  update_time?: number;
  peer_id: number;
  from_id: number;
  text?: string;
  out?: number;
  payload?: string;
  conversation_message_id?: number;
  attachments?: VkAttachment[];
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function verifyCallback(request: InboundRequest, channel: ChannelRuntime<VkChannelSettings>): boolean {
  const body = request.body as { secret?: unknown; group_id?: unknown } | undefined;
  const secret = channel.secrets.secretKey;
  if (!secret || !body || typeof body !== 'object' || typeof body.secret !== 'string') return false;
  if (String(body.group_id) !== channel.settings.groupId) return false;
  // Hashing first makes the comparison constant-time whatever the lengths.
  return timingSafeEqual(digest(body.secret), digest(secret));
}

export function answerConfirmation(
  request: InboundRequest,
  channel: ChannelRuntime<VkChannelSettings>,
): InboundReply | null {
  if ((request.body as { type?: unknown }).type !== 'confirmation') return null;
  const confirmation = channel.secrets.confirmation;
  if (!confirmation) {
    // vk-io answers 500 too: VK shows the server as failing until the string is set.
    return { status: 500, contentType: 'text/plain; charset=utf-8', body: 'no confirmation string is set' };
  }
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: confirmation };
}

const MIME_BY_EXT: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The largest size of a photo (VK lists several; the biggest has the most pixels). */
function largestPhoto(sizes: VkPhotoSize[] | undefined): VkPhotoSize | undefined {
  return [...(sizes ?? [])]
    .filter((size) => isHttpUrl(size.url))
    .sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0))[0];
}

export function filesOf(attachments: VkAttachment[] | undefined): {
  files: InboundFile[];
  unreadable: string[];
} {
  const files: InboundFile[] = [];
  const unreadable: string[] = [];
  for (const attachment of attachments ?? []) {
    if (attachment.type === 'photo' && attachment.photo) {
      const size = largestPhoto(attachment.photo.sizes);
      if (size?.url)
        files.push({
          ref: size.url,
          name: `photo${attachment.photo.owner_id}_${attachment.photo.id}.jpg`,
          mimeType: 'image/jpeg',
        });
      else unreadable.push('a photo without a URL');
    } else if (attachment.type === 'doc' && isHttpUrl(attachment.doc?.url)) {
      const ext = (attachment.doc.ext ?? '').toLowerCase();
      const title = attachment.doc.title || `doc${attachment.doc.owner_id}_${attachment.doc.id}`;
      const name = ext && !title.toLowerCase().endsWith(`.${ext}`) ? `${title}.${ext}` : title;
      files.push({
        ref: attachment.doc.url as string,
        name,
        mimeType: MIME_BY_EXT[ext] ?? 'application/octet-stream',
        ...(typeof attachment.doc.size === 'number' ? { size: attachment.doc.size } : {}),
      });
    } else if (attachment.type === 'audio_message' && isHttpUrl(attachment.audio_message?.link_ogg)) {
      files.push({
        ref: attachment.audio_message.link_ogg as string,
        name: `voice${attachment.audio_message.id}.ogg`,
        mimeType: 'audio/ogg',
      });
    } else {
      unreadable.push(`an attachment of type ${String(attachment.type)}`);
    }
  }
  return { files, unreadable };
}

/** A keyboard button carries `{"reply": …}` (outbound.ts): the press is that reply, not the label. */
function replyOfPayload(payload: string | undefined): string | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as { reply?: unknown };
    return typeof parsed.reply === 'string' && parsed.reply ? parsed.reply : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the parser reads of a message, checked before it reads it (issue 20), as Telegram's
 * shape.ts does: VK's own events are well-formed, but the callback URL is an open door. Without
 * the core (ids, sender) there is nothing to store; an optional part of the wrong shape is left
 * out and named in `unreadable`, and the rest is stored.
 */
const Int = Type.Integer();
const MessageCore = Type.Object({ id: Int, peer_id: Int, from_id: Int });
const MESSAGE_PARTS: Record<string, TSchema> = {
  date: Int,
  update_time: Int,
  out: Int,
  text: Type.String(),
  payload: Type.String(),
  attachments: Type.Array(Type.Unknown()),
};
const AttachmentCore = Type.Object({ type: Type.String() });
const ATTACHMENT_PARTS: Record<string, TSchema> = {
  photo: Type.Object({
    id: Int,
    owner_id: Int,
    sizes: Type.Optional(
      Type.Array(
        Type.Object({
          url: Type.Optional(Type.String()),
          width: Type.Optional(Type.Number()),
          height: Type.Optional(Type.Number()),
        }),
      ),
    ),
  }),
  doc: Type.Object({
    id: Int,
    owner_id: Int,
    title: Type.Optional(Type.String()),
    ext: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    size: Type.Optional(Type.Number()),
  }),
  audio_message: Type.Object({ id: Int, link_ogg: Type.Optional(Type.String()) }),
};

/** The message with what the parser may read, and the paths of the parts left out; null without a core. */
function checkedMessage(value: unknown, path: string): { message: VkMessage; dropped: string[] } | null {
  if (!Value.Check(MessageCore, value)) return null;
  const message: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const dropped: string[] = [];
  for (const [part, schema] of Object.entries(MESSAGE_PARTS)) {
    if (message[part] !== undefined && !Value.Check(schema, message[part])) {
      delete message[part];
      dropped.push(`${path}.${part}`);
    }
  }
  if (Array.isArray(message.attachments)) {
    const attachments: Record<string, unknown>[] = [];
    for (const [index, attachment] of (message.attachments as unknown[]).entries()) {
      if (!Value.Check(AttachmentCore, attachment)) {
        dropped.push(`${path}.attachments.${index}`);
        continue;
      }
      const checked: Record<string, unknown> = { ...(attachment as Record<string, unknown>) };
      for (const [part, schema] of Object.entries(ATTACHMENT_PARTS)) {
        if (checked[part] !== undefined && !Value.Check(schema, checked[part])) {
          delete checked[part];
          dropped.push(`${path}.attachments.${index}.${part}`);
        }
      }
      attachments.push(checked);
    }
    message.attachments = attachments;
  }
  return { message: message as unknown as VkMessage, dropped };
}

function messageItem(checked: { message: VkMessage; dropped: string[] }, edited: boolean): InboundItem {
  const { message, dropped } = checked;
  if (message.out === 1) return { ignored: 'an outgoing message' };
  if (message.peer_id >= CHAT_PEER_BASE) return { ignored: 'a message in a group chat' };
  if (message.from_id <= 0) return { ignored: 'a message from a community' };
  const { files, unreadable: unread } = filesOf(message.attachments);
  const unreadable = [...dropped, ...unread];
  const reply = edited ? undefined : replyOfPayload(message.payload);
  const text = reply ?? message.text ?? '';
  const base = `${message.peer_id}:${message.id}`;
  const externalId = edited ? `${base}:edit:${message.update_time ?? message.date ?? 0}` : base;
  const shown = edited ? `${EDITED_PREFIX}${text}` : text;
  // A sticker alone, or parts that were all unreadable: nothing a dialog can show.
  if (!shown && files.length === 0) {
    return { ignored: 'a message with nothing to store', ...(unreadable.length > 0 ? { unreadable } : {}) };
  }
  return {
    message: {
      externalId,
      user: { id: String(message.peer_id), name: `VK id${message.from_id}` },
      ...(shown ? { text: shown } : {}),
    },
    files,
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

export function callbackItemsOf(payload: unknown): InboundItem[] {
  const event = payload as { type?: unknown; object?: unknown; event_id?: unknown } | null;
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
    throw invalidField('body.type', 'must be the Callback API event type');
  }
  const object = (event.object ?? {}) as { message?: unknown };
  switch (event.type) {
    case 'message_new': {
      const checked = checkedMessage(object.message, 'object.message');
      if (!checked) return [{ ignored: 'message_new without a message', unreadable: ['object.message'] }];
      return [messageItem(checked, false)];
    }
    case 'message_edit': {
      const checked = checkedMessage(event.object, 'object');
      if (!checked) return [{ ignored: 'message_edit without a message', unreadable: ['object'] }];
      return [messageItem(checked, true)];
    }
    case 'message_deny': {
      const userId = (event.object as { user_id?: unknown } | undefined)?.user_id;
      if (!Number.isInteger(userId))
        return [{ ignored: 'message_deny without a user', unreadable: ['object.user_id'] }];
      return [{ ignored: 'the user denied messages from the community', unreachable: String(userId) }];
    }
    default:
      return [{ ignored: `event ${event.type}` }];
  }
}
