import { LINE_LANGUAGES, type LineLanguage } from '@openlines/contract';
import { type RawBuilder, sql, type Transaction } from 'kysely';
import {
  type ErasedValue,
  type ErasureScope,
  type PersonalDataEntry,
  RETAINED_OUTBOX_PATHS,
  type Reach,
} from '../core/personal-data';
import type { DB } from './schema';

type Tx = Transaction<DB>;

/**
 * The statements of the erasure routine (services/erasure), driven by the declarative definition in
 * core/personal-data: one UPDATE or DELETE per table entry, built from its `reach`.
 */

function ref(table: string, column: string) {
  return sql.ref(`${table}.${column}`);
}

function tuple(columns: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return columns.length === 1 ? columns[0]! : sql`(${sql.join(columns)})`;
}

/** `<columns> in (ids)` or `<columns> in (select <via.columns> from <via.table> where <via.key> in (ids))`. */
export function reaches(table: string, reach: Reach, ids: readonly string[]): RawBuilder<boolean> {
  const left = tuple(reach.columns.map((column) => ref(table, column)));
  const list = sql.join(ids.map((id) => sql`${id}`));
  if (!reach.via) return sql<boolean>`${left} in (${list})`;
  const via = reach.via;
  const picked = sql.join(via.columns.map((column) => ref(via.table, column)));
  return sql<boolean>`${left} in (select ${picked} from ${sql.table(via.table)} where ${ref(via.table, via.key)} in (${list}))`;
}

function sqlValueOf(value: ErasedValue): unknown {
  return Array.isArray(value) ? JSON.stringify(value) : value;
}

function keepCondition(entry: PersonalDataEntry, scope: ErasureScope): RawBuilder<boolean> {
  const keep = entry.keepWhile;
  if (!keep?.scopes.includes(scope)) return sql<boolean>`true`;
  return sql<boolean>`${ref(entry.table, keep.column)} is distinct from ${keep.value}`;
}

