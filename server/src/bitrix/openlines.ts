import {
  type Dialog,
  type Line,
  type LineSettingsPatch,
  OPERATOR_STATUSES,
  type SessionStatus,
} from '@openlines/contract';
import { AppError } from '../errors';
import {
  closeDialog,
  inviteToDialog,
  markSpam,
  setPinned,
  skipDialog,
  takeDialog,
  transferDialog,
} from '../services/actions';
import { rateBySupervisor } from '../services/automation/rating';
import { createLead } from '../services/crm/records';
import { getDialog, listMessages, loadVisibleDialog } from '../services/dialogs';
import { createLine, deleteLine, getLine, listLines, updateLine } from '../services/lines';
import { type NumberedKind, numericIds, resolveNumericId } from '../services/numeric-ids';
import { followUpDialog } from '../services/operator-actions';
import { listUsers } from '../services/users';
import { chatEntityIdOf } from './chat-entity';
import { CRM_NUMBERED } from './crm-chats';
import { argumentError, BitrixError, notFoundError } from './errors';
import { linePatchOf, paramOfField, paramsOf } from './line-params';
import { type MethodCall, type MethodHandler, PAGE_SIZE, page } from './method';
import { isObject, optionalFlag, optionalId, optionalString, pick, startOf } from './params';

/** imopenlines.config.*, operator.*, dialog.get, session.mode.pin; and user.get to learn user ids. */

async function uuidOf(call: MethodCall, kind: NumberedKind, numeric: number, what: string): Promise<string> {
  const id = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, kind, numeric);
  if (!id) throw notFoundError(`${what} ${numeric}`);
  return id;
}

/** A service's validation failure, with our field names turned back into PARAMS[...]. */
function configError(error: unknown): never {
  if (error instanceof AppError && error.code === 'validation_failed' && error.fields?.length) {
    const described = error.fields.map((field) => {
      const param = paramOfField(field.field);
      return `${param ? `PARAMS[${param}]` : field.field}: ${field.message}`;
    });
    throw argumentError(described.join('; '));
  }
  throw error;
}

async function settingsPatch(call: MethodCall, params: unknown, current: Line | null) {
  const patch = linePatchOf(params, current?.settings ?? null);
  const settings: LineSettingsPatch = patch.settings;
  if (patch.queue) {
    const members = [];
    for (const entry of patch.queue) {
      const id = await resolveNumericId(
        call.ctx.store.db,
        call.caller.actor.accountId,
        entry.type,
        entry.numericId,
      );
      if (!id) throw argumentError(`PARAMS[QUEUE]: no ${entry.type} ${entry.numericId} in this account`);
      members.push({ type: entry.type, id });
    }
    settings.queue = { ...(settings.queue ?? {}), members };
  }
  if (patch.welcomeBot !== undefined) {
    const botId =
      patch.welcomeBot === 0
        ? null
        : await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'bot', patch.welcomeBot);
    if (botId === undefined || (patch.welcomeBot !== 0 && !botId))
      throw argumentError(`PARAMS[WELCOME_BOT_ID]: no bot ${patch.welcomeBot} in this account`);
    settings.bot = {
      ...(settings.bot ?? {}),
      welcomeBot: { ...(settings.bot?.welcomeBot ?? {}), botId },
    };
  }
  return { patch, settings };
}

async function lineByConfigId(call: MethodCall, required = true): Promise<Line | null> {
  const configId = optionalId(call.params, 'CONFIG_ID');
  if (configId === undefined) {
    if (!required) return null;
    throw new BitrixError('CONFIG_ID_EMPTY', 'CONFIG_ID is required');
  }
  const lineId = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'line', configId);
  if (!lineId) return null;
  try {
    return await getLine(call.ctx, call.caller.actor, lineId);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') return null;
    throw error;
  }
}

