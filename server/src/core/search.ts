/**
 * Full-text search through message history (OP-1). Every word an operator types is matched as a
 * stemmed prefix, all of them required: "заказы дост" finds "Заказ ещё не доставлен". The
 * `russian` text-search configuration stems Cyrillic words with the Russian stemmer and Latin
 * ones with the English stemmer, so one index serves both languages.
 */
export const SEARCH_CONFIG = 'russian';

/** More words than this add little to the match and much to the query; the rest are ignored. */
export const MAX_SEARCH_WORDS = 8;

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The `to_tsquery` text for what was typed: letters and digits only (so the text can never be
 * tsquery syntax), each word a prefix, all words required. Null when nothing searchable is left.
 */
export function prefixQuery(typed: string): string | null {
  const words = (typed.normalize('NFC').match(WORD) ?? []).slice(0, MAX_SEARCH_WORDS);
  if (words.length === 0) return null;
  return words.map((word) => `'${word.toLowerCase()}':*`).join(' & ');
}

/** A piece of a matching message: the words that matched are marked. */
export interface SearchFragment {
  text: string;
  hit: boolean;
}

/**
 * ts_headline marks hits with these two private-use characters; they are removed from the text
 * before it is highlighted, so a message cannot forge a mark.
 */
export const HIT_START = '\uE000';
export const HIT_END = '\uE001';

/** Splits a headline into plain and matched fragments (adjacent marks merge, empty ones drop). */
export function splitHeadline(headline: string): SearchFragment[] {
  const fragments: SearchFragment[] = [];
  let rest = headline;
  while (rest.length > 0) {
    const start = rest.indexOf(HIT_START);
    if (start === -1) {
      push(fragments, rest, false);
      break;
    }
    push(fragments, rest.slice(0, start), false);
    const end = rest.indexOf(HIT_END, start + 1);
    const hit = end === -1 ? rest.slice(start + 1) : rest.slice(start + 1, end);
    push(fragments, hit, true);
    rest = end === -1 ? '' : rest.slice(end + 1);
  }
  return fragments;
}

function push(fragments: SearchFragment[], text: string, hit: boolean): void {
  const clean = text.replaceAll(HIT_START, '').replaceAll(HIT_END, '');
  if (!clean) return;
  const last = fragments.at(-1);
  if (last && last.hit === hit) last.text += clean;
  else fragments.push({ text: clean, hit });
}
