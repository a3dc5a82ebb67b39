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
  type: BotEventType;
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
