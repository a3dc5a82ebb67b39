import type { AppContext } from '../../context';
import { automaticText, planNewSession, ratingTexts } from '../../core/automation';
import { kpiAlertText } from '../../core/kpi';
import { historyFinalAt } from '../../core/personal-data';
import type { ChannelRow, DialogRow, LineRow, SessionRow } from '../../store/schema';
import { eraseSessionHistory } from '../erasure';
import { writeOutgoingMessage } from '../messages';
import { redelegateLine } from '../routing';
import { applySessionAction } from '../sessions';
import { armTimer, cancelTimers } from '../timers';
import type { UnitOfWork } from '../transaction';
import { answersBy } from './answers';
import { consentDecision, writeConsent } from './consent';
import { lineOpenNow } from './schedule';
import { serverText } from './texts';

/**
 * Where the line's automation (SPEC §3–§8) meets the conversation engine. Each hook runs inside the
 * use case's transaction, so an automatic text, the timers it arms and the state change that caused
 * them commit together, and a timer that fires later re-reads the state and does nothing if it
 * moved on (workers/timers).
 */

interface Conversation {
  line: LineRow;
  dialog: DialogRow;
  session: SessionRow;
  channel: ChannelRow;
}

const seconds = (now: Date, count: number) => new Date(now.getTime() + count * 1000);

/** An automatic message of the line to the client, in the caller's transaction. */
export async function systemMessage(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  systemKind: Parameters<typeof writeOutgoingMessage>[2]['systemKind'],
  text: string,
  quickReplies?: { title: string; reply: string }[],
) {
  await writeOutgoingMessage(ctx, uow, {
    dialog: c.dialog,
    session: c.session,
    line: c.line,
    authorKind: 'system',
    authorId: null,
    text,
    systemKind,
    ...(quickReplies ? { quickReplies } : {}),
  });
}

/**
 * A new session: notes whether it started off hours (WH-2), and sends the agreement (AG-1), the
 * off-hours reply or the welcome (AA-1) and the contact form (AA-2); arms the first-answer KPI.
 * LN-4: on an inactive line the session is stored silently; it gets its start when the line is
 * switched on (onLineActivated).
 */
export async function onSessionOpened(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  options: { botAnswers?: boolean } = {},
): Promise<SessionRow> {
  const botAnswers = options.botAnswers === true;
  const session = c.line.active
    ? await startConversation(ctx, uow, c, botAnswers)
    : await uow.tx
        .updateTable('sessions')
        .set({ opened_off_hours: !lineOpenNow(c.line, ctx.clock.now()) })
        .where('id', '=', c.session.id)
        .returningAll()
        .executeTakeFirstOrThrow();
  const firstTarget = c.line.settings.kpi.firstAnswer.targetSeconds;
  // BOT-4: with a bot answering first, the KPI starts at its hand-over (services/bot-left).
  if (firstTarget > 0 && !botAnswers) {
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'kpi_first_answer',
      dueAt: seconds(session.created_at, firstTarget),
    });
  }
  return session;
}

/** The texts a session starts with, as of now (AG-1, WH-2, AA-1, AA-2), and what they record. */
async function startConversation(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  botAnswers = false,
): Promise<SessionRow> {
  const now = ctx.clock.now();
  const settings = c.line.settings;
  const previous = await uow.tx
    .selectFrom('sessions')
    .select('id')
    .where('dialog_id', '=', c.dialog.id)
    .where('id', '!=', c.session.id)
    .limit(1)
    .executeTakeFirst();
  const offHours = !lineOpenNow(c.line, now);
  // Asked once per agreement text: a client who declined it (the widget's button) is not asked again.
  const consentNeeded =
    settings.agreement.required && (await consentDecision(uow.tx, c.line, c.dialog.client_id, now)) === null;
  const planned = planNewSession(
    settings,
    c.channel.kind,
    { offHours, firstSessionOfDialog: previous === undefined, consentNeeded, botAnswers },
    serverText(settings.other.language, 'contactForm'),
  );
  const session = await uow.tx
    .updateTable('sessions')
    .set({
      opened_off_hours: offHours,
      off_hours_reply_sent: planned.some((p) => p.systemKind === 'off_hours'),
      ...(consentNeeded ? { consent_requested_at: now } : {}),
    })
    .where('id', '=', c.session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const { systemKind, text } of planned)
    await systemMessage(ctx, uow, { ...c, session }, systemKind, text);
  return session;
}

/**
 * LN-4: the line was switched on. The sessions that arrived while it was off (still `new`, with no
 * automatic text yet) start now, as a new session would: the agreement, the off-hours reply or the
 * welcome as of now, the contact form; and their no-answer wait restarts, since nobody could see
 * them before. Timers of sessions held when the line went off are not touched: the claimer held
 * them (workers/timers) and fires those that fell due. The caller holds the line's lock and routes
 * the sessions afterwards (redelegateLine enqueues them with reason `line_activated`).
 */
