import type { Attachment } from '@openlines/contract';
import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import { type GraphTarget, graphCall } from '../meta/graph';
import { signatureOf, splitText, withNumberedOptions } from '../text';
import type { OutboundMessage } from '../types';
import { graphTargetOf } from './api';
import type { WhatsAppChannelSettings } from './settings';

/** Cloud API limits (characters): a text body, a caption, an interactive body, a button title, a row title. */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
const INTERACTIVE_BODY_LIMIT = 1024;
const BUTTON_TITLE_LIMIT = 20;
const ROW_TITLE_LIMIT = 24;
const REPLY_ID_LIMIT = 256;

/** WhatsApp formatting: `*bold*` for the operator's or the bot's name; nothing else is interpreted by us. */
function withAuthor(outbound: OutboundMessage, text: string): string {
  const name = signatureOf(outbound);
  if (!name) return text;
  return text ? `*${name}*\n${text}` : `*${name}*`;
}

/** The recipient fields: a wa_id (digits) as `to`, a business-scoped user id as `recipient`. */
export function recipientOf(recipientId: string): Record<string, string> {
  return /^\+?[0-9]{5,20}$/.test(recipientId)
    ? { to: recipientId.replace(/^\+/, '') }
    : { recipient: recipientId };
}

/**
 * Quick replies → reply buttons (up to 3, titles ≤ 20) or a list (up to 10 rows, titles ≤ 24);
 * null when they do not fit, and the text (which says what to answer) goes alone.
 */
export function interactiveOf(
  body: string,
  quickReplies: OutboundMessage['quickReplies'],
): Record<string, unknown> | null {
  if (!quickReplies || quickReplies.length === 0 || !body || body.length > INTERACTIVE_BODY_LIMIT)
    return null;
  const idsFit = quickReplies.every(
    (q) => q.reply.length >= 1 && q.reply.length <= REPLY_ID_LIMIT && q.title,
  );
  if (!idsFit) return null;
  if (quickReplies.length <= 3 && quickReplies.every((q) => q.title.length <= BUTTON_TITLE_LIMIT)) {
    return {
      type: 'button',
      body: { text: body },
      action: {
        buttons: quickReplies.map((q) => ({ type: 'reply', reply: { id: q.reply, title: q.title } })),
      },
    };
  }
  if (quickReplies.length <= 10 && quickReplies.every((q) => q.title.length <= ROW_TITLE_LIMIT)) {
    return {
      type: 'list',
      body: { text: body },
      action: {
        button: 'Choose',
        sections: [{ title: 'Options', rows: quickReplies.map((q) => ({ id: q.reply, title: q.title })) }],
      },
    };
  }
  return null;
}

type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** Which message type shows a file; what WhatsApp does not play goes as a document. */
export function mediaKindOf(mimeType: string): MediaKind {
  const type = mimeType.toLowerCase();
  if (type === 'image/jpeg' || type === 'image/png') return 'image';
  if (type === 'image/webp') return 'sticker';
  if (type === 'video/mp4' || type === 'video/3gpp') return 'video';
  if (['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'].includes(type)) return 'audio';
  return 'document';
}

/** Our stored bytes are uploaded (`POST /<phone number id>/media`); another URL is sent as a link. */
async function mediaRefOf(
  target: GraphTarget,
  phoneNumberId: string,
  attachment: Attachment,
  io: ConnectorIo,
): Promise<{ id: string } | { link: string }> {
  let data: Buffer | null = null;
  try {
    data = (await io.readAttachment?.(attachment)) ?? null;
  } catch (error) {
    throw new ConnectorError('invalid_payload', `The attachment "${attachment.name}" is no longer stored`, {
      cause: error,
    });
  }
  if (!data) {
    if (!/^https:\/\//i.test(attachment.url)) {
      throw new ConnectorError('invalid_payload', `The attachment "${attachment.name}" has no usable URL`);
    }
    return { link: attachment.url };
  }
  const form = new FormData();
  form.set('messaging_product', 'whatsapp');
  form.set('type', attachment.mimeType);
  form.set('file', new Blob([new Uint8Array(data)], { type: attachment.mimeType }), attachment.name);
  const uploaded = await graphCall<{ id?: string }>(target, `${phoneNumberId}/media`, { form });
  if (!uploaded.id) throw new ConnectorError('temporary', 'WhatsApp gave no media id for the upload');
  return { id: uploaded.id };
}