async function presentConfig(call: MethodCall, line: Line) {
  const users = line.settings.queue.members.filter((member) => member.type === 'user');
  const welcomeBot = line.settings.bot.welcomeBot.botId;
  const numbers = await numericIds(call.ctx.store.db, call.caller.actor.accountId, [
    { kind: 'line', id: line.id },
    ...(welcomeBot ? [{ kind: 'bot' as const, id: welcomeBot }] : []),
    ...users.map((member) => ({ kind: 'user' as const, id: member.id })),
  ]);
  const lineNumber = numbers.shift()!;
  const botNumber = welcomeBot ? numbers.shift() : 0;
  return {
    ...paramsOf(line, { line: lineNumber, queueUsers: numbers, welcomeBot: botNumber ?? 0 }),
    DATE_CREATE: line.createdAt,
    DATE_MODIFY: line.updatedAt,
  };
}

const configAdd: MethodHandler = async (call) => {
  const { patch, settings } = await settingsPatch(call, pick(call.params, 'PARAMS'), null);
  let line: Line;
  try {
    line = await createLine(call.ctx, call.caller.actor, {
      name: patch.name ?? 'Open line',
      ...(patch.active !== undefined ? { active: patch.active } : {}),
      settings,
    });
  } catch (error) {
    configError(error);
  }
  const [id] = await numericIds(call.ctx.store.db, call.caller.actor.accountId, [
    { kind: 'line', id: line.id },
  ]);
  return { result: id };
};

const configUpdate: MethodHandler = async (call) => {
  const line = await lineByConfigId(call);
  if (!line) throw new BitrixError('CONFIG_NOT_FOUND', 'Open line not found', 404);
  const { patch, settings } = await settingsPatch(call, pick(call.params, 'PARAMS'), line);
  try {
    await updateLine(call.ctx, call.caller.actor, line.id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.active !== undefined ? { active: patch.active } : {}),
      settings,
    });
  } catch (error) {
    configError(error);
  }
  return { result: true };
};

/** Bitrix24 answers `false` for a line that does not exist (or is another account's). */
const configGet: MethodHandler = async (call) => {
  const line = await lineByConfigId(call);
  return { result: line ? await presentConfig(call, line) : false };
};

const configList: MethodHandler = async (call) => {
  const params = pick(call.params, 'PARAMS');
  if (params !== undefined && !isObject(params)) throw argumentError('PARAMS must be an object');
  const limitValue = params ? pick(params, 'limit') : undefined;
  const offsetValue = params ? pick(params, 'offset') : undefined;
  const limit = limitValue === undefined ? PAGE_SIZE : Number(limitValue);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200)
    throw argumentError('PARAMS[limit] must be 1 to 200');
  const offset = offsetValue === undefined ? startOf(call.params) : Number(offsetValue);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw argumentError('PARAMS[offset] must be a non-negative integer');
  const { items } = await listLines(call.ctx, call.caller.actor);
  const shown = [];
  for (const line of items.slice(offset, offset + limit)) shown.push(await presentConfig(call, line));
  return page(shown, offset, items.length);
};

const configDelete: MethodHandler = async (call) => {
  const line = await lineByConfigId(call);
  if (!line) throw new BitrixError('CONFIG_NOT_FOUND', 'Open line not found', 404);
  await deleteLine(call.ctx, call.caller.actor, line.id, line.name);
  return { result: true };
};

const configPath: MethodHandler = async (call) => ({
  result: { SERVER_ADDRESS: call.ctx.publicUrl.value.replace(/\/$/, ''), PUBLIC_PATH: '/admin/lines' },
});

// ----- Dialogs ----------------------------------------------------------------------------------

async function dialogOf(call: MethodCall): Promise<string> {
  const chat = optionalId(call.params, 'CHAT_ID');
  if (chat !== undefined) return uuidOf(call, 'dialog', chat, 'Chat');
  const dialog = optionalString(call.params, 'DIALOG_ID', 50);
  const match = dialog ? /^chat(\d{1,10})$/.exec(dialog) : null;
  if (match) return uuidOf(call, 'dialog', Number(match[1]), 'Chat');
  const session = optionalId(call.params, 'SESSION_ID');
  if (session !== undefined) {
    const sessionId = await uuidOf(call, 'session', session, 'Session');
    const row = await call.ctx.store.db
      .selectFrom('sessions')
      .select('dialog_id')
      .where('id', '=', sessionId)
      .where('account_id', '=', call.caller.actor.accountId)
      .executeTakeFirst();
    if (!row) throw notFoundError(`Session ${session}`);
    return row.dialog_id;
  }
  throw argumentError('CHAT_ID is required');
}