export async function onLineActivated(ctx: AppContext, uow: UnitOfWork, line: LineRow): Promise<void> {
  const sessions = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('line_id', '=', line.id)
    .where('status', '=', 'new')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('messages')
            .select('messages.id')
            .whereRef('messages.dialog_id', '=', 'sessions.dialog_id')
            .whereRef('messages.session_id', '=', 'sessions.id')
            .where('messages.author_kind', '=', 'system'),
        ),
      ),
    )
    .orderBy('created_at')
    .forUpdate()
    .execute();
  if (sessions.length === 0) return;
  const dialogs = await uow.tx
    .selectFrom('dialogs')
    .selectAll()
    .where(
      'id',
      'in',
      sessions.map((s) => s.dialog_id),
    )
    .execute();
  const channels = await uow.tx
    .selectFrom('channels')
    .selectAll()
    .where('id', 'in', [...new Set(dialogs.map((d) => d.channel_id))])
    .execute();
  const now = ctx.clock.now();
  for (const session of sessions) {
    const dialog = dialogs.find((d) => d.id === session.dialog_id);
    const channel = dialog && channels.find((ch) => ch.id === dialog.channel_id);
    if (!dialog || !channel) continue;
    await startConversation(ctx, uow, { line, dialog, channel, session });
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'no_answer',
      dueAt: seconds(now, line.settings.queue.noAnswerTimeSeconds),
    });
  }
}

/**
 * Every client message of an open session: AG-2 consent by reply in messengers, the start of a wait
 * for an answer (no-answer rule, further-answer KPI), and an auto-close that no longer applies.
 */
export async function onClientMessage(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  /** consentDecided: the message carried an explicit consent decision (API channel), already recorded. */
  options: { opensSession: boolean; consentDecided?: boolean },
): Promise<SessionRow> {
  const now = ctx.clock.now();
  const settings = c.line.settings;
  let session = c.session;
  if (
    !options.opensSession &&
    !options.consentDecided &&
    session.consent_requested_at &&
    !session.consent_given_at &&
    answersBy(c.channel) === 'reply'
  ) {
    // AG-2: in messengers, the client's next message after the notice is the consent.
    await writeConsent(ctx, uow, {
      line: c.line,
      clientId: c.dialog.client_id,
      channelId: c.channel.id,
      sessionId: session.id,
      dialogId: c.dialog.id,
      how: 'reply',
    });
  }
  // A bot holds the session: nobody waits for an operator yet (BOT-4); the bot answers.
  if (!session.waiting_since && session.status !== 'bot') {
    session = await uow.tx
      .updateTable('sessions')
      .set({ waiting_since: now })
      .where('id', '=', session.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'no_answer',
      dueAt: seconds(now, settings.queue.noAnswerTimeSeconds),
    });
    const furtherTarget = settings.kpi.furtherAnswer.targetSeconds;
    if (session.first_answer_at && furtherTarget > 0) {
      await armTimer(uow.tx, {
        accountId: session.account_id,
        sessionId: session.id,
        kind: 'kpi_further_answer',
        dueAt: seconds(now, furtherTarget),
      });
    }
  }
  await cancelTimers(uow.tx, session.id, ['auto_close']);
  return session;
}

