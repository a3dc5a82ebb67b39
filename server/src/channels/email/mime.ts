import { htmlToText } from 'html-to-text';
import { type AddressObject, type HeaderValue, simpleParser } from 'mailparser';

/**
 * One received mail as the IMAP worker hands it to the generic inbound path (`receiveDelivery`):
 * plain JSON, parsed here with `mailparser` from the raw RFC 5322 source. Attachments travel with
 * it (mail carries its files inline), base64-encoded, and are stored by `fetchFile`.
 */
export interface EmailPayload {
  /** The mailbox's UIDVALIDITY and the message's UID: the fallback external id. */
  uidValidity: string;
  uid: number;
  /** `Message-ID` with its angle brackets, when the mail has one. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: { address: string; name: string } | null;
  subject: string;
  /** The plain text (HTML-only mail converted to text by mailparser), quoted replies trimmed. */
  text: string;
  /** Why the mail is automatic (an auto-reply, a bounce, a bulk mail); null for a person's mail. */
  automatic: string | null;
  attachments: { name: string; mimeType: string; size: number; data: string }[];
}

export async function parseMail(
  source: Buffer,
  at: { uidValidity: string; uid: number },
): Promise<EmailPayload> {
  const mail = await simpleParser(source, { skipImageLinks: true, skipTextToHtml: true });
  const from = firstAddress(mail.from);
  const references =
    mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : [mail.references];
  return {
    uidValidity: at.uidValidity,
    uid: at.uid,
    messageId: mail.messageId ?? null,
    inReplyTo: mail.inReplyTo ?? null,
    references,
    from,
    subject: (mail.subject ?? '').trim(),
    text: trimQuoted(
      mail.text?.trim() ? mail.text : typeof mail.html === 'string' ? textOfHtml(mail.html) : '',
    ),
    automatic: automaticReason(
      mail.headers,
      // A part of broken mail can come without a type (issue 20: the fuzzed MIME found it).
      mail.attachments.map((a) => (typeof a.contentType === 'string' ? a.contentType : '')),
      from?.address ?? '',
    ),
    attachments: mail.attachments
      .filter((a) => a.contentDisposition !== 'inline' || !a.contentId || !a.related)
      .map((a, index) => ({
        name: a.filename ?? `attachment-${index + 1}`,
        mimeType: a.contentType || 'application/octet-stream',
        size: a.size,
        data: a.content.toString('base64'),
      })),
  };
}

/**
 * HTML as plain text (html-to-text, the converter mailparser itself uses, which leaves out scripts
 * and styles), for HTML-only mail that mailparser does not convert (HTML beside attachments).
 */
function textOfHtml(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  });
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): EmailPayload['from'] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const group of list) {
    for (const entry of group.value) {
      if (entry.address) return { address: entry.address.toLowerCase(), name: entry.name ?? '' };
    }
  }
  return null;
}

const headerText = (value: HeaderValue | undefined): string => {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'value' in value) return String(value.value);
  return String(value);
};

/**
 * Why a mail was sent by a program rather than a person, so it is never answered (two
 * auto-responders must not loop): RFC 3834 `Auto-Submitted` other than `no`, `Precedence:
 * bulk/junk/list`, the common auto-responder headers, delivery status notifications (RFC 3464,
 * `multipart/report` or a `message/delivery-status` part), and mail from MAILER-DAEMON/postmaster.
 */
export function automaticReason(
  headers: Map<string, HeaderValue>,
  partTypes: string[],
  fromAddress: string,
): string | null {
  const autoSubmitted = headerText(headers.get('auto-submitted')).trim().toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = headerText(headers.get('precedence')).trim().toLowerCase();
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-auto-reply']) {
    if (headers.has(name)) return name;
  }
  const contentType = headers.get('content-type');
  const type = headerText(contentType).toLowerCase();
  if (type.startsWith('multipart/report')) return 'delivery status notification';
  if (partTypes.some((t) => t.toLowerCase() === 'message/delivery-status'))
    return 'delivery status notification';
  const local = fromAddress.split('@')[0]?.toLowerCase() ?? '';
  if (local === 'mailer-daemon' || local === 'postmaster') return `from ${local}`;
  return null;
}

/**
 * The new part of a reply: the quoted original (a trailing block of `>` lines, with the
 * "On …, … wrote:" line before it) and a signature after the standard `-- ` delimiter are cut.
 */
export function trimQuoted(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const signature = lines.indexOf('-- ');
  const kept = signature >= 0 ? lines.slice(0, signature) : lines;
  let end = kept.length;
  while (end > 0 && (kept[end - 1]?.trim() === '' || kept[end - 1]?.startsWith('>'))) end--;
  if (end < kept.length && end > 0 && /wrote:\s*$|писал[аи]?:\s*$/i.test(kept[end - 1] ?? '')) end--;
  const trimmed = kept.slice(0, end).join('\n').trim();
  return trimmed || text.trim();
}

/** A person's mail that answers no other mail: it starts a new thread (and a new session). */
export function startsThread(mail: EmailPayload): boolean {
  return mail.from !== null && !mail.automatic && !mail.inReplyTo && mail.references.length === 0;
}

/** The subject of a reply: the original's with one `Re: ` in front. */
export function replySubject(subject: string): string {
  const bare = subject.replace(/^\s*((re|fwd?|aw|ответ)\s*(\[\d+\])?\s*:\s*)+/i, '').trim();
  return `Re: ${bare || '(no subject)'}`;
}
