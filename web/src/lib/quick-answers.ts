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

/**
 * The quick answers a dialog of a line offers: the shared and personal ones of every line, and
 * those kept for this line (the server's rule for `?lineId=`, applied to the list the workspace
 * holds so one list serves every dialog).
 */
export function answersForLine(answers: readonly QuickAnswer[], lineId: string): QuickAnswer[] {
  return answers.filter((answer) => answer.lineId === null || answer.lineId === lineId);
}
