import type { LineSettings } from '@openlines/contract';

/** How an operator (or a bot) is shown to clients: a name and a photo, each possibly none. */
export interface ShownOperator {
  name: string | null;
  avatarUrl: string | null;
}

/** The operator's profile as far as Q-8 needs it: their name and photo, and the client-facing ones. */
export interface OperatorProfile {
  name: string;
  avatar_url: string | null;
  client_name: string | null;
  client_avatar_url: string | null;
}

/** The columns of `users` that `OperatorProfile` is read from, for the queries that read it. */
export const OPERATOR_PROFILE_COLUMNS = ['name', 'avatar_url', 'client_name', 'client_avatar_url'] as const;

/**
 * Q-8 as a rule: line mode `hidden` shows nobody, `replaced` the line's replacement, `profile` the
 * operator's own client-facing name and photo where set, else their profile's (each on its own).
 * Null: the line shows the operator's profile, whose row the caller has yet to read.
 */
export function shownByLine(settings: LineSettings | undefined): ShownOperator | null {
  const data = settings?.queue.operatorData;
  if (!data || data.mode === 'hidden') return { name: null, avatarUrl: null };
  if (data.mode === 'replaced')
    return { name: data.replacementName || null, avatarUrl: data.replacementAvatarUrl || null };
  return null;
}

/** The operator as clients see them, from their profile already at hand. */
export function operatorShownAs(
  settings: LineSettings | undefined,
  profile: OperatorProfile | undefined,
): ShownOperator {
  return (
    shownByLine(settings) ?? {
      name: profile?.client_name || profile?.name || null,
      avatarUrl: profile?.client_avatar_url || profile?.avatar_url || null,
    }
  );
}