function operatorAction(run: (call: MethodCall, dialogId: string) => Promise<unknown>): MethodHandler {
  return async (call) => {
    await run(call, await dialogOf(call));
    return { result: true };
  };
}

/** Our session statuses as Bitrix24's numeric STATUS (../shared/BITRIX24-REFERENCE.md §2). */
export const BITRIX_SESSION_STATUS: Record<SessionStatus, number> = {
  new: 0,
  bot: 0,
  queued: 0,
  assigned: 10,
  client_waiting: 25,
  answered: 40,
  closed: 60,
  auto_closed: 60,
  spam: 65,
  closed_silently: 75,
};

/**
 * The CRM records the chat's current (or last) session is linked to, as `[{CRM_ENTITY_TYPE,
 * CRM_ENTITY}]`: the numbers imopenlines.crm.chat.* take.
 */
async function crmBindingsOf(call: MethodCall, sessionId: string | undefined) {
  if (!sessionId) return [];
  const { db } = call.ctx.store;
  const row = await db
    .selectFrom('sessions')
    .select(['crm_contact_id', 'crm_lead_id', 'crm_deal_id'])
    .where('id', '=', sessionId)
    .executeTakeFirst();
  const links = [
    { type: 'CONTACT', kind: 'contact' as const, id: row?.crm_contact_id },
    { type: 'LEAD', kind: 'lead' as const, id: row?.crm_lead_id },
    { type: 'DEAL', kind: 'deal' as const, id: row?.crm_deal_id },
  ].filter((link): link is { type: string; kind: 'contact' | 'lead' | 'deal'; id: string } =>
    Boolean(link.id),
  );
  const numbers = await numericIds(
    db,
    call.caller.actor.accountId,
    links.map((link) => ({ kind: CRM_NUMBERED[link.kind], id: link.id })),
  );
  return links.map((link, index) => ({ CRM_ENTITY_TYPE: link.type, CRM_ENTITY: numbers[index] }));
}

async function presentDialog(call: MethodCall, dialog: Dialog) {
  const refs = [
    { kind: 'dialog' as const, id: dialog.id },
    { kind: 'line' as const, id: dialog.lineId },
    { kind: 'client' as const, id: dialog.client.id },
    ...(dialog.session ? [{ kind: 'session' as const, id: dialog.session.id }] : []),
    ...(dialog.session?.operatorId ? [{ kind: 'user' as const, id: dialog.session.operatorId }] : []),
  ];
  const [chat, line, client, session, operator] = await numericIds(
    call.ctx.store.db,
    call.caller.actor.accountId,
    refs,
  );
  return {
    id: chat,
    dialog_id: `chat${chat}`,
    chat_id: chat,
    type: 'lines',
    name: dialog.client.name,
    entity_type: 'LINES',
    entity_id: await chatEntityIdOf(
      call.ctx.store.db,
      { channelId: dialog.channelId, clientId: dialog.client.id },
      { line: line!, client: client! },
    ),
    owner: dialog.session?.operatorId ? operator : 0,
    session_id: session ?? null,
    session_status: dialog.session ? BITRIX_SESSION_STATUS[dialog.session.status] : null,
    session_state: dialog.session?.status ?? null,
    date_create: dialog.createdAt,
    crm_bindings: await crmBindingsOf(call, dialog.session?.id),
  };
}

const dialogGet: MethodHandler = async (call) => {
  const dialog = await getDialog(call.ctx, call.caller.actor, await dialogOf(call));
  return { result: await presentDialog(call, dialog) };
};

const transfer = operatorAction(async (call, dialogId) => {
  const target = optionalString(call.params, 'TRANSFER_ID', 30);
  if (!target) throw argumentError('TRANSFER_ID is required: a user id, or queue<line id>');
  const queue = /^queue(\d{1,10})$/.exec(target);
  if (queue) {
    const lineId = await uuidOf(call, 'line', Number(queue[1]), 'Line');
    return transferDialog(call.ctx, call.caller.actor, dialogId, { lineId });
  }
  if (!/^\d{1,10}$/.test(target)) throw argumentError('TRANSFER_ID must be a user id, or queue<line id>');
  const operatorId = await uuidOf(call, 'user', Number(target), 'User');
  return transferDialog(call.ctx, call.caller.actor, dialogId, { operatorId });
});

