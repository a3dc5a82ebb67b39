import type { User } from '@openlines/contract';

// Mentions of colleagues in private notes (issue 19): typing "@" and a part of a name offers the
// colleagues it matches; the note sends the ids of those whose "@Name" is still in its text.

/** The "@…" being typed just before the caret (at the start or after a space), or null. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return null;
  return { start: before.length - match[2]!.length - 1, query: match[2]! };
}

/** Active colleagues (not me) whose name contains the query, names starting with it first. */
export function searchColleagues(users: readonly User[], query: string, me: string, limit = 8): User[] {
  const needle = query.toLocaleLowerCase();
  const found = users.filter(
    (user) => user.active && user.id !== me && user.name.toLocaleLowerCase().includes(needle),
  );
  const starts = (user: User) => user.name.toLocaleLowerCase().startsWith(needle);
  return [...found.filter(starts), ...found.filter((user) => !starts(user))].slice(0, limit);
}

/** The ids of the picked colleagues whose "@Name" the text still holds, each once. */
export function mentionedIds(text: string, picked: readonly { id: string; name: string }[]): string[] {
  const ids: string[] = [];
  for (const { id, name } of picked) {
    if (!ids.includes(id) && text.includes(`@${name}`)) ids.push(id);
  }
  return ids;
}
