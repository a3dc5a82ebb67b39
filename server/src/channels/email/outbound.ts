import type { Attachment } from '@openlines/contract';
import { type ChannelRuntime, ConnectorError, type ConnectorIo, type SendResult } from '../connector';
import { withNumberedOptions } from '../text';
import type { OutboundMessage } from '../types';
import { replySubject } from './mime';
import type { EmailPublicSettings } from './settings';
import { connectorErrorOfSmtp, smtpTransport } from './transport';

/** Our Message-ID for an outbound message: stable per message, so a retried send is one mail. */
export function outboundMessageId(messageId: string, fromAddress: string): string {
  const domain = fromAddress.split('@')[1] || 'openlines.invalid';
  return `<${messageId}@${domain}>`;
}

/**
 * One outbound message as a reply mail over SMTP (nodemailer): to the client's address, from the
 * channel's address and name (with the operator's shown name in front, per the line's operator
 * data), `Re: <subject>` of the client's mail it answers, with `In-Reply-To`/`References` naming
 * that mail, and the attachments Openlines stores. Automatic texts carry `Auto-Submitted:
 * auto-replied` (RFC 3834), so the client's own auto-responder does not answer them.
 */
export async function sendEmail(
  channel: ChannelRuntime<EmailPublicSettings>,
  outbound: OutboundMessage,
  io: ConnectorIo,
): Promise<SendResult> {
  const settings = channel.settings;
  const imapPassword = channel.secrets.imapPassword ?? '';
  const answering = (await io.answering?.()) ?? null;
  const parentId = answering?.externalId?.startsWith('<') ? answering.externalId : null;
  const subject = answering?.text
    ? replySubject(answering.text.split('\n', 1)[0] ?? '')
    : `Message from ${settings.fromName ?? settings.fromAddress}`;
  const attachments = await Promise.all(outbound.attachments.map((a) => attachmentOf(a, io)));
  const fromName = [outbound.authorName, settings.fromName].filter(Boolean).join(' — ');
  const messageId = outboundMessageId(outbound.messageId, settings.fromAddress);
  const transport = smtpTransport(
    { settings, imapPassword, smtpPassword: channel.secrets.smtpPassword },
    io.timeoutMs,
  );
  try {
    await transport.sendMail({
      from: fromName ? { name: fromName, address: settings.fromAddress } : settings.fromAddress,
      to: outbound.recipientId,
      subject,
      // Mail has no buttons: a bot's options (and the rating's 1/0) are numbered lines to answer with.
      text: withNumberedOptions(outbound.text, outbound.quickReplies) ?? '',
      messageId,
      ...(parentId ? { inReplyTo: parentId, references: [parentId] } : {}),
      ...(outbound.authorKind === 'operator' ? {} : { headers: { 'Auto-Submitted': 'auto-replied' } }),
      attachments,
    });
  } catch (error) {
    throw connectorErrorOfSmtp(error);
  } finally {
    transport.close();
  }
  return { externalId: messageId };
}

async function attachmentOf(attachment: Attachment, io: ConnectorIo) {
  const bytes = (await io.readAttachment?.(attachment)) ?? null;
  if (bytes) return { filename: attachment.name, contentType: attachment.mimeType, content: bytes };
  if (!/^https?:\/\//.test(attachment.url)) {
    throw new ConnectorError('invalid_payload', `The attachment ${attachment.name} cannot be read`);
  }
  // A file we do not store ourselves is linked, not fetched by the mail server.
  return { filename: `${attachment.name}.url`, contentType: 'text/plain', content: attachment.url };
}
