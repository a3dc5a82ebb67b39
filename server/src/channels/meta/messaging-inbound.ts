import { invalidField } from '../../errors';
import { type InboundFile, type InboundItem, isHttpUrl } from '../connector';

/**
 * Messenger / Instagram webhooks → items (pure). The body:
 *   {object:"page"|"instagram", entry:[{id, time, messaging:[{sender:{id}, recipient:{id}, timestamp,
 *     message?:{mid, text?, attachments?:[{type, payload:{url}}], quick_reply?:{payload}, is_echo?,
 *               reply_to?:{mid?, story?:{url, id}}, is_deleted?},
 *     postback?:{mid?, title, payload}, reaction?:{mid, action, emoji?, reaction?},
 *     read?:{watermark?, mid?}, delivery?:{mids?, watermark}}]}]}
 *
 * The client is the sender's page-scoped id (PSID / IGSID). Echoes (our own sends, and what the
 * Page's inbox sends) are ignored. Ids are stable across redeliveries: a message `mid`; a postback
 * `postback:<mid or sender:timestamp>`; a reaction `reaction:<mid>:<timestamp>`. Attachment URLs
 * are fetched (fetch in the connector). Instagram story mentions and story replies are stored with
 * the story's link. Read receipts: Instagram names the message (`read.mid`), Messenger gives a
 * watermark (everything sent before it is read); deliveries list `mids`.
 */

const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const obj = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const MIME_OF: Record<string, string> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/mpeg',
  file: 'application/octet-stream',
};

function nameFromUrl(url: string, type: string, index: number): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    if (last && /\.[A-Za-z0-9]{1,5}$/.test(last)) return decodeURIComponent(last).slice(-120);
  } catch {
    // fall through
  }
  const ext = { image: '.jpg', video: '.mp4', audio: '.mp3' }[type] ?? '';
  return `${type}_${index + 1}${ext}`;
}

function messageItem(event: Record<string, unknown>, senderId: string): InboundItem {
  const message = obj(event.message) ?? {};
  const mid = str(message.mid);
  if (!mid) return { ignored: 'a message without a mid', unreadable: ['a message without a mid'] };
  if (message.is_echo === true) return { ignored: 'an echo of a message the page sent' };
  if (message.is_deleted === true) return { ignored: 'a message the client deleted' };
  const lines: string[] = [];
  const story = obj(obj(message.reply_to)?.story);
  if (story) lines.push(`↩️ Reply to your story: ${str(story.url) ?? str(story.id) ?? ''}`.trim());
  const quick = str(obj(message.quick_reply)?.payload);
  const text = quick ?? str(message.text);
  if (text) lines.push(text);
  const files: InboundFile[] = [];
  list(message.attachments).forEach((raw, index) => {
    const attachment = obj(raw) ?? {};
    const type = str(attachment.type) ?? 'file';
    const link = str(obj(attachment.payload)?.url);
    const url = isHttpUrl(link) ? link : undefined;
    if (type === 'story_mention') {
      lines.push(`📖 Mentioned you in a story: ${url ?? ''}`.trim());
      return;
    }
    if (!url) {
      const title = str(obj(attachment.payload)?.title) ?? str(attachment.title);
      if (title) lines.push(title);
      return;
    }
    if (type in MIME_OF) {
      files.push({ ref: url, name: nameFromUrl(url, type, index), mimeType: MIME_OF[type]! });
    } else {
      // share, ig_reel, fallback, template…: a link the operator can open.
      lines.push(`🔗 ${url}`);
    }
  });
  if (lines.length === 0 && files.length === 0) return { ignored: 'nothing to store' };
  return {
    message: { externalId: mid, user: { id: senderId }, ...(lines.length ? { text: lines.join('\n') } : {}) },
    files,
  };
}

function eventItems(event: Record<string, unknown>): InboundItem[] {
  const senderId = str(obj(event.sender)?.id);
  const timestamp = String(event.timestamp ?? '');
  if (!senderId)
    return [{ ignored: 'an event without a sender', unreadable: ['an event without sender.id'] }];
  if (event.message) return [messageItem(event, senderId)];
  const postback = obj(event.postback);
  if (postback) {
    const value = str(postback.payload) ?? str(postback.title);
    if (!value) return [{ ignored: 'a postback without a payload' }];
    const id = str(postback.mid) ?? `${senderId}:${timestamp}`;
    return [{ message: { externalId: `postback:${id}`, user: { id: senderId }, text: value } }];
  }
  const reaction = obj(event.reaction);
  if (reaction) {
    if (str(reaction.action) !== 'react') return [{ ignored: 'a reaction removed' }];
    const emoji = str(reaction.emoji) ?? str(reaction.reaction) ?? '👍';
    const mid = str(reaction.mid) ?? 'message';
    return [{ message: { externalId: `reaction:${mid}:${timestamp}`, user: { id: senderId }, text: emoji } }];
  }
  const read = obj(event.read);
  if (read) {
    const mid = str(read.mid);
    if (mid) return [{ delivery: { externalId: mid, state: 'read' } }];
    const watermark = Number(read.watermark);
    if (Number.isFinite(watermark) && watermark > 0) {
      return [{ readUpTo: { recipientId: senderId, at: new Date(watermark).toISOString() } }];
    }
    return [{ ignored: 'a read receipt without a watermark' }];
  }
  const delivery = obj(event.delivery);
  if (delivery) {
    const mids = list(delivery.mids)
      .map(str)
      .filter((m): m is string => Boolean(m));
    if (mids.length === 0) return [{ ignored: 'a delivery receipt without mids' }];
    return mids.map((mid) => ({ delivery: { externalId: mid, state: 'delivered' as const } }));
  }
  return [{ ignored: 'an event we do not handle' }];
}

export function metaMessagingItemsOf(
  payload: unknown,
  object: 'page' | 'instagram',
  pageId: string,
): InboundItem[] {
  const body = obj(payload);
  if (!body || body.object !== object) throw invalidField('body.object', `must be "${object}"`);
  if (!Array.isArray(body.entry)) throw invalidField('body.entry', 'must be an array');
  const items: InboundItem[] = [];
  for (const raw of body.entry) {
    const entry = obj(raw) ?? {};
    if (str(entry.id) !== pageId) {
      items.push({ ignored: `an entry for ${String(entry.id)}` });
      continue;
    }
    for (const event of list(entry.messaging)) items.push(...eventItems(obj(event) ?? {}));
  }
  return items;
}
