import { CONNECTOR_EVENTS } from '../channels/bitrix24/events';
import { authorize } from '../services/actor';
import { runInTransaction } from '../services/transaction';
import { syncChannelHandlers } from './connectors';
import { argumentError, BitrixError } from './errors';
import { appOf, type MethodHandler, PAGE_SIZE, page } from './method';
import { optionalString, requiredString, startOf } from './params';

/**
 * event.bind / unbind / get. Only events this server delivers can be bound: binding another one
 * would be a promise we do not keep (docs/bitrix24-compat.md lists them). Events go out from the
 * durable outbox and are retried (Bitrix24 drops a failed one); `event_type=offline` is not served.
 */
export const DELIVERED_EVENTS = Object.values(CONNECTOR_EVENTS);
const MAX_HANDLERS_PER_EVENT = 20;

function eventName(value: string): string {
  const event = value.toUpperCase();
  if (!(DELIVERED_EVENTS as readonly string[]).includes(event)) {
    throw new BitrixError(
      'ERROR_EVENT_NOT_FOUND',
      `Event ${value} is not delivered by this server (supported: ${DELIVERED_EVENTS.join(', ')})`,
    );
  }
  return event;
}

export function handlerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw argumentError('handler must be a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw argumentError('handler must be an http or https URL');
  if (url.username || url.password)
    throw argumentError('handler must not contain credentials; check application_token instead');
  return url.toString();
}

const bind: MethodHandler = async (call) => {
  const app = appOf(call);
  authorize(call.caller.actor, 'manageIntegrations');
  const event = eventName(requiredString(call.params, 'event', 200));
  const handler = handlerUrl(requiredString(call.params, 'handler', 2048));
  const type = optionalString(call.params, 'event_type', 20) ?? 'online';
  if (type !== 'online')
    throw argumentError('event_type: only online events are served (we retry them instead)');
  const { accountId } = call.caller.actor;
  await runInTransaction(call.ctx, async ({ tx }) => {
    const { count } = await tx
      .selectFrom('bitrix_event_handlers')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('app_id', '=', app.id)
      .where('event', '=', event)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_HANDLERS_PER_EVENT)
      throw argumentError(`At most ${MAX_HANDLERS_PER_EVENT} handlers per event`);
    const inserted = await tx
      .insertInto('bitrix_event_handlers')
      .values({ account_id: accountId, app_id: app.id, event, handler, created_at: call.ctx.clock.now() })
      .onConflict((oc) => oc.columns(['app_id', 'event', 'handler']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) throw new BitrixError('ERROR_BINDING_EXISTS', 'Handler already binded');
    await syncChannelHandlers(tx, accountId, app.id);
  });
  return { result: true };
};

const unbind: MethodHandler = async (call) => {
  const app = appOf(call);
  authorize(call.caller.actor, 'manageIntegrations');
  const event = requiredString(call.params, 'event', 200).toUpperCase();
  const handler = optionalString(call.params, 'handler', 2048);
  const { accountId } = call.caller.actor;
  const count = await runInTransaction(call.ctx, async ({ tx }) => {
    let query = tx
      .deleteFrom('bitrix_event_handlers')
      .where('app_id', '=', app.id)
      .where('event', '=', event);
    if (handler !== undefined) query = query.where('handler', '=', handlerUrl(handler));
    const deleted = await query.executeTakeFirst();
    await syncChannelHandlers(tx, accountId, app.id);
    return Number(deleted.numDeletedRows);
  });
  return { result: { count } };
};

const get: MethodHandler = async (call) => {
  const app = appOf(call);
  const start = startOf(call.params);
  const rows = await call.ctx.store.db
    .selectFrom('bitrix_event_handlers')
    .select(['event', 'handler'])
    .where('app_id', '=', app.id)
    .orderBy('id')
    .execute();
  const items = rows.slice(start, start + PAGE_SIZE).map((row) => ({
    event: row.event,
    handler: row.handler,
    auth_type: '0',
    offline: 0,
  }));
  return page(items, start, rows.length);
};

export const EVENT_METHODS: Record<string, MethodHandler> = {
  'event.bind': bind,
  'event.unbind': unbind,
  'event.get': get,
};
