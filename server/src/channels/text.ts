import type { OutboundMessage } from './types';

/**
 * Splits text into pieces of at most `limit` code units, preferring line breaks, then spaces,
 * and never cutting a surrogate pair.
 */
export function splitText(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf('\n', limit);
    if (cut < limit / 2) cut = rest.lastIndexOf(' ', limit);
    if (cut < limit / 2) cut = limit;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

/**
 * The name a message is signed with in channels that show it in the text (Telegram, WhatsApp, VK,
 * Meta): an operator's shown name or a bot's name; automatic texts are signed by nobody.
 */
export function signatureOf(outbound: Pick<OutboundMessage, 'authorKind' | 'authorName'>): string | null {
  if (outbound.authorKind === 'system' || !outbound.authorName) return null;
  return outbound.authorName;
}

type QuickReplies = NonNullable<OutboundMessage['quickReplies']>;

/**
 * What the client types to pick an option in a channel without buttons: the option's reply when
 * that is a short number (the rating's 1 and 0), else its position from 1 (a bot's buttons, which
 * core/bots matchOption reads back by position).
 */
export function optionKey(option: QuickReplies[number], index: number): string {
  return /^\d{1,2}$/.test(option.reply) ? option.reply : String(index + 1);
}

/**
 * The text with its quick replies as numbered lines under it ("1. Delivery"), for a channel that
 * cannot show them as buttons; the text as it is when there are none.
 */
export function withNumberedOptions(
  text: string | null,
  quickReplies: OutboundMessage['quickReplies'],
): string | null {
  if (!quickReplies || quickReplies.length === 0) return text;
  const lines = quickReplies.map((option, index) => `${optionKey(option, index)}. ${option.title}`);
  return [text, lines.join('\n')].filter((part) => part && part.length > 0).join('\n\n');
}

/** The message with its quick replies written into the text, for when the channel cannot show them. */
export function withOptionsInText(outbound: OutboundMessage): OutboundMessage {
  if (!outbound.quickReplies || outbound.quickReplies.length === 0) return outbound;
  const { quickReplies, ...rest } = outbound;
  return { ...rest, text: withNumberedOptions(outbound.text, quickReplies) };
}
