import { randomUUID } from 'node:crypto';
import type { BotEventType } from '@openlines/contract';
import { sql } from 'kysely';
import type { Tx } from './transaction';

/**
 * Events to external bots (BOT-2), queued in the transaction that causes them and delivered after
 * commit by workers/bot-deliveries as signed POSTs (delivery/signed-post). One row per event; a
 * built-in bot never gets a row (the statement inserts only for an external bot).
 */
export interface BotEvent {
  /** The delivery id (X-Openlines-Delivery): a retry carries the same one. */
  id: string;
  /**
   * The bot API's event types, and the two a bot registered through the Bitrix24-compatible REST
   * may ask for besides (enqueueClientMessageChange): the client edited or deleted a message.
   */
  type: BotEventType | 'message.edited' | 'message.deleted';
  createdAt: string;
  botId: string;
  session: { id: string; dialogId: string; lineId: string; channelKind?: string };
  client?: { id: string; name: string };
  message?: { id: string; text: string | null; attachments: unknown[] } | null;
  /** session.left: why the bot no longer holds the session, and the session's status now. */
  reason?: string;
  status?: string;
}

/** Queues an event for the bot when it is an external one; one statement either way. */
export async function enqueueBotEvent(
  tx: Tx,
  input: {
    accountId: string;
    botId: string;
    sessionId: string;
    now: Date;
    event: Omit<BotEvent, 'id' | 'createdAt' | 'botId'>;
  },
): Promise<void> {
  const event: BotEvent = {
    id: randomUUID(),
    createdAt: input.now.toISOString(),
    botId: input.botId,
    ...input.event,
  };
  await sql`insert into bot_deliveries (account_id, bot_id, session_id, payload, next_attempt_at)
    select ${input.accountId}::uuid, id, ${input.sessionId}::uuid, ${JSON.stringify(event)}::jsonb, ${input.now}::timestamptz
    from bots where id = ${input.botId}::uuid and kind = 'external'`.execute(tx);
}

/**
 * The client edited or deleted a message of a session a bot holds: queued for the bot only when it
 * was registered through the Bitrix24-compatible REST with EVENT_MESSAGE_UPDATE / _DELETE
 * (ONIMBOTMESSAGEUPDATE / …DELETE); the bot API has no such event. One statement, inserting
 * nothing when no bot holds the session or the bot did not ask.
 */
export async function enqueueClientMessageChange(
  tx: Tx,
  input: {
    sessionId: string | null;
    kind: 'edited' | 'deleted';
    message: { id: string; text: string | null };
    now: Date;
  },
): Promise<void> {
  if (!input.sessionId) return;
  const event = {
    id: randomUUID(),
    type: input.kind === 'edited' ? 'message.edited' : 'message.deleted',
    createdAt: input.now.toISOString(),
    message: {
      id: input.message.id,
      text: input.kind === 'edited' ? input.message.text : null,
      attachments: [],
    },
  };
  const handler = input.kind === 'edited' ? 'messageUpdate' : 'messageDelete';
  await sql`insert into bot_deliveries (account_id, bot_id, session_id, payload, next_attempt_at)
    select s.account_id, s.bot_id, s.id,
      ${JSON.stringify(event)}::jsonb || jsonb_build_object('botId', s.bot_id,
        'session', jsonb_build_object('id', s.id, 'dialogId', s.dialog_id, 'lineId', s.line_id)),
      ${input.now}::timestamptz
    from sessions s join bitrix_bots b on b.bot_id = s.bot_id
    where s.id = ${input.sessionId}::uuid and s.status = 'bot'
      and coalesce(b.handlers ->> ${handler}, '') <> ''`.execute(tx);
}
