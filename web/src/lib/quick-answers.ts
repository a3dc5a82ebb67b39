import type { QuickAnswer } from '@openlines/contract';

/** The `/word` being typed at the caret, which searches the quick answers (AA-7). */
export function quickQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([^\s/]*)$/.exec(before);
  if (!match) return null;
  return { start: before.length - match[2]!.length - 1, query: match[2]! };
}

export function searchQuickAnswers(answers: readonly QuickAnswer[], query: string, limit = 8): QuickAnswer[] {
  const needle = query.toLowerCase();
  const byTitle = answers.filter((a) => a.title.toLowerCase().includes(needle));
  const byText = answers.filter((a) => !byTitle.includes(a) && a.text.toLowerCase().includes(needle));
  return [...byTitle, ...byText].slice(0, limit);
}
