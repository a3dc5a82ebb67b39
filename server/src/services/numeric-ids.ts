import type { Database } from '../store/database';
import type { Tx } from './transaction';

type Reader = Database | Tx;

/**
 * Stable integer ids for our uuid records, for surfaces whose clients expect integers (the
 * Bitrix24-compatible REST, where lines, chats, sessions, messages and users are numbers). An id
 * is allocated the first time a record is shown and never changes; it says nothing about order.
 * Resolving one back is scoped to an account, so another account's number finds nothing.
 */
export type NumberedKind =
  | 'line'
  | 'dialog'
  | 'session'
  | 'message'
  | 'user'
  | 'department'
  | 'client'
  | 'bot'
  /** CRM records (imopenlines.crm.chat.*). */
  | 'contact'
  | 'company'
  | 'lead'
  | 'deal';

export interface NumberedRef {
  kind: NumberedKind;
  id: string;
}

/** The integers of these records, allocating missing ones; one statement, in the order given. */
export async function numericIds(db: Reader, accountId: string, refs: NumberedRef[]): Promise<number[]> {
  if (refs.length === 0) return [];
  const unique = new Map(refs.map((ref) => [`${ref.kind}:${ref.id}`, ref]));
  const rows = await db
    .insertInto('bitrix_ids')
    .values([...unique.values()].map((ref) => ({ account_id: accountId, kind: ref.kind, ref: ref.id })))
    // "do update" (a no-op) rather than "do nothing", so existing rows are returned as well.
    .onConflict((oc) => oc.columns(['kind', 'ref']).doUpdateSet((eb) => ({ kind: eb.ref('excluded.kind') })))
    .returning(['id', 'kind', 'ref'])
    .execute();
  const byRef = new Map(rows.map((row) => [`${row.kind}:${row.ref}`, row.id]));
  return refs.map((ref) => {
    const id = byRef.get(`${ref.kind}:${ref.id}`);
    if (id === undefined) throw new Error(`no numeric id for ${ref.kind} ${ref.id}`);
    return id;
  });
}

export async function numericId(
  db: Reader,
  accountId: string,
  kind: NumberedKind,
  id: string,
): Promise<number> {
  const [numeric] = await numericIds(db, accountId, [{ kind, id }]);
  return numeric!;
}

/** The uuid an integer stands for in this account, or null (unknown, another kind, another account). */
export async function resolveNumericId(
  db: Reader,
  accountId: string,
  kind: NumberedKind,
  numeric: number,
): Promise<string | null> {
  const row = await db
    .selectFrom('bitrix_ids')
    .select('ref')
    .where('id', '=', numeric)
    .where('kind', '=', kind)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row?.ref ?? null;
}
