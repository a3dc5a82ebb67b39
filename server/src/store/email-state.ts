import { changeState, holdsLease, type Lease } from './channel-state';
import type { Database } from './database';

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
  lease?: Lease;
  lastError?: string | null;
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
    holdsLease(state, owner, now) ? { ...state, ...progress } : null,
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
