import type { BotSendInput, BotTransferInput, Message } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError, invalidField, notFound } from '../errors';
import type { BotRow } from '../store/schema';
import { botConversationOf, type Conversation, handOverFromBot } from './bot-sessions';
import { lockLines } from './locks';
import { presentMessage } from './message-presenter';
import { writeOutgoingMessage } from './messages';
import { redelegateLine } from './routing';
import { lockSession } from './sessions';
import { runInTransaction, type UnitOfWork } from './transaction';

/**
 * The bot API (BOT-2): what an external bot does with its token. A bot reaches only the sessions
 * of its own account that were handed to it (any other id is 404, as if it did not exist), and acts
 * only while it holds them (else 409). Each call is one transaction under the session's line lock,
 * through the same engine functions the built-in bot and the timers use (services/bot-sessions),
 * so a Bitrix24-compatible `imbot.*` surface could call these same functions.
 */

async function withHeldSession<T>(
  ctx: AppContext,
  bot: BotRow,
  sessionId: string,
  work: (uow: UnitOfWork, c: Conversation) => Promise<T>,
  extraLineIds: string[] = [],
): Promise<T> {
  return runInTransaction(ctx, async (uow) => {
    const found = await uow.tx
      .selectFrom('sessions')
      .select(['id', 'line_id'])
      .where('account_id', '=', bot.account_id)
      .where('id', '=', sessionId)
      .where('bot_id', '=', bot.id)
      .executeTakeFirst();
    if (!found) throw notFound('The session');
    await lockLines(uow.tx, [found.line_id, ...extraLineIds]);
    const session = await lockSession(uow.tx, bot.account_id, found.id);
    if (session.bot_id !== bot.id) throw notFound('The session');
    if (session.line_id !== found.line_id)
      throw new AppError('conflict', 'The session changed meanwhile; try again');
    if (session.status !== 'bot') {
      throw new AppError(
        'invalid_state',
        `The bot no longer holds this session (it is ${session.status})`,
        undefined,
        {
          sessionStatus: session.status,
        },
      );
    }
    return work(uow, await botConversationOf(uow.tx, session));
  });
}

export async function botSendMessage(
  ctx: AppContext,
  bot: BotRow,
  sessionId: string,
  body: BotSendInput,
): Promise<Message> {
  if (!body.text && (body.attachments ?? []).length === 0) {
    throw new AppError('validation_failed', 'A message needs text or attachments', [
      { field: 'body.text', message: 'is required when there are no attachments' },
    ]);
  }
  return withHeldSession(ctx, bot, sessionId, (uow, c) =>
    writeOutgoingMessage(ctx, uow, {
      dialog: c.dialog,
      session: c.session,
      line: c.line,
      authorKind: 'bot',
      authorId: bot.id,
      text: body.text ?? null,
      attachments: body.attachments ?? [],
      ...(body.buttons && body.buttons.length > 0
        ? { quickReplies: body.buttons.map((b) => ({ title: b.title, reply: b.reply ?? b.title })) }
        : {}),
    }),
  );
}

/** Shows the client that the bot is typing (a transient signal, like an operator's). */
export async function botTyping(ctx: AppContext, bot: BotRow, sessionId: string): Promise<void> {
  const session = await ctx.store.db
    .selectFrom('sessions')
    .select(['dialog_id', 'line_id', 'status'])
    .where('account_id', '=', bot.account_id)
    .where('id', '=', sessionId)
    .where('bot_id', '=', bot.id)
    .executeTakeFirst();
  if (!session) throw notFound('The session');
  if (session.status !== 'bot') throw new AppError('invalid_state', 'The bot no longer holds this session');
  await ctx.bus.publish([
    {
      accountId: bot.account_id,
      audience: { lineId: session.line_id, dialogId: session.dialog_id, users: [] },
      transient: {
        type: 'typing',
        data: {
          dialogId: session.dialog_id,
          lineId: session.line_id,
          author: 'bot',
          userId: null,
          text: null,
        },
      },
    },
  ]);
}

export async function botTransfer(
  ctx: AppContext,
  bot: BotRow,
  sessionId: string,
  body: BotTransferInput,
): Promise<{ status: string }> {
  const targetLine = body.to === 'line' ? body.lineId : null;
  const session = await withHeldSession(
    ctx,
    bot,
    sessionId,
    async (uow, c) => {
      const actor = { kind: 'bot' as const, id: bot.id };
      if (body.to === 'line') {
        const line = await uow.tx
          .selectFrom('lines')
          .select(['id', 'active'])
          .where('account_id', '=', bot.account_id)
          .where('id', '=', body.lineId)
          .executeTakeFirst();
        if (!line) throw invalidField('body.lineId', 'no such line in this account');
        if (!line.active) throw invalidField('body.lineId', 'the line is not active');
        if (line.id === c.session.line_id)
          throw invalidField('body.lineId', 'the session is already on this line');
        return handOverFromBot(ctx, uow, c, { type: 'line', lineId: line.id }, actor, 'bot_handover');
      }
      if (body.to === 'operator') {
        const user = await uow.tx
          .selectFrom('users')
          .select(['id', 'active'])
          .where('account_id', '=', bot.account_id)
          .where('id', '=', body.operatorId)
          .executeTakeFirst();
        if (!user) throw invalidField('body.operatorId', 'no such user in this account');
        if (!user.active) throw invalidField('body.operatorId', 'the user is deactivated');
        return handOverFromBot(ctx, uow, c, { type: 'operator', userId: user.id }, actor, 'bot_handover');
      }
      const queued = await handOverFromBot(ctx, uow, c, { type: 'queue' }, actor, 'bot_handover');
      await redelegateLine(ctx, uow, bot.account_id, c.session.line_id);
      return queued;
    },
    targetLine ? [targetLine] : [],
  );
  return { status: session.status };
}

export async function botClose(ctx: AppContext, bot: BotRow, sessionId: string): Promise<{ status: string }> {
  const session = await withHeldSession(ctx, bot, sessionId, (uow, c) =>
    handOverFromBot(ctx, uow, c, { type: 'close' }, { kind: 'bot', id: bot.id }, 'closed_by_bot'),
  );
  return { status: session.status };
}

/**
 * The session's history for the bot: the dialog's public messages of this session (no notes or
 * consultations). Readable while the bot holds the session and after, so a bot can look back.
 */
export async function botHistory(ctx: AppContext, bot: BotRow, sessionId: string): Promise<Message[]> {
  const session = await ctx.store.db
    .selectFrom('sessions')
    .select(['id', 'status'])
    .where('account_id', '=', bot.account_id)
    .where('id', '=', sessionId)
    .where('bot_id', '=', bot.id)
    .executeTakeFirst();
  if (!session) throw notFound('The session');
  const rows = await ctx.store.db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', bot.account_id)
    .where('session_id', '=', session.id)
    .where('private', '=', false)
    .orderBy('created_at')
    .orderBy('seq')
    .limit(500)
    .execute();
  return rows.map(presentMessage);
}
