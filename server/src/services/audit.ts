import type {
  AuditAction,
  AuditEntry,
  AuditListQuery,
  AuditPage,
  AuditTargetType,
} from '@openlines/contract';
import { type Selectable, sql } from 'kysely';
import type { AppContext } from '../context';
import { changedKeys, shortKeyList } from '../core/audit';
import type { Database } from '../store/database';
import type { AuditLogTable } from '../store/schema';
import { type Actor, authorize } from './actor';
import { decodeCursor, encodeCursor } from './dialogs';
import type { Tx } from './transaction';

/**
 * The audit log of privileged actions (issue 18): settings changes, user, role and department
 * changes, API tokens, client data exports and erasures. Each entry is written by the service
 * that performs the action, in that action's transaction, so an action and its entry commit
 * together or not at all.
 *
 * An entry holds who (user id and their name at the time), when, what (action, target type and
 * id) and for settings the names of the keys that changed. It never holds values, message texts
 * or a client's personal data: a client is named by id only, so erasing a client leaves nothing
 * of them here to erase.
 */
export interface AuditRecord {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string | null;
  /** The dotted names of the settings that changed (see `keysChanged`); never their values. */
  changedKeys?: readonly string[];
}

/** Who acted: a signed-in user (or API token's user); null for the system itself. */
export interface AuditActor {
  accountId: string;
  userId: string | null;
}

/**
 * Records one entry inside the caller's transaction: one INSERT … SELECT that also copies the
 * user's current name. `at` is the caller's clock (`ctx.clock.now()`).
 */
export async function recordAudit(
  tx: Tx,
  who: AuditActor | Actor,
  entry: AuditRecord,
  at: Date,
): Promise<void> {
  const userId = who.userId;
  await tx
    .insertInto('audit_log')
    .values({
      account_id: who.accountId,
      user_id: userId,
      user_name: userId ? sql<string>`coalesce((select name from users where id = ${userId}), '')` : 'System',
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      changed_keys: JSON.stringify(shortKeyList(entry.changedKeys ?? [])),
      at,
    })
    .execute();
}

/** The names of the keys that differ between two values of a setting (core/audit). */
export function keysChanged(before: unknown, after: unknown, prefix = ''): string[] {
  return changedKeys(before, after, prefix);
}

function presentAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    userId: row.user_id,
    userName: row.user_name,
    action: row.action as AuditAction,
    targetType: row.target_type as AuditTargetType,
    targetId: row.target_id,
    changedKeys: Array.isArray(row.changed_keys) ? row.changed_keys : [],
  };
}

/** The account's audit log, newest first, paged by keyset; needs managePersonalData. */
export async function listAudit(ctx: AppContext, actor: Actor, query: AuditListQuery): Promise<AuditPage> {
  authorize(actor, 'managePersonalData');
  return readAuditPage(ctx.store.db, actor.accountId, query);
}

export async function readAuditPage(
  db: Database,
  accountId: string,
  query: AuditListQuery,
): Promise<AuditPage> {
  const limit = query.limit ?? 50;
  let select = db.selectFrom('audit_log').selectAll().where('account_id', '=', accountId);
  if (query.action) select = select.where('action', '=', query.action);
  if (query.userId) select = select.where('user_id', '=', query.userId);
  if (query.from) select = select.where('at', '>=', new Date(query.from));
  if (query.to) select = select.where('at', '<', new Date(query.to));
  if (query.cursor) {
    const place = decodeCursor(query.cursor);
    const at = place.at ?? new Date(0);
    select = select.where((eb) =>
      eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', place.id)])]),
    );
  }
  const rows = await select
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(presentAudit),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: new Date(last.at), id: last.id }) : null,
  };
}
