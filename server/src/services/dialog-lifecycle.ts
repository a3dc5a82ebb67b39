import { sql } from 'kysely';
import { dialogEventKinds, findConnector } from '../channels/registry';
import type { OutboxChannelEvent, OutboxDialogEvent } from '../channels/types';
import type { SessionRow } from '../store/schema';
import { activeTraceparent } from '../tracing';
import type { Tx } from './transaction';

/**
 * A session's start and end, told to the channels that want to hear it (a connector with
 * `sendDialogEvent`: the Bitrix24-compatible connector's OnImConnectorDialogStart / Finish). The
 * event is an outbox row of the transaction that starts or closes the session, so it goes out after
 * commit, retried like a message, in order with the dialog's messages. Channels without the hook
 * pay nothing at a start (the kind is known there) and one statement that inserts nothing at a close.
 */

export function wantsDialogEvents(kind: string): boolean {
  return findConnector(kind)?.sendDialogEvent !== undefined;
}

/** What a channel is told of a session's start (session-start writes it with the first message). */
export function dialogStartPayload(dialogId: string, sessionId: string): OutboxDialogEvent {
  return { kind: 'dialog_start', dialogId, sessionId };
}

/** Queues a session's start when the dialog's channel kind wants it (the caller knows the kind). */
export async function queueDialogStart(
  tx: Tx,
  channel: { id: string; kind: string },
  session: Pick<SessionRow, 'id' | 'account_id' | 'dialog_id'>,
  now: Date,
): Promise<void> {
  if (!wantsDialogEvents(channel.kind)) return;
  await tx
    .insertInto('outbox')
    .values({
      account_id: session.account_id,
      channel_id: channel.id,
      message_id: null,
      payload: JSON.stringify(dialogStartPayload(session.dialog_id, session.id)),
      next_attempt_at: now,
      trace_parent: activeTraceparent(),
    })
    .execute();
}

/**
 * Queues the end of these channels (disconnected, or their line deleted) for those whose kind
 * wants to hear it (`sendChannelEvent`): one statement, none when no channel's kind does.
 */
export async function queueChannelEvents(
  tx: Tx,
  channels: { id: string; kind: string; account_id: string }[],
  kind: OutboxChannelEvent['kind'],
  now: Date,
): Promise<void> {
  const wanting = channels.filter((channel) => findConnector(channel.kind)?.sendChannelEvent !== undefined);
  if (wanting.length === 0) return;
  const payload: OutboxChannelEvent = { kind };
  await tx
    .insertInto('outbox')
    .values(
      wanting.map((channel) => ({
        account_id: channel.account_id,
        channel_id: channel.id,
        message_id: null,
        payload: JSON.stringify(payload),
        next_attempt_at: now,
        trace_parent: activeTraceparent(),
      })),
    )
    .execute();
}

/** Queues a session's end for its dialog's channel, if that channel's kind wants it: one statement. */
export async function queueDialogFinish(
  tx: Tx,
  session: Pick<SessionRow, 'id' | 'dialog_id'>,
  now: Date,
): Promise<void> {
  const kinds = dialogEventKinds();
  if (kinds.length === 0) return;
  const payload: OutboxDialogEvent = {
    kind: 'dialog_finish',
    dialogId: session.dialog_id,
    sessionId: session.id,
  };
  await tx
    .insertInto('outbox')
    .columns(['account_id', 'channel_id', 'message_id', 'payload', 'next_attempt_at', 'trace_parent'])
    .expression((eb) =>
      eb
        .selectFrom('dialogs')
        .innerJoin('channels', 'channels.id', 'dialogs.channel_id')
        .select([
          'dialogs.account_id',
          'dialogs.channel_id',
          sql<string | null>`null::uuid`.as('message_id'),
          sql<string>`${JSON.stringify(payload)}::jsonb`.as('payload'),
          sql<Date>`${now}::timestamptz`.as('next_attempt_at'),
          sql<string | null>`${activeTraceparent()}::text`.as('trace_parent'),
        ])
        .where('dialogs.id', '=', session.dialog_id)
        .where('channels.kind', 'in', kinds),
    )
    .execute();
}
