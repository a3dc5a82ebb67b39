import { createHash } from 'node:crypto';
import type { Attachment } from '@openlines/contract';
import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import { signatureOf, splitText, withOptionsInText } from '../text';
import type { OutboundMessage } from '../types';
import { callVk, uploadToVk, type VkCall } from './api';
import { apiBaseOf, type VkChannelSettings } from './settings';

/**
 * Operators' messages to VK (https://dev.vk.com/en/method/messages.send), one outbox row at a time:
 *   text         plain text (VK has no markup), the operator's name on the first line (Q-8), split
 *                into pieces of TEXT_LIMIT characters
 *   files        our stored attachments go through VK's upload-server flow: photos (JPEG, PNG, GIF)
 *                photos.getMessagesUploadServer → POST → photos.saveMessagesPhoto, anything else
 *                docs.getMessagesUploadServer → POST → docs.save; a file we do not hold goes as a link
 *   quick replies a one-time keyboard whose buttons carry `{"reply": …}` as payload (inbound.ts)
 * Each piece's `random_id` is derived from the outbox row's message id and the piece's index, so it
 * is the same on every attempt of that row: VK answers a repeated random_id with the message it
 * already sent, and a retry (after a timeout, a crash between VK's answer and our commit) never
 * shows the client a message twice.
 */

export const TEXT_LIMIT = 9000;
const LABEL_LIMIT = 40;
const PAYLOAD_LIMIT = 255;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif']);

/** A stable random_id in VK's int64 range (48 bits, so it stays a safe JS integer). */
export function randomIdOf(messageId: string, piece: number): number {
  return createHash('sha256').update(`${messageId}:${piece}`).digest().readUIntBE(0, 6);
}

export function textPiecesOf(outbound: OutboundMessage, links: string[] = []): string[] {
  const body = [outbound.text ?? '', ...links].filter(Boolean).join('\n');
  const name = signatureOf(outbound);
  const header = name ? `${name}:\n` : '';
  if (!body) return [];
  const pieces = splitText(body, TEXT_LIMIT - header.length);
  return pieces.map((piece, index) => (index === 0 ? header + piece : piece));
}

/** Quick replies → a one-time keyboard; none when a label or reply does not fit VK's limits. */
export function keyboardOf(quickReplies: OutboundMessage['quickReplies']): string | undefined {
  if (!quickReplies || quickReplies.length === 0) return undefined;
  const buttons = quickReplies.map((q) => ({
    action: { type: 'text', label: q.title, payload: JSON.stringify({ reply: q.reply }) },
    color: 'secondary',
  }));
  const fits = buttons.every(
    (b) =>
      b.action.label.length >= 1 &&
      b.action.label.length <= LABEL_LIMIT &&
      b.action.payload.length <= PAYLOAD_LIMIT,
  );
  if (!fits) return undefined;
  const rows = buttons.length <= 3 ? [buttons] : buttons.map((button) => [button]);
  return JSON.stringify({ one_time: true, buttons: rows });
}

async function uploadAttachment(
  call: VkCall,
  peerId: string,
  attachment: Attachment,
  data: Buffer,
  timeoutMs: number,
): Promise<string> {
  const file = { data, name: attachment.name, mimeType: attachment.mimeType };
  if (PHOTO_TYPES.has(attachment.mimeType.toLowerCase())) {
    const server = await callVk<{ upload_url: string }>(call, 'photos.getMessagesUploadServer', {
      peer_id: peerId,
    });
    const uploaded = await uploadToVk(server.upload_url, 'photo', file, timeoutMs);
    const saved = await callVk<{ id: number; owner_id: number; access_key?: string }[]>(
      call,
      'photos.saveMessagesPhoto',
      {
        photo: String(uploaded.photo ?? ''),
        server: String(uploaded.server ?? ''),
        hash: String(uploaded.hash ?? ''),
      },
    );
    const photo = saved[0];
    if (!photo) throw new ConnectorError('temporary', 'VK saved no photo');
    return `photo${photo.owner_id}_${photo.id}${photo.access_key ? `_${photo.access_key}` : ''}`;
  }
  const server = await callVk<{ upload_url: string }>(call, 'docs.getMessagesUploadServer', {
    type: 'doc',
    peer_id: peerId,
  });
  const uploaded = await uploadToVk(server.upload_url, 'file', file, timeoutMs);
  const saved = await callVk<{ type: string; doc?: { id: number; owner_id: number } }>(call, 'docs.save', {
    file: String(uploaded.file ?? ''),
    title: attachment.name,
  });
  if (!saved.doc) throw new ConnectorError('temporary', 'VK saved no document');
  return `doc${saved.doc.owner_id}_${saved.doc.id}`;
}

export async function sendToVk(
  channel: ChannelRuntime<VkChannelSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const token = channel.secrets.accessToken;
  if (!token)
    throw new ConnectorError(
      'auth_revoked',
      'The channel has no community access token; paste it in the settings',
    );
  const call: VkCall = { base: apiBaseOf(channel.settings), token, timeoutMs: io.timeoutMs };
  const peerId = outbound.recipientId;

  const uploaded: string[] = [];
  const links: string[] = [];
  for (const attachment of outbound.attachments) {
    const data = (await io.readAttachment?.(attachment)) ?? null;
    if (data) uploaded.push(await uploadAttachment(call, peerId, attachment, data, io.timeoutMs));
    else links.push(attachment.url);
  }
  const keyboard = keyboardOf(outbound.quickReplies);
  // Options a keyboard cannot carry (long labels) are numbered lines of the text instead.
  const pieces = textPiecesOf(keyboard ? outbound : withOptionsInText(outbound), links);
  if (pieces.length === 0 && uploaded.length === 0) {
    throw new ConnectorError('invalid_payload', 'The message has neither text nor files');
  }
  const count = Math.max(pieces.length, 1);
  let lastId: number | undefined;
  for (let index = 0; index < count; index++) {
    const last = index === count - 1;
    lastId = await callVk<number>(call, 'messages.send', {
      peer_id: peerId,
      random_id: randomIdOf(outbound.messageId, index),
      message: pieces[index],
      attachment: last && uploaded.length > 0 ? uploaded.join(',') : undefined,
      keyboard: last ? keyboard : undefined,
      dont_parse_links: 1,
    });
  }
  return lastId === undefined ? {} : { externalId: `${peerId}:${lastId}` };
}
