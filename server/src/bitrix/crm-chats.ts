import { MaxMessageText } from '@openlines/contract';
import type { Bitrix24ChannelSettings } from '../channels/bitrix24/settings';
import { findConnector } from '../channels/registry';
import { AppError } from '../errors';
import { inviteToDialog, leaveDialog, sendMessage } from '../services/actions';
import type { Actor } from '../services/actor';
import { loadRecord, type RecordKind } from '../services/crm/records';
import { loadVisibleDialog } from '../services/dialogs';
import { type NumberedKind, numericIds, resolveNumericId } from '../services/numeric-ids';
import type { Database } from '../store/database';
import { accessDenied, argumentError, BitrixError, notFoundError } from './errors';
import type { MethodCall, MethodHandler } from './method';
import { optionalId, optionalString, requiredString } from './params';

/**
 * imopenlines.crm.chat.*: the chats of a CRM record. A chat belongs to a record when one of its
 * sessions is linked to it (services/crm: the session's contact, lead or deal; a company through its
 * contacts and deals). Records are numbered on this surface like everything else: `crm_bindings`
 * of imopenlines.dialog.get names a chat's. Only records in the caller's CRM scope and chats the
 * caller may see are found; anything else is NOT_FOUND.
 */

const ENTITY_TYPES: Record<string, RecordKind> = {
  lead: 'lead',
  deal: 'deal',
  contact: 'contact',
  company: 'company',
};

/** The numbered kind of a CRM record on this surface (services/numeric-ids). */
export const CRM_NUMBERED: Record<RecordKind, NumberedKind> = {
  lead: 'lead',
  deal: 'deal',
  contact: 'contact',
  company: 'company',
};

interface Entity {
  kind: RecordKind;
  id: string;
}

async function entityOf(call: MethodCall): Promise<Entity> {
  const type = optionalString(call.params, 'CRM_ENTITY_TYPE', 20)?.toLowerCase();
  const kind = type ? ENTITY_TYPES[type] : undefined;
  if (!kind) throw argumentError('CRM_ENTITY_TYPE must be lead, deal, company or contact');
  // The documentation names it CRM_ENTITY, and CRM_ENTITY_ID in places: both are read.
  const number = optionalId(call.params, 'CRM_ENTITY') ?? optionalId(call.params, 'CRM_ENTITY_ID');
  if (number === undefined) throw argumentError('CRM_ENTITY is required');
  const { db } = call.ctx.store;
  const id = await resolveNumericId(db, call.caller.actor.accountId, CRM_NUMBERED[kind], number);
  if (!id) throw notFoundError(`CRM ${kind} ${number}`);
  try {
    await loadRecord(db, call.caller.actor, kind, id);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFoundError(`CRM ${kind} ${number}`);
    throw error;
  }
  return { kind, id };
}

interface LinkedChat {
  dialogId: string;
  open: boolean;
  kind: string;
  settings: unknown;
  channelName: string;
}

const OPEN = ['new', 'bot', 'queued', 'assigned', 'client_waiting', 'answered'] as const;

/** The chats linked to the record that the caller may see, latest linked session first. */
async function linkedChats(db: Database, actor: Actor, entity: Entity): Promise<LinkedChat[]> {
  const rows = await db
    .selectFrom('sessions')
    .innerJoin('dialogs', 'dialogs.id', 'sessions.dialog_id')
    .innerJoin('channels', 'channels.id', 'dialogs.channel_id')
    .select([
      'dialogs.id as dialogId',
      'sessions.status',
      'channels.kind',
      'channels.settings',
      'channels.name as channelName',
    ])
    .where('sessions.account_id', '=', actor.accountId)
    .where((eb) => {
      switch (entity.kind) {
        case 'lead':
          return eb('sessions.crm_lead_id', '=', entity.id);
        case 'deal':
          return eb('sessions.crm_deal_id', '=', entity.id);
        case 'contact':
          return eb('sessions.crm_contact_id', '=', entity.id);
        default:
          return eb.or([
            eb(
              'sessions.crm_contact_id',
              'in',
              eb.selectFrom('crm_contacts').select('id').where('company_id', '=', entity.id),
            ),
            eb(
              'sessions.crm_deal_id',
              'in',
              eb.selectFrom('crm_deals').select('id').where('company_id', '=', entity.id),
            ),
          ]);
      }
    })
    .orderBy('sessions.created_at', 'desc')
    .orderBy('sessions.seq', 'desc')
    .execute();
  const chats = new Map<string, LinkedChat>();
  for (const row of rows) {
    if (chats.has(row.dialogId)) continue;
    chats.set(row.dialogId, {
      dialogId: row.dialogId,
      open: (OPEN as readonly string[]).includes(row.status),
      kind: row.kind,
      settings: row.settings,
      channelName: row.channelName,
    });
  }
  const visible: LinkedChat[] = [];
  for (const chat of chats.values()) {
    try {
      await loadVisibleDialog(db, actor, chat.dialogId);
      visible.push(chat);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
    }
  }
  return visible;
}