const pin = operatorAction(async (call, dialogId) =>
  setPinned(call.ctx, call.caller.actor, dialogId, optionalFlag(call.params, 'ACTIVATE') ?? true),
);

/**
 * session.mode.silent: Bitrix24's deprecated mode that keeps the operators' messages from the
 * client. Openlines has no such mode for a session (a private note is the way to write without the
 * client seeing it), so turning it on is refused and turning it off changes nothing. The chat is
 * checked first: another account's, or one the caller may not see, is NOT_FOUND.
 */
const silent: MethodHandler = async (call) => {
  await getDialog(call.ctx, call.caller.actor, await dialogOf(call));
  if (optionalFlag(call.params, 'ACTIVATE') ?? true) {
    throw argumentError(
      'ACTIVATE: silent mode is not supported by this server; write a private note instead (docs/bitrix24-compat.md)',
    );
  }
  return { result: true };
};

/** session.mode.pinAll / unpinAll: every chat the caller holds; answers the sessions changed. */
function pinAll(pinned: boolean): MethodHandler {
  return async (call) => {
    const { actor } = call.caller;
    const held = await call.ctx.store.db
      .selectFrom('sessions')
      .select(['id', 'dialog_id'])
      .where('account_id', '=', actor.accountId)
      .where('operator_id', '=', actor.userId)
      .where('status', 'in', OPERATOR_STATUSES)
      .where('pinned', '=', !pinned)
      .orderBy('created_at')
      .execute();
    const changed: string[] = [];
    for (const session of held) {
      try {
        await setPinned(call.ctx, actor, session.dialog_id, pinned);
        changed.push(session.id);
      } catch (error) {
        // Closed or passed on since it was read: not the caller's to pin any more.
        if (error instanceof AppError && ['invalid_state', 'conflict', 'forbidden'].includes(error.code))
          continue;
        throw error;
      }
    }
    const numbers = await numericIds(
      call.ctx.store.db,
      actor.accountId,
      changed.map((id) => ({ kind: 'session' as const, id })),
    );
    return { result: numbers };
  };
}

// ----- Sessions ---------------------------------------------------------------------------------

/**
 * session.open: the chat of a USER_CODE (`connector|line|chat|user`, the `entity_id` of
 * imopenlines.dialog.get and CHAT_ENTITY_ID of bot events) as `{chatId}`. It finds the chat; a
 * chat starts here only with the client's first message.
 */
