import { invalidField } from '../../errors';
import type { InboundFile, InboundItem } from '../connector';
import type { InboundMessage } from '../types';

/**
 * WhatsApp Cloud API webhooks → items (pure). The body:
 *   {object:"whatsapp_business_account", entry:[{id, changes:[{field:"messages", value:{
 *     metadata:{phone_number_id}, contacts:[{profile:{name}, wa_id?, user_id?}],
 *     messages:[{from?, from_user_id?, id, timestamp, type, <type>:{…}}],
 *     statuses:[{id, status, recipient_id?, errors?}], errors?}}]}]}
 *
 * The client is keyed on the business-scoped user id (`from_user_id`) when WhatsApp sends one and
 * on the wa_id (`from`) otherwise: `from` (the phone) is left out for users with the usernames
 * feature, so it is never the only key. The phone, when present, goes on the client card.
 * A message's id is its `wamid`, so Meta's redeliveries are stored once. Media come as media ids,
 * fetched with the Graph API (fetch.ts). Changes for another phone number of the same app are
 * ignored. `statuses` become delivery reports on our messages (core/delivery.ts).
 */

interface WaMessage {
  id?: unknown;
  from?: unknown;
  from_user_id?: unknown;
  type?: unknown;
  [key: string]: unknown;
}

interface WaContact {
  wa_id?: unknown;
  user_id?: unknown;
  profile?: { name?: unknown };
}

const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
const EXTENSION: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/mp4': 'm4a',
  'application/pdf': 'pdf',
};

const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const obj = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function baseMime(mime: string): string {
  return mime.split(';')[0]!.trim().toLowerCase();
}

function fileOf(type: string, media: Record<string, unknown>, id: string): InboundFile | null {
  const ref = str(media.id);
  if (!ref) return null;
  const mimeType = str(media.mime_type) ?? 'application/octet-stream';
  const ext = EXTENSION[baseMime(mimeType)];
  const name =
    str(media.filename) ?? `${type}_${id.replace(/[^A-Za-z0-9]/g, '').slice(-16)}${ext ? `.${ext}` : ''}`;
  return { ref, name, mimeType: baseMime(mimeType) };
}

function locationText(location: Record<string, unknown>): string {
  const place = [str(location.name), str(location.address)].filter(Boolean).join(', ');
  const point = `${location.latitude}, ${location.longitude}`;
  return `📍 ${place ? `${place} (${point})` : point}`;
}

function contactsText(contacts: unknown[]): string {
  return contacts
    .map((raw) => {
      const contact = obj(raw) ?? {};
      const name = str(obj(contact.name)?.formatted_name) ?? str(obj(contact.name)?.first_name) ?? '';
      const phones = list(contact.phones)
        .map((p) => str(obj(p)?.phone))
        .filter(Boolean)
        .join(', ');
      return `👤 ${[name, phones].filter(Boolean).join(', ')}`;
    })
    .join('\n');
}

/** A message's words and files, or why it is not stored. */
function contentOf(
  message: WaMessage,
  id: string,
): { text?: string; files: InboundFile[] } | { ignored: string } {
  const type = str(message.type) ?? 'unknown';
  const part = obj(message[type]) ?? {};
  if (type === 'text') {
    const body = str(part.body);
    return body ? { text: body, files: [] } : { ignored: 'an empty text' };
  }
  if ((MEDIA_TYPES as readonly string[]).includes(type)) {
    const file = fileOf(type, part, id);
    if (!file) return { ignored: `a ${type} without a media id` };
    const caption = str(part.caption);
    return { ...(caption ? { text: caption } : {}), files: [file] };
  }
  if (type === 'location') return { text: locationText(part), files: [] };
  if (type === 'contacts') return { text: contactsText(list(message.contacts)), files: [] };
  if (type === 'interactive') {
    // A button or list row the client picked: its id is the answer (rating "1", consent), like a reply.
    const reply = obj(part.button_reply) ?? obj(part.list_reply);
    const value = str(reply?.id) ?? str(reply?.title);
    return value ? { text: value, files: [] } : { ignored: 'an interactive reply without an id' };
  }
  if (type === 'button') {
    const value = str(part.payload) ?? str(part.text);
    return value ? { text: value, files: [] } : { ignored: 'a template button without a payload' };
  }
  if (type === 'reaction') {
    const emoji = str(part.emoji);
    return emoji ? { text: emoji, files: [] } : { ignored: 'a reaction removed' };
  }
  return { ignored: `a ${type} message` };
}

