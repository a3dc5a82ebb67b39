import type { MessageEntity } from '@grammyjs/types';

/**
 * Telegram's parse_mode HTML, as the Bot API documents it (https://core.telegram.org/bots/api#html-style):
 * the supported tags become entities; every `<` and `&` that is not part of a tag or of one of the
 * entities &lt; &gt; &amp; &quot; &#NNN; &#xHHH; is an error ("can't parse entities"), as is an
 * unknown or unclosed tag. Offsets and lengths are in UTF-16 code units, like Telegram's.
 */
const TAGS: Record<string, MessageEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export function parseTelegramHtml(
  html: string,
): { text: string; entities: MessageEntity[] } | { error: string } {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: { name: string; offset: number; attrs: string }[] = [];
  let i = 0;
  const byteOffset = (index: number) => Buffer.byteLength(html.slice(0, index), 'utf8');
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '<') {
      const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)>/.exec(html.slice(i));
      if (!tag) return { error: `Unsupported start tag "" at byte offset ${byteOffset(i)}` };
      const [whole, closing, rawName, attrs] = tag as unknown as [string, string, string, string];
      const name = rawName.toLowerCase();
      if (!(name in TAGS))
        return { error: `Unsupported start tag "${name}" at byte offset ${byteOffset(i)}` };
      if (name === 'span' && !closing && !/class\s*=\s*"tg-spoiler"/.test(attrs)) {
        return { error: `Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(i)}` };
      }
      if (closing) {
        const top = open.pop();
        if (!top || top.name !== name) return { error: `Unexpected end tag at byte offset ${byteOffset(i)}` };
        const length = text.length - top.offset;
        if (length > 0) {
          const type = TAGS[name]!;
          const entity = { type, offset: top.offset, length } as MessageEntity;
          if (type === 'text_link') {
            const href = /href\s*=\s*"([^"]*)"/.exec(top.attrs)?.[1] ?? '';
            (entity as { url?: string }).url = href;
          }
          entities.push(entity);
        }
      } else {
        open.push({ name, offset: text.length, attrs });
      }
      i += whole.length;
      continue;
    }
    if (ch === '&') {
      const entity = /^&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});/.exec(html.slice(i));
      if (!entity)
        return { error: `Character '&' is reserved and must be escaped at byte offset ${byteOffset(i)}` };
      const value = entity[1]!;
      text += value.startsWith('#x')
        ? String.fromCodePoint(Number.parseInt(value.slice(2), 16))
        : value.startsWith('#')
          ? String.fromCodePoint(Number(value.slice(1)))
          : NAMED[value]!;
      i += entity[0].length;
      continue;
    }
    text += ch;
    i++;
  }
  if (open.length > 0)
    return { error: `Can't find end tag corresponding to start tag "${open[open.length - 1]!.name}"` };
  return { text, entities: entities.sort((a, b) => a.offset - b.offset) };
}
