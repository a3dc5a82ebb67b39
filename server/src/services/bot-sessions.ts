import type { BuiltinBotDefinition } from '@openlines/contract';
import type { AppContext } from '../context';
import {
  answerBuiltinBot,
  asksForOperator,
  type BotHandOver,
  type BotTurn,
  botTimeout,
  noAnswerBotFor,
  startBuiltinBot,
  welcomeBotFor,
} from '../core/bots';
import { type ContactDetails, contactFieldErrors, hasContactDetails } from '../core/contact-details';
import type { StartingBot } from '../core/new-session';
import type { ChannelRow, DialogRow, LineRow, SessionRow } from '../store/schema';
import { onSessionClosed, systemMessage } from './automation/hooks';
import { serverText } from './automation/texts';
import { enqueueBotEvent } from './bot-deliveries';
import { applyContactDetails } from './contact-details';
import { lockLines } from './locks';
import { writeOutgoingMessage } from './messages';
import { redelegateLine, routeSession } from './routing';
import { type ActorRef, applySessionAction, lockSession, SYSTEM } from './sessions';
import { armTimer, cancelTimers } from './timers';
import type { Tx, UnitOfWork } from './transaction';

/**
 * Bots in the conversation engine (BOT-1..4). A bot holds a session in status `bot`: it is not
 * offered to operators, its time is recorded apart (`bot_started_at`/`bot_ended_at`, and the
 * `bot_started` / hand-over transitions), and it leaves when it asks, when the client asks for a
 * person, or when WELCOME_BOT_TIME passes (the `bot_timeout` timer). Every status change goes
 * through the session machine (services/sessions.applySessionAction), whose transition out of
 * `bot` starts the operators' clock (services/bot-left).
 *
 * The built-in bot answers inside the client message's transaction (no round trip); an external
 * bot gets a row in `bot_deliveries` there and answers later over the bot API (services/bot-api).
 */

export interface Conversation {
  line: LineRow;
  dialog: DialogRow;
  session: SessionRow;
  channel: ChannelRow;
}

/** Where a bot (or its timer) sends the session. */
export type BotExit = BotHandOver | { type: 'line'; lineId: string } | { type: 'close' };

/** The bot with the definition of its current version; null when it no longer exists. */
export async function loadStartingBot(
  tx: Pick<Tx, 'selectFrom'>,
  accountId: string,
  botId: string,
): Promise<StartingBot | null> {
  const row = await tx
    .selectFrom('bots')
    .leftJoin('bot_versions', (join) =>
      join.onRef('bot_versions.bot_id', '=', 'bots.id').onRef('bot_versions.version', '=', 'bots.version'),
    )
    .select([
      'bots.id',
      'bots.kind',
      'bots.version',
      'bots.name',
      'bots.avatar_url',
      'bot_versions.definition',
    ])
    .where('bots.account_id', '=', accountId)
    .where('bots.id', '=', botId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    version: row.version,
    name: row.name,
    avatarUrl: row.avatar_url,
    definition: row.kind === 'builtin' ? (row.definition as BuiltinBotDefinition | null) : null,
  };
}

/**
 * BOT-1 on the general intake path: the welcome bot that takes a session just opened, or null. A
 * line without a welcome bot answers from its settings alone, with no statement.
 */
export async function welcomeBotOfNewSession(
  tx: Tx,
  line: LineRow,
  dialogId: string,
  sessionId: string,
): Promise<StartingBot | null> {
  const settings = line.settings.bot.welcomeBot;
  if (!settings.enabled || settings.botId === null) return null;
  let first = true;
  if (settings.join === 'first') {
    const previous = await tx
      .selectFrom('sessions')
      .select('id')
      .where('dialog_id', '=', dialogId)
      .where('id', '!=', sessionId)
      .limit(1)
      .executeTakeFirst();
    first = previous === undefined;
  }
  const botId = welcomeBotFor(line.settings, first);
  return botId ? loadStartingBot(tx, line.account_id, botId) : null;
}