/** Applies one entry's `set` or `delete` to the rows of `scope` among `ids` in the account. */
export async function applyEntry(
  tx: Tx,
  accountId: string,
  entry: PersonalDataEntry,
  scope: ErasureScope,
  action: { set: Record<string, ErasedValue> } | 'delete',
  ids: readonly string[],
): Promise<number> {
  const reach = entry.reach[scope];
  if (!reach || ids.length === 0) return 0;
  const table = sql.table(entry.table);
  const where = sql`${ref(entry.table, 'account_id')} = ${accountId} and ${reaches(entry.table, reach, ids)} and ${keepCondition(entry, scope)}`;
  if (action === 'delete') {
    const result = await sql`delete from ${table} where ${where}`.execute(tx);
    return Number(result.numAffectedRows ?? 0n);
  }
  const assignments = sql.join(
    Object.entries(action.set).map(([column, value]) => sql`${sql.ref(column)} = ${sqlValueOf(value)}`),
  );
  const result = await sql`update ${table} set ${assignments} where ${where}`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

/** The stored-file URLs an entry's rows of `scope` point at (attachments, avatars). */
export async function fileUrlsOf(
  tx: Tx,
  accountId: string,
  entry: PersonalDataEntry,
  scope: ErasureScope,
  ids: readonly string[],
): Promise<string[]> {
  const reach = entry.reach[scope];
  const columns = [...(entry.attachments ? [entry.attachments] : []), ...(entry.fileUrls ?? [])];
  if (!reach || ids.length === 0 || columns.length === 0) return [];
  const urls: string[] = [];
  if (entry.attachments) {
    const rows = await sql<{ url: string }>`
      select a->>'url' as url
      from ${sql.table(entry.table)}, jsonb_array_elements(${ref(entry.table, entry.attachments)}) a
      where ${ref(entry.table, 'account_id')} = ${accountId} and ${reaches(entry.table, reach, ids)}
        and jsonb_typeof(${ref(entry.table, entry.attachments)}) = 'array'`.execute(tx);
    for (const row of rows.rows) if (row.url) urls.push(row.url);
  }
  for (const column of entry.fileUrls ?? []) {
    const rows = await sql<{ url: string | null }>`
      select ${ref(entry.table, column)} as url from ${sql.table(entry.table)}
      where ${ref(entry.table, 'account_id')} = ${accountId} and ${reaches(entry.table, reach, ids)}
        and ${ref(entry.table, column)} is not null`.execute(tx);
    for (const row of rows.rows) if (row.url) urls.push(row.url);
  }
  return urls;
}

/** Removes the `files` rows and queues their bytes for the privacy worker to unlink. */
export async function queueFileErasures(tx: Tx, accountId: string, fileIds: readonly string[], now: Date) {
  if (fileIds.length === 0) return;
  const list = sql.join(fileIds.map((id) => sql`${id}`));
  await sql`
    with gone as (
      delete from files where account_id = ${accountId} and id in (${list}) returning id
    )
    insert into file_erasures (file_id, account_id, queued_at)
    select id, ${accountId}, ${now} from gone
    on conflict (file_id) do nothing`.execute(tx);
}

/** Every stored file of an account, for account deletion. */
export async function queueAllFileErasures(tx: Tx, accountId: string, now: Date) {
  await sql`
    insert into file_erasures (file_id, account_id, queued_at)
    select id, account_id, ${now} from files where account_id = ${accountId}
    on conflict (file_id) do nothing`.execute(tx);
}

// ---------------------------------------------------------------------------------------------
// The event log
// ---------------------------------------------------------------------------------------------

/** Deletes every event of these dialogs: the dialog is deleted or its client anonymised. */
export async function deleteDialogEvents(tx: Tx, accountId: string, dialogIds: readonly string[]) {
  if (dialogIds.length === 0) return;
  await tx
    .deleteFrom('events')
    .where('account_id', '=', accountId)
    .where('dialog_id', 'in', [...dialogIds])
    .execute();
}

/**
 * Redacts, in place, what the events of these dialogs say about erased messages: the messages'
 * texts and attachments, and every preview and rating comment of the dialogs' events (a preview or
 * comment may quote an erased message). The events stay, so a replay misses no state change.
 */
export async function redactDialogEvents(
  tx: Tx,
  accountId: string,
  dialogIds: readonly string[],
  messageIds: readonly string[],
) {
  if (dialogIds.length === 0) return;
  const dialogs = sql.join(dialogIds.map((id) => sql`${id}`));
  if (messageIds.length > 0) {
    const messages = sql.join(messageIds.map((id) => sql`${id}`));
    await sql`
      update events set data = jsonb_set(jsonb_set(data, '{message,text}', 'null'::jsonb),
        '{message,attachments}', '[]'::jsonb)
      where account_id = ${accountId} and dialog_id in (${dialogs})
        and type in ('message.created', 'message.updated')
        and data -> 'message' ->> 'id' in (${messages})`.execute(tx);
  }
  await sql`
    update events set data = case
        when type = 'dialog.updated' then jsonb_set(
          case when jsonb_typeof(data #> '{dialog,session,rating}') = 'object'
            then jsonb_set(data, '{dialog,session,rating,comment}', 'null'::jsonb) else data end,
          '{dialog,lastMessagePreview}', 'null'::jsonb)
        else jsonb_set(data, '{activity,lastMessagePreview}', 'null'::jsonb)
      end
    where account_id = ${accountId} and dialog_id in (${dialogs})
      and (type = 'dialog.updated' or (type = 'message.created' and jsonb_typeof(data -> 'activity') = 'object'))`.execute(
    tx,
  );
}

/**
 * Event webhook deliveries copy their events (message texts, client names): those of erased
 * dialogs are deleted with the events. A delivery still waiting is kept when the dialog stays (the
 * subscriber still gets the close) but marked, so the worker empties its body in the statement that
 * records it delivered (workers/webhooks) and the 30-day log keeps no copy; it goes at once when
 * the dialog itself is deleted.
 */
export async function forgetWebhookDeliveries(
  tx: Tx,
  accountId: string,
  dialogIds: readonly string[],
  waitingToo: boolean,
) {
  if (dialogIds.length === 0) return;
  const keys = dialogIds.map((id) => `dialog:${id}`);
  if (waitingToo) {
    await tx
      .deleteFrom('webhook_deliveries')
      .where('account_id', '=', accountId)
      .where('ordering_key', 'in', keys)
      .execute();
    return;
  }
  // One statement: the delivered copies go, the waiting ones are marked.
  await sql`with gone as (
      delete from webhook_deliveries where account_id = ${accountId}
        and ordering_key in (${sql.join(keys)}) and state = 'delivered'
    )
    update webhook_deliveries set forget_body = true where account_id = ${accountId}
      and ordering_key in (${sql.join(keys)}) and state = 'pending'`.execute(tx);
}

/**
 * Prunes events older than `before`, at most `limit` of them, and records per account the highest
 * cursor pruned (a socket resuming from before it gets `resync`). Returns how many went.
 */
export async function pruneEventsBefore(tx: Tx, before: Date, limit: number): Promise<number> {
  const result = await sql<{ pruned: number }>`
    with doomed as (
      select account_id, cursor from events where created_at < ${before}
      order by created_at limit ${limit}
    ), gone as (
      delete from events e using doomed d
      where e.account_id = d.account_id and e.cursor = d.cursor
      returning e.account_id, e.cursor
    ), floors as (
      update accounts a set events_pruned_through = greatest(a.events_pruned_through, g.top)
      from (select account_id, max(cursor) as top from gone group by account_id) g
      where a.id = g.account_id
      returning a.id
    )
    select (select count(*) from gone)::int as pruned, (select count(*) from floors)::int as accounts`.execute(
    tx,
  );
  return Number(result.rows[0]?.pruned ?? 0);
}

/**
 * The account's language, for what an erasure writes in words ("Deleted client"): the notification
 * language (`other.language`) most of its lines use; English when it has none.
 */
export async function accountLanguage(tx: Tx, accountId: string): Promise<LineLanguage> {
  const row = await sql<{ language: string | null }>`
    select settings->'other'->>'language' as language from lines where account_id = ${accountId}
    group by 1 order by count(*) desc, 1 limit 1`.execute(tx);
  const language = row.rows[0]?.language;
  return (LINE_LANGUAGES as readonly string[]).includes(language ?? '') ? (language as LineLanguage) : 'en';
}

/** A bot event once sent or given up: its id and type, none of the client's words or name. */
export function retainedBotEventSql(): RawBuilder<string> {
  return sql<string>`jsonb_build_object('id', payload->'id', 'type', payload->'type')`;
}

/** An outbox row's payload without the message's content (core/personal-data retainedOutboxPayload). */
export function retainedOutboxPayloadSql(): RawBuilder<string> {
  const paths = RETAINED_OUTBOX_PATHS.map((path) => `#- '{${path.join(',')}}'`).join(' ');
  return sql<string>`outbox.payload ${sql.raw(paths)}`;
}