/** crm.chat.get: the record's active chats (an open session), `[{CHAT_ID, CONNECTOR_ID, CONNECTOR_TITLE}]`. */
const chatGet: MethodHandler = async (call) => {
  const entity = await entityOf(call);
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  const chats = (await linkedChats(db, call.caller.actor, entity)).filter((chat) => chat.open);
  const numbers = await numericIds(
    db,
    accountId,
    chats.map((chat) => ({ kind: 'dialog' as const, id: chat.dialogId })),
  );
  return {
    result: chats.map((chat, index) => {
      const bitrix = chat.kind === 'bitrix24';
      return {
        CHAT_ID: String(numbers[index]),
        CONNECTOR_ID: bitrix ? (chat.settings as Bitrix24ChannelSettings).connector : chat.kind,
        CONNECTOR_TITLE: bitrix ? chat.channelName : (findConnector(chat.kind)?.title ?? chat.kind),
      };
    }),
  };
};

/** crm.chat.getLastId: the chat most recently linked to the record, or false. */
const chatGetLastId: MethodHandler = async (call) => {
  const entity = await entityOf(call);
  const [last] = await linkedChats(call.ctx.store.db, call.caller.actor, entity);
  if (!last) return { result: false };
  const [number] = await numericIds(call.ctx.store.db, call.caller.actor.accountId, [
    { kind: 'dialog', id: last.dialogId },
  ]);
  return { result: number };
};

/** The chat of user.add / user.delete: CHAT_ID, which must be the record's, or its last one. */
async function chatOfRecord(call: MethodCall, entity: Entity): Promise<{ dialogId: string; number: number }> {
  const { db } = call.ctx.store;
  const { accountId } = call.caller.actor;
  const chats = await linkedChats(db, call.caller.actor, entity);
  const number = optionalId(call.params, 'CHAT_ID');
  if (number === undefined) {
    const last = chats[0];
    if (!last) throw new BitrixError('CHAT_NOT_IN_CRM', 'The CRM record has no chat');
    const [lastNumber] = await numericIds(db, accountId, [{ kind: 'dialog', id: last.dialogId }]);
    return { dialogId: last.dialogId, number: lastNumber! };
  }
  const dialogId = await resolveNumericId(db, accountId, 'dialog', number);
  if (!dialogId) throw notFoundError(`Chat ${number}`);
  if (!chats.some((chat) => chat.dialogId === dialogId)) {
    await loadVisibleDialog(db, call.caller.actor, dialogId).catch((error) => {
      if (error instanceof AppError && error.code === 'not_found') throw notFoundError(`Chat ${number}`);
      throw error;
    });
    throw new BitrixError('CHAT_NOT_IN_CRM', `Chat ${number} is not linked to this CRM record`);
  }
  return { dialogId, number };
}

async function userOf(call: MethodCall): Promise<string> {
  const number = optionalId(call.params, 'USER_ID');
  if (number === undefined) throw argumentError('USER_ID is required');
  const id = await resolveNumericId(call.ctx.store.db, call.caller.actor.accountId, 'user', number);
  if (!id) throw notFoundError(`User ${number}`);
  return id;
}

/** crm.chat.user.add: a colleague joins the record's chat as a consultant (the holder or `supervise`). */
const chatUserAdd: MethodHandler = async (call) => {
  const entity = await entityOf(call);
  const userId = await userOf(call);
  const chat = await chatOfRecord(call, entity);
  await inviteToDialog(call.ctx, call.caller.actor, chat.dialogId, { userId, mode: 'consult' });
  return { result: chat.number };
};

/** crm.chat.user.delete: a consultant leaves the record's chat (themselves, or removed by the holder or `supervise`). */
const chatUserDelete: MethodHandler = async (call) => {
  const entity = await entityOf(call);
  const userId = await userOf(call);
  const chat = await chatOfRecord(call, entity);
  await leaveDialog(call.ctx, call.caller.actor, chat.dialogId, userId);
  return { result: true };
};

/**
 * crm.message.add: the caller writes in the record's chat (CHAT_ID, required), as an operator sends
 * from the web app (services/actions sendMessage: answering a waiting chat takes it). USER_ID is who
 * writes: only the caller themselves here, never another user in their name.
 */
const messageAdd: MethodHandler = async (call) => {
  const entity = await entityOf(call);
  const userId = await userOf(call);
  if (userId !== call.caller.actor.userId) {
    throw accessDenied('USER_ID: a message can be written only as the calling user');
  }
  if (optionalId(call.params, 'CHAT_ID') === undefined) throw argumentError('CHAT_ID is required');
  const text = requiredString(call.params, 'MESSAGE', MaxMessageText);
  const chat = await chatOfRecord(call, entity);
  const message = await sendMessage(call.ctx, call.caller.actor, chat.dialogId, { text });
  const [number] = await numericIds(call.ctx.store.db, call.caller.actor.accountId, [
    { kind: 'message', id: message.id },
  ]);
  return { result: number };
};

export const CRM_CHAT_METHODS: Record<string, MethodHandler> = {
  'imopenlines.crm.chat.get': chatGet,
  'imopenlines.crm.chat.getlastid': chatGetLastId,
  'imopenlines.crm.chat.user.add': chatUserAdd,
  'imopenlines.crm.chat.user.delete': chatUserDelete,
  'imopenlines.crm.message.add': messageAdd,
};