async function writeTurns(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  botId: string,
  turns: BotTurn[],
) {
  for (const turn of turns) {
    await writeOutgoingMessage(ctx, uow, {
      dialog: c.dialog,
      session: c.session,
      line: c.line,
      authorKind: 'bot',
      authorId: botId,
      text: turn.text,
      ...(turn.buttons.length > 0 ? { quickReplies: turn.buttons } : {}),
    });
  }
}

function sessionRef(c: Conversation) {
  return {
    id: c.session.id,
    dialogId: c.dialog.id,
    lineId: c.session.line_id,
    channelKind: c.channel.kind,
  };
}

async function clientRef(tx: Tx, c: Conversation) {
  const client = await tx
    .selectFrom('clients')
    .select(['id', 'name'])
    .where('id', '=', c.dialog.client_id)
    .executeTakeFirstOrThrow();
  return { id: client.id, name: client.name };
}

/**
 * A bot takes the session: as the line's welcome bot (`new → bot`), or by AA-3's "hand to a bot"
 * (`queued | assigned → bot`). The operators' timers stop; the bot's own timer starts; a
 * built-in bot greets, an external one hears `session.started` (with the message that opened it).
 */
export async function startBot(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  bot: StartingBot,
  how: 'welcome' | 'no_answer',
  opening: { id: string; text: string | null; attachments: unknown[] } | null,
): Promise<SessionRow> {
  const now = ctx.clock.now();
  const taken = await applySessionAction(
    ctx,
    uow,
    c.session,
    { type: how === 'welcome' ? 'bot_started' : 'bot_takeover' },
    SYSTEM,
    how === 'welcome' ? 'bot_started' : 'no_answer_bot',
  );
  const greeting = bot.definition ? startBuiltinBot(bot.definition) : null;
  const session = await uow.tx
    .updateTable('sessions')
    .set({
      bot_id: bot.id,
      bot_version: bot.version,
      bot_state: greeting ? JSON.stringify(greeting.state) : null,
      bot_started_at: now,
      bot_ended_at: null,
      waiting_since: null,
    })
    .where('id', '=', taken.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (how === 'no_answer') {
    await cancelTimers(uow.tx, session.id, ['no_answer', 'kpi_first_answer', 'kpi_further_answer']);
  }
  const timeout = botTimeout(c.line.settings, now, how);
  if (timeout) {
    await armTimer(uow.tx, {
      accountId: session.account_id,
      sessionId: session.id,
      kind: 'bot_timeout',
      dueAt: timeout.dueAt,
      payload: { leave: timeout.leave },
    });
  }
  const conversation = { ...c, session };
  if (greeting) {
    await writeTurns(ctx, uow, conversation, bot.id, greeting.turns);
  } else {
    await enqueueBotEvent(uow.tx, {
      accountId: session.account_id,
      botId: bot.id,
      sessionId: session.id,
      now,
      event: {
        type: 'session.started',
        session: sessionRef(conversation),
        client: await clientRef(uow.tx, conversation),
        message: opening,
        reason: how === 'welcome' ? 'welcome_bot' : 'no_answer',
      },
    });
  }
  return session;
}

/**
 * A client's message in a session a bot holds. The built-in bot answers now, from the definition
 * version the session started with; an external bot gets the message as an event. The client
 * asking for a person hands the session to the operators either way.
 */
export async function onBotClientMessage(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  message: { id: string; text: string | null; attachments: unknown[] },
): Promise<SessionRow> {
  const { session } = c;
  if (session.status !== 'bot' || !session.bot_id) return session;
  const botId = session.bot_id;
  if (session.bot_state === null) {
    if (asksForOperator(message.text)) {
      return handOverFromBot(
        ctx,
        uow,
        c,
        { type: 'queue' },
        { kind: 'client', id: c.dialog.client_id },
        'client_asked_operator',
      );
    }
    await enqueueBotEvent(uow.tx, {
      accountId: session.account_id,
      botId,
      sessionId: session.id,
      now: ctx.clock.now(),
      event: { type: 'message.created', session: sessionRef(c), client: await clientRef(uow.tx, c), message },
    });
    return session;
  }
  const version = await uow.tx
    .selectFrom('bot_versions')
    .select('definition')
    .where('bot_id', '=', botId)
    .where('version', '=', session.bot_version ?? 1)
    .executeTakeFirst();
  if (!version) return handOverFromBot(ctx, uow, c, { type: 'queue' }, SYSTEM, 'bot_missing');
  const reply = answerBuiltinBot(version.definition, session.bot_state, message.text);
  const updated = await uow.tx
    .updateTable('sessions')
    .set({ bot_state: JSON.stringify(reply.state) })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const conversation = { ...c, session: updated };
  await writeTurns(ctx, uow, conversation, botId, reply.turns);
  if (reply.askContact) {
    // "Leave your contact details": the line's contact form text (the widget shows its form); the
    // client's next message (or the form) gives them, then the operators take over.
    await systemMessage(
      ctx,
      uow,
      conversation,
      'contact_form_request',
      serverText(c.line.settings.other.language, 'contactForm'),
    );
    return updated;
  }
  if (!reply.handOver) return updated;
  if (reply.contact) await leaveContactDetails(ctx, uow, conversation, reply.contact);
  const asked = reply.why === 'asked_for_operator';
  return handOverFromBot(
    ctx,
    uow,
    conversation,
    reply.handOver,
    asked ? { kind: 'client', id: c.dialog.client_id } : { kind: 'bot', id: botId },
    asked ? 'client_asked_operator' : reply.why === 'too_many_misses' ? 'bot_gave_up' : 'bot_handover',
  );
}

/**
 * The session leaves the bot: to the queue (and routing), a department's members, an operator,
 * another line, or closed. Reasons recorded on the transition: `bot_handover` (the bot asked),
 * `client_asked_operator`, `bot_timeout`, `bot_gave_up` (too many unmatched messages), `bot_deleted`.
 * The caller holds the session's line lock (and the target line's, for a transfer to a line).
 */
export async function handOverFromBot(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  exit: BotExit,
  actor: ActorRef,
  reason: string,
): Promise<SessionRow> {
  const { session } = c;
  switch (exit.type) {
    case 'close': {
      const closed = await applySessionAction(ctx, uow, session, { type: 'close' }, actor, reason);
      await uow.tx.deleteFrom('session_participants').where('session_id', '=', closed.id).execute();
      await onSessionClosed(ctx, uow, { ...c, session: closed }, 'bot');
      return closed;
    }
    case 'line': {
      const moved = await applySessionAction(
        ctx,
        uow,
        session,
        { type: 'transfer_line', lineId: exit.lineId },
        actor,
        reason,
      );
      return routeSession(ctx, uow, moved);
    }
    case 'operator': {
      const user = await uow.tx
        .selectFrom('users')
        .select(['id', 'active'])
        .where('account_id', '=', session.account_id)
        .where('id', '=', exit.userId)
        .executeTakeFirst();
      // An operator who left the account (or is deactivated) gets nothing: the queue takes it.
      if (user?.active) {
        return applySessionAction(
          ctx,
          uow,
          session,
          { type: 'transfer_operator', operatorId: user.id },
          actor,
          reason,
        );
      }
      return handOverFromBot(ctx, uow, c, { type: 'queue' }, actor, reason);
    }
    case 'department': {
      const queued = await applySessionAction(ctx, uow, session, { type: 'bot_handover' }, actor, reason);
      const members = await uow.tx
        .selectFrom('department_members')
        .select('user_id')
        .where('account_id', '=', session.account_id)
        .where('department_id', '=', exit.departmentId)
        .execute();
      // Nobody of the department can take it now: it waits in the line's queue like any other.
      const routed = await routeSession(ctx, uow, queued, { among: members.map((m) => m.user_id) });
      return routed.status === 'queued' ? routeSession(ctx, uow, routed) : routed;
    }
    case 'queue': {
      const queued = await applySessionAction(ctx, uow, session, { type: 'bot_handover' }, actor, reason);
      return routeSession(ctx, uow, queued);
    }
  }
}

/**
 * The details the client typed in answer to the bot's request go where the contact form's go: the
 * client's card and the CRM (services/automation/contact-form). Fields that do not pass the form's
 * checks are left out; a message with none changes nothing.
 */
async function leaveContactDetails(
  ctx: AppContext,
  uow: UnitOfWork,
  c: Conversation,
  details: ContactDetails,
): Promise<void> {
  const bad = new Set(
    contactFieldErrors(details, 'fields').map((error) => error.field.replace('fields.', '')),
  );
  const fields: ContactDetails = {};
  for (const key of ['name', 'email', 'phone'] as const) {
    const value = details[key];
    if (value && !bad.has(key)) fields[key] = value;
  }
  if (!hasContactDetails(fields)) return;
  const identity = await uow.tx
    .selectFrom('client_identities')
    .select('external_id')
    .where('client_id', '=', c.dialog.client_id)
    .where('channel_id', '=', c.dialog.channel_id)
    .executeTakeFirst();
  if (!identity) return;
  await applyContactDetails(ctx, uow, {
    line: c.line,
    channel: c.channel,
    dialog: c.dialog,
    session: c.session,
    clientExternalId: identity.external_id,
    fields,
  });
}

async function conversationOf(tx: Tx, session: SessionRow): Promise<Conversation> {
  const dialog = await tx
    .selectFrom('dialogs')
    .selectAll()
    .where('id', '=', session.dialog_id)
    .executeTakeFirstOrThrow();
  const line = await tx
    .selectFrom('lines')
    .selectAll()
    .where('id', '=', session.line_id)
    .executeTakeFirstOrThrow();
  const channel = await tx
    .selectFrom('channels')
    .selectAll()
    .where('id', '=', dialog.channel_id)
    .executeTakeFirstOrThrow();
  return { dialog, line, channel, session };
}

export { conversationOf as botConversationOf };

/** WELCOME_BOT_TIME passed with the bot still holding the session (WELCOME_BOT_LEFT decides). */
export async function botTimeoutFired(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  payload: Record<string, unknown>,
): Promise<void> {
  if (session.status !== 'bot') return;
  const c = await conversationOf(uow.tx, session);
  await handOverFromBot(
    ctx,
    uow,
    c,
    payload.leave === 'close' ? { type: 'close' } : { type: 'queue' },
    SYSTEM,
    'bot_timeout',
  );
  await redelegateLine(ctx, uow, session.account_id, session.line_id);
}

/** AA-3 "hand to a bot": the unanswered session goes to the line's no-answer bot, once. */
export async function noAnswerBotTakes(ctx: AppContext, uow: UnitOfWork, c: Conversation): Promise<boolean> {
  const botId = noAnswerBotFor(c.line.settings, {
    status: c.session.status,
    botStartedAt: c.session.bot_started_at,
    pinned: c.session.pinned,
  });
  if (!botId) return false;
  const bot = await loadStartingBot(uow.tx, c.session.account_id, botId);
  if (!bot) return false;
  await startBot(ctx, uow, c, bot, 'no_answer', null);
  return true;
}

/** A deleted bot's sessions go to their lines' queues. */
export async function releaseBotSessions(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  botId: string,
): Promise<void> {
  const held = await uow.tx
    .selectFrom('sessions')
    .select(['id', 'line_id'])
    .where('account_id', '=', accountId)
    .where('bot_id', '=', botId)
    .where('status', '=', 'bot')
    .execute();
  if (held.length === 0) return;
  await lockLines(
    uow.tx,
    held.map((s) => s.line_id),
  );
  for (const { id } of held) {
    const session = await lockSession(uow.tx, accountId, id);
    if (session.status !== 'bot') continue;
    await handOverFromBot(
      ctx,
      uow,
      await conversationOf(uow.tx, session),
      { type: 'queue' },
      SYSTEM,
      'bot_deleted',
    );
  }
}
