import { isOpen } from '@openlines/contract';
import type { AppContext } from '../../context';
import { automaticText } from '../../core/automation';
import type { SessionRow } from '../../store/schema';
import { noAnswerBotTakes } from '../bot-sessions';
import { touchDialog } from '../dialog-events';
import { lineQueue, redelegateLine } from '../routing';
import { applySessionAction, SYSTEM } from '../sessions';
import type { UnitOfWork } from '../transaction';
import { notifyUsers, onSessionClosed, requestRating, systemMessage } from './hooks';
import { serverText } from './texts';

/** Handlers of the automation timers; each re-reads the session and does nothing if it moved on. */

async function conversationOf(uow: UnitOfWork, session: SessionRow) {
  const dialog = await uow.tx
    .selectFrom('dialogs')
    .selectAll()
    .where('id', '=', session.dialog_id)
    .executeTakeFirstOrThrow();
  const line = await uow.tx
    .selectFrom('lines')
    .selectAll()
    .where('id', '=', session.line_id)
    .executeTakeFirstOrThrow();
  const channel = await uow.tx
    .selectFrom('channels')
    .selectAll()
    .where('id', '=', dialog.channel_id)
    .executeTakeFirstOrThrow();
  return { dialog, line, channel, session };
}

/** AA-3: NO_ANSWER_TIME passed with the client still waiting. */
export async function noAnswerFired(ctx: AppContext, uow: UnitOfWork, session: SessionRow): Promise<void> {
  if (!isOpen(session.status) || !session.waiting_since) return;
  const marked = await uow.tx
    .updateTable('sessions')
    .set({ unanswered: true })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const c = { ...(await conversationOf(uow, marked)), session: marked };
  const rule = c.line.settings.automaticActions.noAnswer;
  // AA-3 "hand to a bot": the bot answers now; the operators are told as for any unanswered session.
  const toBot = rule.rule === 'bot' && (await noAnswerBotTakes(ctx, uow, c));
  if (rule.rule === 'text') {
    await systemMessage(ctx, uow, c, 'no_answer', automaticText(c.line.settings, c.channel.kind, 'noAnswer'));
  }
  const form = c.line.settings.automaticActions.contactForm;
  if (form.enabled && form.when === 'no_answer' && !toBot) {
    await systemMessage(
      ctx,
      uow,
      c,
      'contact_form_request',
      serverText(c.line.settings.other.language, 'contactForm'),
    );
  }
  if (rule.notifyOperators) {
    const users = marked.operator_id ? [marked.operator_id] : await lineQueue(uow.tx, c.line);
    const template = serverText(c.line.settings.other.language, 'noAnswerNotice');
    await notifyUsers(uow, c, { kind: 'no_answer', users, template });
  }
}

/** AA-6: the client did not reply to the operator's answer within AUTO_CLOSE_TIME. */
export async function autoCloseFired(ctx: AppContext, uow: UnitOfWork, session: SessionRow): Promise<void> {
  if (session.status !== 'answered' || session.pinned) return;
  const closed = await applySessionAction(ctx, uow, session, { type: 'auto_close' }, SYSTEM, 'auto_close');
  await uow.tx.deleteFrom('session_participants').where('session_id', '=', closed.id).execute();
  await onSessionClosed(ctx, uow, { ...(await conversationOf(uow, closed)), session: closed }, 'auto');
  await redelegateLine(ctx, uow, closed.account_id, closed.line_id);
}

/**
 * A client started a new thread in a channel that has threads (an e-mail that answers nothing):
 * the open session ends silently, so the new message opens a new session in the same dialog.
 */
export async function closeForNewThread(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
): Promise<void> {
  if (!isOpen(session.status)) return;
  const closed = await applySessionAction(
    ctx,
    uow,
    session,
    { type: 'close_silently' },
    SYSTEM,
    'new_thread',
  );
  await uow.tx.deleteFrom('session_participants').where('session_id', '=', closed.id).execute();
  await onSessionClosed(ctx, uow, { ...(await conversationOf(uow, closed)), session: closed }, 'new_thread');
  await redelegateLine(ctx, uow, closed.account_id, closed.line_id);
}

/** AA-5: the delayed rating request. */
export async function ratingRequestFired(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
): Promise<void> {
  if (session.rating || session.rating_requested_at) return;
  await requestRating(ctx, uow, await conversationOf(uow, session));
}

/** KPI-1/KPI-2: an answer target passed without an answer: record it and tell who must know. */
export async function kpiTargetMissed(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  kind: 'first_answer' | 'further_answer',
  dueAt: Date,
): Promise<void> {
  if (!isOpen(session.status)) return;
  // BOT-4: the first answer is awaited from the bot's hand-over when a bot answered first.
  const waitingSince =
    kind === 'first_answer' ? (session.bot_ended_at ?? session.created_at) : session.waiting_since;
  if (kind === 'first_answer' && session.first_answer_at) return;
  if (kind === 'further_answer' && (!session.first_answer_at || !waitingSince)) return;
  await uow.tx
    .insertInto('kpi_breaches')
    .values({
      account_id: session.account_id,
      session_id: session.id,
      kind,
      operator_id: session.operator_id,
      waiting_since: waitingSince!,
      due_at: dueAt,
    })
    .onConflict((oc) => oc.columns(['session_id', 'kind', 'waiting_since']).doNothing())
    .execute();
  const c = await conversationOf(uow, session);
  const target =
    kind === 'first_answer' ? c.line.settings.kpi.firstAnswer : c.line.settings.kpi.furtherAnswer;
  touchDialog(ctx, uow, session.account_id, session.dialog_id);
  if (!target.alert) return;
  const users = [...(session.operator_id ? [session.operator_id] : []), ...target.recipients];
  await notifyUsers(uow, c, {
    kind: kind === 'first_answer' ? 'kpi_first_answer' : 'kpi_further_answer',
    users,
    // An empty message text still gets a notice, in the line's language.
    template: target.messageText || serverText(c.line.settings.other.language, 'kpiMissed'),
  });
}
