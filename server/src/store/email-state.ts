import type { Database } from './database';
import { changeState } from './telegram-state';

/**
 * The e-mail worker's durable state per channel, in `channel_state.data`:
 *   mailbox      which mailbox the position belongs to (`imapUser@host:port/folder`)
 *   uidValidity  the folder's UIDVALIDITY; when it changes, UIDs mean other messages, and the
 *                worker starts over from the unseen mail (found stored by Message-ID if taken before)
 *   lastUid      the highest UID committed: written only after that mail is committed, so a restart
 *                neither takes a mail twice nor skips one
 *   lease        which server process reads the mailbox, until when (one reader per mailbox)
 *   lastError    the last failure reading the mailbox, for the administrator; null once it works
 */
export interface EmailState {
  mailbox?: string;
  uidValidity?: string;
  lastUid?: number;
  lease?: { owner: string; until: string };
  lastError?: string | null;
}

const holds = (state: EmailState, owner: string, now: Date) =>
  !state.lease || state.lease.owner === owner || new Date(state.lease.until).getTime() <= now.getTime();

/** Takes (or renews) the mailbox lease; the state when this process holds it, null when another does. */
export function acquireEmailLease(
  db: Database,
  channelId: string,
  owner: string,
  now: Date,
  leaseMs: number,
): Promise<EmailState | null> {
  return changeState<EmailState>(db, channelId, now, (state) =>
    holds(state, owner, now)
      ? { ...state, lease: { owner, until: new Date(now.getTime() + leaseMs).toISOString() } }
      : null,
  );
}

export async function releaseEmailLease(
  db: Database,
  channelId: string,
  owner: string,
  now: Date,
): Promise<void> {
  await changeState<EmailState>(db, channelId, now, (state) => {
    if (state.lease?.owner !== owner) return null;
    const { lease: _lease, ...rest } = state;
    return rest;
  });
}

/** Saves the position (and the error state) while this process holds the lease; false when it lost it. */
export async function saveEmailProgress(
  db: Database,
  channelId: string,
  owner: string,
  now: Date,
  progress: Pick<EmailState, 'mailbox' | 'uidValidity' | 'lastUid' | 'lastError'>,
): Promise<boolean> {
  const saved = await changeState<EmailState>(db, channelId, now, (state) =>
    holds(state, owner, now) ? { ...state, ...progress } : null,
  );
  return saved !== null;
}

export async function loadEmailState(db: Database, channelId: string): Promise<EmailState> {
  const row = await db
    .selectFrom('channel_state')
    .select('data')
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return (row?.data as EmailState | undefined) ?? {};
}