async function sendOne(
  target: GraphTarget,
  phoneNumberId: string,
  to: Record<string, string>,
  message: Record<string, unknown>,
) {
  const sent = await graphCall<{ messages?: { id?: string }[] }>(target, `${phoneNumberId}/messages`, {
    json: { messaging_product: 'whatsapp', recipient_type: 'individual', ...to, ...message },
  });
  const id = sent.messages?.[0]?.id;
  if (!id) throw new ConnectorError('temporary', 'WhatsApp accepted the message without an id');
  return id;
}

/**
 * Delivers one outbound message: the text (the operator's name in bold, split at 4096), or with
 * quick replies an interactive message with reply buttons or a list; then each attachment
 * uploaded from our storage, the text as the caption of a single one when it fits. The external id
 * is the first message's `wamid`, which WhatsApp's statuses then refer to.
 */
export async function sendToWhatsApp(
  channel: ChannelRuntime<WhatsAppChannelSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const target = graphTargetOf(channel, io);
  const phoneNumberId = channel.settings.phoneNumberId;
  const to = recipientOf(outbound.recipientId);
  if (outbound.template) {
    // Outside the 24-hour window only this is accepted; `text` is the history's copy of it.
    return { externalId: await sendOne(target, phoneNumberId, to, templateBodyOf(outbound.template)) };
  }
  const signed = withAuthor(outbound, outbound.text ?? '');
  const attachments = outbound.attachments;
  if (!outbound.text && attachments.length === 0) {
    throw new ConnectorError('invalid_payload', 'The message has neither text nor attachments');
  }
  const ids: string[] = [];
  const interactive = interactiveOf(signed, outbound.quickReplies);
  // Options buttons or a list cannot carry (more than 10, long titles) are numbered lines instead.
  const text = interactive ? signed : (withNumberedOptions(signed, outbound.quickReplies) ?? '');
  const captionFits =
    attachments.length === 1 && !interactive && text.length <= CAPTION_LIMIT && Boolean(outbound.text);
  if (interactive) {
    ids.push(await sendOne(target, phoneNumberId, to, { type: 'interactive', interactive }));
  } else if (outbound.text && !captionFits) {
    for (const piece of splitText(text, TEXT_LIMIT)) {
      ids.push(
        await sendOne(target, phoneNumberId, to, { type: 'text', text: { body: piece, preview_url: false } }),
      );
    }
  }
  for (const attachment of attachments) {
    const kind = mediaKindOf(attachment.mimeType);
    const media: Record<string, unknown> = { ...(await mediaRefOf(target, phoneNumberId, attachment, io)) };
    if (kind === 'document') media.filename = attachment.name;
    if (captionFits && kind !== 'audio' && kind !== 'sticker') media.caption = text;
    ids.push(await sendOne(target, phoneNumberId, to, { type: kind, [kind]: media }));
    if (captionFits && (kind === 'audio' || kind === 'sticker')) {
      ids.push(
        await sendOne(target, phoneNumberId, to, { type: 'text', text: { body: text, preview_url: false } }),
      );
    }
  }
  return { externalId: ids[0]! };
}

/** A template message: the body's parameters as text, in order (WhatsApp's `components`). */
export function templateBodyOf(template: NonNullable<OutboundMessage['template']>): Record<string, unknown> {
  return {
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      components:
        template.parameters.length > 0
          ? [{ type: 'body', parameters: template.parameters.map((text) => ({ type: 'text', text })) }]
          : [],
    },
  };
}
