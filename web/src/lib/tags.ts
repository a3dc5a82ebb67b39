import { DialogTag, DialogTagsBody } from '@openlines/contract';

/** The contract's limits on a dialog's labels (issue 19), said to the operator before they save. */
export const TAG_MAX_LENGTH = DialogTag.maxLength ?? 40;
export const TAGS_MAX = DialogTagsBody.properties.tags.maxItems ?? 20;

export type TagProblem = 'empty' | 'tooLong' | 'tooMany' | 'duplicate';

/**
 * Adds a typed label to a dialog's labels as the server will keep them: trimmed, once, in name
 * order. A label the server would refuse is not added; the reason is returned instead.
 */
export function addTag(
  tags: readonly string[],
  input: string,
): { tags: string[]; problem: null } | { tags: readonly string[]; problem: TagProblem } {
  const tag = input.trim();
  if (!tag) return { tags, problem: 'empty' };
  if (tag.length > TAG_MAX_LENGTH) return { tags, problem: 'tooLong' };
  if (tags.includes(tag)) return { tags, problem: 'duplicate' };
  if (tags.length >= TAGS_MAX) return { tags, problem: 'tooMany' };
  return { tags: sortTags([...tags, tag]), problem: null };
}

/** Name order, as the server sorts them (services/operator-actions). */
export function sortTags(tags: readonly string[]): string[] {
  return [...tags].sort((a, b) => a.localeCompare(b));
}

/** Every label on the dialogs at hand, for the list's tag filter, in name order. */
export function knownTags(dialogs: Iterable<{ tags: readonly string[] }>): string[] {
  const all = new Set<string>();
  for (const dialog of dialogs) for (const tag of dialog.tags) all.add(tag);
  return sortTags([...all]);
}