/** An operator answered: the wait is over, missed targets are answered, and auto-close starts (AA-6). */
export async function onOperatorAnswer(
  ctx: AppContext,
  uow: UnitOfWork,
  line: LineRow,
  session: SessionRow,
): Promise<SessionRow> {
  const now = ctx.clock.now();
  await uow.tx
    .updateTable('kpi_breaches')
    .set({ answered_at: now })
    .where('session_id', '=', session.id)
    .where('answered_at', 'is', null)
    .execute();
  await cancelTimers(uow.tx, session.id, ['no_answer', 'kpi_first_answer', 'kpi_further_answer']);
  await armTimer(uow.tx, {
    accountId: session.account_id,
    sessionId: session.id,
    kind: 'auto_close',
    dueAt: seconds(now, line.settings.automaticActions.autoClose.timeSeconds),
  });
  return uow.tx
    .updateTable('sessions')
    .set({ waiting_since: null, unanswered: false })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** QR-1/AA-5: asks the client to rate; buttons in the widget, "reply 1 or 0" elsewhere. */
export async function requestRating(ctx: AppContext, uow: UnitOfWork, c: Conversation): Promise<void> {
  const session = await uow.tx
    .updateTable('sessions')
    .set({ rating_requested_at: ctx.clock.now() })
    .where('id', '=', c.session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const by = answersBy(c.channel);
  const texts = ratingTexts(c.line.settings, by);
  const quickReplies =
    by === 'reply'
      ? [
          { title: `👍 ${texts.like.length <= 20 ? texts.like : '1'}`, reply: '1' },
          { title: `👎 ${texts.dislike.length <= 20 ? texts.dislike : '0'}`, reply: '0' },
        ]
      : undefined;
  await systemMessage(ctx, uow, { ...c, session }, 'rating_request', texts.question, quickReplies);
}

/**
 * After a session closed: the close or auto-close text (AA-4, AA-6) and the rating request, now
 * or after the line's delay (AA-5). A spam session gets nothing.
 */
export async function onSessionClosed(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  how: 'operator' | 'auto' | 'spam' | 'rating' | 'new_thread' | 'bot',
): Promise<void> {
  // A session closed as spam, or because the client started a new thread, gets no goodbye.
  if (how !== 'spam' && how !== 'new_thread') await closingTexts(ctx, uow, c, how);
  // OT-1: with history saving off, the texts of a closed session are not kept (what is queued for
  // the client keeps its own copy in the outbox until it is delivered, so the goodbye still reaches
  // them). What is written later (a delayed rating request, the rating reply) goes once the session
  // is final: at the rating, or by the history_erasure timer (core/personal-data historyFinalAt).
  if (!c.line.settings.other.saveHistory) await eraseClosedSessionHistory(ctx, uow, c.session, c.line);
}

/** History saving off: erases a closed session now, and again once it is final if it is not yet. */
export async function eraseClosedSessionHistory(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  line: LineRow,
): Promise<void> {
  await eraseSessionHistory(ctx, uow, session.account_id, [session.id]);
  const fresh = await uow.tx
    .selectFrom('sessions')
    .select(['closed_at', 'rating', 'rating_requested_at'])
    .where('id', '=', session.id)
    .executeTakeFirstOrThrow();
  const closedAt = fresh.closed_at ?? ctx.clock.now();
  const finalAt = historyFinalAt(line.settings.rating, {
    closedAt,
    rated: fresh.rating !== null,
    ratingRequestedAt: fresh.rating_requested_at,
  });
  if (finalAt.getTime() > ctx.clock.now().getTime()) {
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'history_erasure',
      dueAt: finalAt,
    });
  } else {
    await cancelTimers(uow.tx, session.id, ['history_erasure']);
  }
}

async function closingTexts(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  how: 'operator' | 'auto' | 'rating' | 'bot',
): Promise<void> {
  const settings = c.line.settings;
  const actions = settings.automaticActions;
  // A session a bot closes (WELCOME_BOT_LEFT `close`) gets the close text but no rating request:
  // no operator served it.
  if ((how === 'operator' || how === 'bot') && actions.close.rule === 'text') {
    await systemMessage(ctx, uow, c, 'close', automaticText(settings, c.channel.kind, 'close'));
  }
  if (how === 'auto' && actions.autoClose.rule === 'text') {
    await systemMessage(ctx, uow, c, 'auto_close', automaticText(settings, c.channel.kind, 'autoClose'));
  }
  if (
    how === 'rating' ||
    how === 'bot' ||
    !settings.rating.enabled ||
    c.session.rating ||
    c.session.rating_requested_at
  )
    return;
  if (settings.rating.when === 'on_close') {
    await requestRating(ctx, uow, c);
  } else {
    await armTimer(uow.tx, {
      accountId: c.session.account_id,
      sessionId: c.session.id,
      kind: 'rating_request',
      dueAt: seconds(ctx.clock.now(), settings.rating.delaySeconds),
    });
  }
}

/** QR-2 "close after rating": the client rated an open session, so it ends. */
export async function closeByRating(ctx: AppContext, uow: UnitOfWork, c: Conversation): Promise<void> {
  const closed = await applySessionAction(
    ctx,
    uow,
    c.session,
    { type: 'close' },
    { kind: 'client', id: c.dialog.client_id },
    'closed_after_rating',
  );
  await uow.tx.deleteFrom('session_participants').where('session_id', '=', closed.id).execute();
  await onSessionClosed(ctx, uow, { ...c, session: closed }, 'rating');
  await redelegateLine(ctx, uow, c.dialog.account_id, closed.line_id);
}

/** KPI-2 and AA-3's notice: an in-app notification to the operator and the chosen people. */
export async function notifyUsers(
  uow: UnitOfWork,
  c: Conversation,
  input: { kind: 'kpi_first_answer' | 'kpi_further_answer' | 'no_answer'; users: string[]; template: string },
): Promise<void> {
  const users = [...new Set(input.users)];
  if (users.length === 0) return;
  const operator = c.session.operator_id
    ? await uow.tx
        .selectFrom('users')
        .select('name')
        .where('id', '=', c.session.operator_id)
        .executeTakeFirst()
    : undefined;
  const client = await uow.tx
    .selectFrom('clients')
    .select('name')
    .where('id', '=', c.dialog.client_id)
    .executeTakeFirst();
  const text = kpiAlertText(input.template, {
    operator: operator?.name ?? '—',
    dialog: client?.name ?? c.dialog.id,
  });
  uow.events.emit(
    c.dialog.account_id,
    'notification',
    { kind: input.kind, dialogId: c.dialog.id, sessionId: c.session.id, text },
    { users },
  );
}