const sessionOpen: MethodHandler = async (call) => {
  const code = optionalString(call.params, 'USER_CODE', 1000);
  if (!code) throw argumentError('USER_CODE is required: connector|line|chat|user');
  const parts = code.split('|');
  const line = Number(parts[1]);
  const client = Number(parts.at(-1));
  if (
    parts.length < 4 ||
    !Number.isSafeInteger(line) ||
    !Number.isSafeInteger(client) ||
    line <= 0 ||
    client <= 0
  )
    throw argumentError('USER_CODE must be connector|line|chat|user, with the line and user ids as numbers');
  const { db } = call.ctx.store;
  const { actor } = call.caller;
  const notFound = () => notFoundError(`Chat ${code}`);
  const lineId = await resolveNumericId(db, actor.accountId, 'line', line);
  const clientId = await resolveNumericId(db, actor.accountId, 'client', client);
  if (!lineId || !clientId) throw notFound();
  const dialogs = await db
    .selectFrom('dialogs')
    .select(['id', 'channel_id'])
    .where('account_id', '=', actor.accountId)
    .where('line_id', '=', lineId)
    .where('client_id', '=', clientId)
    .execute();
  for (const row of dialogs) {
    const entity = await chatEntityIdOf(db, { channelId: row.channel_id, clientId }, { line, client });
    if (entity !== code) continue;
    try {
      await loadVisibleDialog(db, actor, row.id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw notFound();
      throw error;
    }
    const [chatId] = await numericIds(db, actor.accountId, [{ kind: 'dialog', id: row.id }]);
    return { result: { chatId } };
  }
  throw notFound();
};

/**
 * session.start: a new session in a chat that has none open, held by the caller at once — the
 * web app's "write first" (services/operator-actions followUpDialog), with its rules: a queue
 * member of the line or a supervisor, the channel still reaching the client.
 */
const sessionStart = operatorAction((call, dialogId) =>
  followUpDialog(call.ctx, call.caller.actor, dialogId),
);

/** session.join: the caller joins the chat beside its operator (a consultation; holder or `supervise`). */
const sessionJoin = operatorAction((call, dialogId) =>
  inviteToDialog(call.ctx, call.caller.actor, dialogId, {
    userId: call.caller.actor.userId,
    mode: 'consult',
  }),
);

/** session.intercept: the caller takes the chat over from its operator (holder or `supervise`). */
const sessionIntercept = operatorAction((call, dialogId) =>
  transferDialog(call.ctx, call.caller.actor, dialogId, { operatorId: call.caller.actor.userId }),
);

/** session.head.vote: a supervisor's 1–5 (RATING) and COMMENT of a session (QR-3). */
const headVote: MethodHandler = async (call) => {
  const number = optionalId(call.params, 'SESSION_ID');
  if (number === undefined) throw argumentError('SESSION_ID is required');
  const sessionId = await uuidOf(call, 'session', number, 'Session');
  const ratingValue = pick(call.params, 'RATING');
  const rating = ratingValue === undefined || ratingValue === '' ? undefined : Number(ratingValue);
  if (rating !== undefined && (!Number.isInteger(rating) || rating < 1 || rating > 5))
    throw argumentError('RATING must be 1 to 5');
  const comment = optionalString(call.params, 'COMMENT', 2000);
  if (rating === undefined && comment === undefined) throw argumentError('RATING or COMMENT is required');
  await rateBySupervisor(call.ctx, call.caller.actor, sessionId, {
    ...(rating !== undefined ? { rating } : {}),
    ...(comment !== undefined ? { comment } : {}),
  });
  return { result: true };
};

/**
 * session.history.get: the chat's messages (all sessions, or one SESSION_ID's), keyed by their
 * numeric ids as Bitrix24 answers: `{chatId, sessionId, message: {<id>: {id, chat_id, author_id,
 * date, text}}, users: {<id>: {id, name}}}`. The latest 500.
 */
const historyGet: MethodHandler = async (call) => {
  const dialogId = await dialogOf(call);
  const sessionNumber = optionalId(call.params, 'SESSION_ID');
  const sessionId =
    sessionNumber === undefined ? undefined : await uuidOf(call, 'session', sessionNumber, 'Session');
  const dialog = await getDialog(call.ctx, call.caller.actor, dialogId);
  const messages = (await listMessages(call.ctx, call.caller.actor, dialogId, { limit: 500 })).filter(
    (message) => !message.private && (sessionId === undefined || message.sessionId === sessionId),
  );
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  const [chat, client] = await numericIds(db, accountId, [
    { kind: 'dialog', id: dialogId },
    { kind: 'client', id: dialog.client.id },
  ]);
  const authorIds = [
    ...new Set(messages.flatMap((m) => (m.authorKind === 'operator' && m.authorId ? [m.authorId] : []))),
  ];
  const authorNumbers = await numericIds(
    db,
    accountId,
    authorIds.map((id) => ({ kind: 'user' as const, id })),
  );
  const authors = new Map(authorIds.map((id, index) => [id, authorNumbers[index]!]));
  const names =
    authorIds.length > 0
      ? await db
          .selectFrom('users')
          .select(['id', 'name'])
          .where('account_id', '=', accountId)
          .where('id', 'in', authorIds)
          .execute()
      : [];
  const messageNumbers = await numericIds(
    db,
    accountId,
    messages.map((m) => ({ kind: 'message' as const, id: m.id })),
  );
  const users: Record<string, unknown> = { [String(client)]: { id: client, name: dialog.client.name } };
  for (const user of names)
    users[String(authors.get(user.id))] = { id: authors.get(user.id), name: user.name };
  const message: Record<string, unknown> = {};
  messages.forEach((item, index) => {
    const id = messageNumbers[index]!;
    const author =
      item.authorKind === 'client' ? client : item.authorId ? (authors.get(item.authorId) ?? 0) : 0;
    message[String(id)] = {
      id,
      chat_id: chat,
      author_id: author,
      date: item.createdAt,
      text: item.text ?? '',
    };
  });
  return { result: { chatId: chat, sessionId: sessionNumber ?? null, message, users } };
};

/** crm.lead.create: a lead for the chat's client, linked to its session (the CRM's consent rule applies). */
const crmLeadCreate: MethodHandler = async (call) => {
  const dialogId = await dialogOf(call);
  const dialog = await getDialog(call.ctx, call.caller.actor, dialogId);
  await createLead(call.ctx, call.caller.actor, {
    title: `${dialog.client.name || 'Client'} — ${dialog.channelKind}`.slice(0, 200),
    dialogId,
    source: 'openlines',
  });
  return { result: true };
};

// ----- Users (to learn the ids QUEUE and TRANSFER_ID take) ------------------------------------

const userGet: MethodHandler = async (call) => {
  const start = startOf(call.params);
  const users = await listUsers(call.ctx, call.caller.actor, {});
  const id = optionalId(call.params, 'ID');
  const numbers = await numericIds(
    call.ctx.store.db,
    call.caller.actor.accountId,
    users.map((user) => ({ kind: 'user' as const, id: user.id })),
  );
  const all = users
    .map((user, index) => ({
      ID: String(numbers[index]),
      ACTIVE: user.active,
      NAME: user.name,
      EMAIL: user.email,
    }))
    .filter((user) => id === undefined || user.ID === String(id));
  return page(all.slice(start, start + PAGE_SIZE), start, all.length);
};

const profile: MethodHandler = async (call) => {
  const { actor } = call.caller;
  const [id] = await numericIds(call.ctx.store.db, actor.accountId, [{ kind: 'user', id: actor.userId }]);
  const user = await call.ctx.store.db
    .selectFrom('users')
    .select(['name'])
    .where('id', '=', actor.userId)
    .executeTakeFirstOrThrow();
  return {
    result: { ID: String(id), ADMIN: actor.permissions.manageIntegrations, NAME: user.name, LAST_NAME: '' },
  };
};

export const OPENLINES_METHODS: Record<string, MethodHandler> = {
  'imopenlines.config.add': configAdd,
  'imopenlines.config.update': configUpdate,
  'imopenlines.config.get': configGet,
  'imopenlines.config.list.get': configList,
  'imopenlines.config.delete': configDelete,
  'imopenlines.config.path.get': configPath,
  'imopenlines.operator.answer': operatorAction((call, id) => takeDialog(call.ctx, call.caller.actor, id)),
  'imopenlines.operator.skip': operatorAction((call, id) => skipDialog(call.ctx, call.caller.actor, id)),
  'imopenlines.operator.spam': operatorAction((call, id) => markSpam(call.ctx, call.caller.actor, id)),
  'imopenlines.operator.finish': operatorAction((call, id) =>
    closeDialog(call.ctx, call.caller.actor, id, true),
  ),
  'imopenlines.operator.transfer': transfer,
  'imopenlines.operator.another.finish': operatorAction((call, id) =>
    closeDialog(call.ctx, call.caller.actor, id, true),
  ),
  'imopenlines.session.join': sessionJoin,
  'imopenlines.session.intercept': sessionIntercept,
  'imopenlines.session.head.vote': headVote,
  'imopenlines.session.history.get': historyGet,
  'imopenlines.crm.lead.create': crmLeadCreate,
  'imopenlines.dialog.get': dialogGet,
  'imopenlines.session.mode.pin': pin,
  'imopenlines.session.mode.silent': silent,
  'imopenlines.session.mode.pinall': pinAll(true),
  'imopenlines.session.mode.unpinall': pinAll(false),
  'imopenlines.session.open': sessionOpen,
  'imopenlines.session.start': sessionStart,
  'user.get': userGet,
  profile,
};