function clientOf(message: WaMessage, contacts: WaContact[]): InboundMessage['user'] | null {
  const from = str(message.from);
  const userId = str(message.from_user_id);
  const contact =
    contacts.find((c) => (userId && str(c.user_id) === userId) || (from && str(c.wa_id) === from)) ??
    contacts[0];
  const id = userId ?? str(contact?.user_id) ?? from ?? str(contact?.wa_id);
  if (!id) return null;
  const user: InboundMessage['user'] = { id };
  const name = str(contact?.profile?.name);
  if (name) user.name = name;
  const phone = from ?? str(contact?.wa_id);
  if (phone && /^[0-9]{5,20}$/.test(phone)) user.phone = `+${phone}`;
  return user;
}

const STATUS_STATES = new Set(['sent', 'delivered', 'read', 'failed']);

function statusItem(raw: unknown): InboundItem {
  const status = obj(raw) ?? {};
  const id = str(status.id);
  const state = str(status.status);
  if (!id || !state || !STATUS_STATES.has(state)) {
    return {
      ignored: `a status "${String(state)}"`,
      ...(id ? {} : { unreadable: ['a status without an id'] }),
    };
  }
  const error = obj(list(status.errors)[0]);
  const reason = error
    ? `WhatsApp: ${str(obj(error.error_data)?.details) ?? str(error.message) ?? str(error.title) ?? 'failed'} (#${String(error.code)})`
    : undefined;
  return {
    delivery: {
      externalId: id,
      state: state as 'sent' | 'delivered' | 'read' | 'failed',
      ...(reason ? { error: reason } : {}),
    },
  };
}

function messageItem(raw: unknown, contacts: WaContact[]): InboundItem {
  const message = (obj(raw) ?? {}) as WaMessage;
  const id = str(message.id);
  if (!id) return { ignored: 'a message without an id', unreadable: ['a message without an id'] };
  if (message.group_id !== undefined) return { ignored: 'a group message' };
  const user = clientOf(message, contacts);
  if (!user)
    return { ignored: 'a message without a sender', unreadable: ['a message without from/from_user_id'] };
  const content = contentOf(message, id);
  if ('ignored' in content) return { ignored: content.ignored };
  return {
    message: { externalId: id, user, ...(content.text ? { text: content.text } : {}) },
    files: content.files,
  };
}

export function whatsAppItemsOf(payload: unknown, phoneNumberId: string): InboundItem[] {
  const body = obj(payload);
  if (body?.object !== 'whatsapp_business_account') {
    throw invalidField('body.object', 'must be "whatsapp_business_account"');
  }
  if (!Array.isArray(body.entry)) throw invalidField('body.entry', 'must be an array');
  const items: InboundItem[] = [];
  for (const entry of body.entry) {
    for (const change of list(obj(entry)?.changes)) {
      const field = str(obj(change)?.field);
      const value = obj(obj(change)?.value);
      if (field !== 'messages' || !value) {
        items.push({ ignored: `a "${String(field)}" change` });
        continue;
      }
      const target = str(obj(value.metadata)?.phone_number_id);
      if (target !== phoneNumberId) {
        items.push({ ignored: `a change for phone number ${String(target)}` });
        continue;
      }
      const contacts = list(value.contacts).map((c) => (obj(c) ?? {}) as WaContact);
      for (const message of list(value.messages)) items.push(messageItem(message, contacts));
      for (const status of list(value.statuses)) items.push(statusItem(status));
      const errors = list(value.errors);
      if (errors.length > 0) {
        items.push({
          ignored: 'errors reported by WhatsApp',
          unreadable: errors.map(
            (e) => `WhatsApp error #${String(obj(e)?.code)}: ${String(obj(e)?.title ?? obj(e)?.message)}`,
          ),
        });
      }
    }
  }
  return items;
}
