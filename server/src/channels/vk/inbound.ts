import { createHash, timingSafeEqual } from 'node:crypto';
import { invalidField } from '../../errors';
import type { ChannelRuntime, InboundFile, InboundItem, InboundReply, InboundRequest } from '../connector';
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
    .filter((size) => typeof size.url === 'string')
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
    } else if (attachment.type === 'doc' && attachment.doc?.url) {
      const ext = (attachment.doc.ext ?? '').toLowerCase();
      const title = attachment.doc.title || `doc${attachment.doc.owner_id}_${attachment.doc.id}`;
      const name = ext && !title.toLowerCase().endsWith(`.${ext}`) ? `${title}.${ext}` : title;
      files.push({
        ref: attachment.doc.url,
        name,
        mimeType: MIME_BY_EXT[ext] ?? 'application/octet-stream',
        ...(typeof attachment.doc.size === 'number' ? { size: attachment.doc.size } : {}),
      });
    } else if (attachment.type === 'audio_message' && attachment.audio_message?.link_ogg) {
      files.push({
        ref: attachment.audio_message.link_ogg,
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

function isMessage(value: unknown): value is VkMessage {
  const m = value as VkMessage | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    Number.isInteger(m.id) &&
    Number.isInteger(m.peer_id) &&
    Number.isInteger(m.from_id)
  );
}

function messageItem(message: VkMessage, edited: boolean): InboundItem {
  if (message.out === 1) return { ignored: 'an outgoing message' };
  if (message.peer_id >= CHAT_PEER_BASE) return { ignored: 'a message in a group chat' };
  if (message.from_id <= 0) return { ignored: 'a message from a community' };
  const { files, unreadable } = filesOf(message.attachments);
  const reply = edited ? undefined : replyOfPayload(message.payload);
  const text = reply ?? message.text ?? '';
  const base = `${message.peer_id}:${message.id}`;
  const externalId = edited ? `${base}:edit:${message.update_time ?? message.date ?? 0}` : base;
  const shown = edited ? `${EDITED_PREFIX}${text}` : text;
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
    case 'message_new':
      if (!isMessage(object.message))
        return [{ ignored: 'message_new without a message', unreadable: ['object.message'] }];
      return [messageItem(object.message, false)];
    case 'message_edit':
      if (!isMessage(event.object))
        return [{ ignored: 'message_edit without a message', unreadable: ['object'] }];
      return [messageItem(event.object, true)];
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
