import type { ChannelRow, DialogRow, LineRow, SessionRow } from '../../store/schema';
import type { Tx } from '../transaction';

/** The client's dialog on a channel's line, with its latest session: what a widget or messenger reply acts on. */
export async function clientDialogOn(
  tx: Tx,
  channel: ChannelRow,
  clientExternalId: string,
): Promise<{ dialog: DialogRow; line: LineRow; session: SessionRow | null } | null> {
  if (!channel.line_id) return null;
  const identity = await tx
    .selectFrom('client_identities')
    .select('client_id')
    .where('channel_id', '=', channel.id)
    .where('external_id', '=', clientExternalId)
    .executeTakeFirst();
  if (!identity) return null;
  const dialog = await tx
    .selectFrom('dialogs')
    .selectAll()
    .where('line_id', '=', channel.line_id)
    .where('channel_id', '=', channel.id)
    .where('client_id', '=', identity.client_id)
    .executeTakeFirst();
  if (!dialog) return null;
  const line = await tx
    .selectFrom('lines')
    .selectAll()
    .where('id', '=', dialog.line_id)
    .executeTakeFirstOrThrow();
  const session = await latestSession(tx, dialog.id);
  return { dialog, line, session };
}

export async function latestSession(tx: Tx, dialogId: string): Promise<SessionRow | null> {
  return (
    (await tx
      .selectFrom('sessions')
      .selectAll()
      .where('dialog_id', '=', dialogId)
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()) ?? null
  );
}
