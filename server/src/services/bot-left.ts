import type { SessionRow } from '../store/schema';
import { enqueueBotEvent } from './bot-deliveries';
import { armTimer, cancelTimers } from './timers';
import type { UnitOfWork } from './transaction';

const seconds = (now: Date, count: number) => new Date(now.getTime() + count * 1000);

/**
 * A session left its bot (hand-over, transfer, close, whatever caused it; services/sessions calls
 * this for every transition out of `bot`, which already stamped `bot_ended_at` and, for a session
 * that stays open, `waiting_since`). The bot's timer ends; an external bot hears `session.left`;
 * and for an open session the operators' clock starts now (BOT-4): the no-answer wait (AA-3) and
 * the first-answer KPI (KPI-1) count from the hand-over, not from the client's first message.
 */
export async function onBotLeft(
  uow: UnitOfWork,
  before: SessionRow,
  after: SessionRow,
  reason: string,
  now: Date,
): Promise<void> {
  if (before.bot_id) {
    await enqueueBotEvent(uow.tx, {
      accountId: after.account_id,
      botId: before.bot_id,
      sessionId: after.id,
      now,
      event: {
        type: 'session.left',
        session: { id: after.id, dialogId: after.dialog_id, lineId: after.line_id },
        reason,
        status: after.status,
      },
    });
  }
  // Closing cancelled every timer of the session already.
  if (after.closed_at !== null) return;
  await cancelTimers(uow.tx, after.id, ['bot_timeout']);
  const line = await uow.tx
    .selectFrom('lines')
    .select('settings')
    .where('id', '=', after.line_id)
    .executeTakeFirstOrThrow();
  await armTimer(uow.tx, {
    accountId: after.account_id,
    sessionId: after.id,
    kind: 'no_answer',
    dueAt: seconds(now, line.settings.queue.noAnswerTimeSeconds),
  });
  const firstTarget = line.settings.kpi.firstAnswer.targetSeconds;
  if (firstTarget > 0 && after.first_answer_at === null) {
    await armTimer(uow.tx, {
      accountId: after.account_id,
      sessionId: after.id,
      kind: 'kpi_first_answer',
      dueAt: seconds(now, firstTarget),
    });
  }
}
