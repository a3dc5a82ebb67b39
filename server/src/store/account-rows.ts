import { sql } from 'kysely';
import type { Database } from './database';

/**
 * Every row of one account, found through the catalogue rather than a list kept by hand, so a table
 * added by a later migration is covered without touching this file:
 *
 *   - a table with an `account_id` column: its rows with the account's id;
 *   - a table with a foreign key to `accounts(id)` under another name: the rows pointing at it;
 *   - a table without either but with a foreign key to one of those (`channel_state`,
 *     `session_participants`): the rows pointing at the account's rows.
 *
 * The tables are emptied children first (every foreign key between them is followed), so the
 * deletion does not rely on `on delete cascade`; a cycle of foreign keys is broken by setting a
 * nullable one to null first. The account row goes last.
 */

interface ForeignKey {
  child: string;
  parent: string;
  childColumns: string[];
  parentColumns: string[];
  nullable: boolean;
}

interface Scoped {
  table: string;
  /** SQL condition (over the table's own columns) selecting the account's rows; `$ACCOUNT` is bound. */
  where: (accountId: string) => ReturnType<typeof sql<boolean>>;
}

const ACCOUNTS = 'accounts';

/**
 * Tables that outlive the account on purpose: the durable job that removes a deleted account's
 * files from disk (services/erasure) must still hold their ids after the rows are gone.
 */
const OUTLIVES_ACCOUNT = new Set(['file_erasures']);

async function catalogue(db: Database) {
  const tables = await sql<{ name: string; has_account_id: boolean }>`
    select c.relname as name,
      exists (select 1 from pg_attribute a
              where a.attrelid = c.oid and a.attname = 'account_id' and a.attnum > 0 and not a.attisdropped)
        as has_account_id
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p')`.execute(db);
  const keys = await sql<{
    child: string;
    parent: string;
    child_columns: string[];
    parent_columns: string[];
    nullable: boolean;
  }>`
    select child.relname as child, parent.relname as parent,
      array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, ord)
            join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.ord)
        as child_columns,
      array(select a.attname::text from unnest(con.confkey) with ordinality k(attnum, ord)
            join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.ord)
        as parent_columns,
      not exists (select 1 from unnest(con.conkey) k(attnum)
                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                  where a.attnotnull) as nullable
    from pg_constraint con
    join pg_class child on child.oid = con.conrelid
    join pg_class parent on parent.oid = con.confrelid
    join pg_namespace n on n.oid = con.connamespace
    where con.contype = 'f' and n.nspname = current_schema()`.execute(db);
  return {
    tables: tables.rows,
    keys: keys.rows.map(
      (k): ForeignKey => ({
        child: k.child,
        parent: k.parent,
        childColumns: k.child_columns,
        parentColumns: k.parent_columns,
        nullable: k.nullable,
      }),
    ),
  };
}

const columnList = (columns: string[]) =>
  sql.join(
    columns.map((c) => sql.ref(c)),
    sql`, `,
  );

/** The tables holding an account's rows, each with the condition that selects them. */
export async function accountTables(db: Database): Promise<Scoped[]> {
  const { tables, keys } = await catalogue(db);
  const scoped = new Map<string, Scoped>();
  for (const table of tables) {
    if (OUTLIVES_ACCOUNT.has(table.name)) continue;
    if (table.has_account_id) {
      scoped.set(table.name, { table: table.name, where: (id) => sql<boolean>`account_id = ${id}` });
    }
  }
  for (const key of keys) {
    if (key.parent !== ACCOUNTS || key.child === ACCOUNTS || scoped.has(key.child)) continue;
    scoped.set(key.child, {
      table: key.child,
      where: (id) => sql<boolean>`(${columnList(key.childColumns)}) = (${id})`,
    });
  }
  for (const key of keys) {
    const parent = scoped.get(key.parent);
    if (!parent || scoped.has(key.child) || key.child === ACCOUNTS) continue;
    scoped.set(key.child, {
      table: key.child,
      where: (id) =>
        sql<boolean>`(${columnList(key.childColumns)}) in (select ${columnList(key.parentColumns)} from ${sql.table(key.parent)} where ${parent.where(id)})`,
    });
  }
  return [...scoped.values()];
}

export interface AccountRowCount {
  table: string;
  rows: number;
}

/** How many rows of the account each table holds (tests, and the operator's check after a deletion). */
export async function countAccountRows(db: Database, accountId: string): Promise<AccountRowCount[]> {
  const counts: AccountRowCount[] = [];
  for (const scoped of await accountTables(db)) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(scoped.table)}
      where ${scoped.where(accountId)}`.execute(db);
    counts.push({ table: scoped.table, rows: Number(rows[0]?.n ?? 0) });
  }
  const account = await db
    .selectFrom('accounts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  counts.push({ table: ACCOUNTS, rows: Number(account.n) });
  return counts;
}

/**
 * Deletes every row of an account, children before parents, and the account row last, in the
 * caller's transaction (`db` is one). Returns how many rows each table lost.
 */
export async function deleteAccountRows(db: Database, accountId: string): Promise<AccountRowCount[]> {
  const scoped = await accountTables(db);
  const { keys } = await catalogue(db);
  const remaining = new Map(scoped.map((s) => [s.table, s]));
  // Edges between tables of the account: a child's rows go before its parent's. A table's key to
  // itself (departments.parent_id) is settled within its one delete statement.
  let edges = keys.filter((k) => k.child !== k.parent && remaining.has(k.child) && remaining.has(k.parent));
  const deleted: AccountRowCount[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining.values()].filter(
      (s) => !edges.some((e) => e.parent === s.table && remaining.has(e.child)),
    );
    if (ready.length === 0) {
      // A cycle: set one of its nullable keys to null, and the cycle is gone.
      const breakable = edges.find((e) => e.nullable && remaining.has(e.child) && remaining.has(e.parent));
      const child = breakable ? remaining.get(breakable.child) : undefined;
      if (!breakable || !child) {
        throw new Error(
          `The account's tables form a cycle of required keys: ${[...remaining.keys()].join(', ')}`,
        );
      }
      const nulls = sql.join(
        breakable.childColumns.map((c) => sql`${sql.ref(c)} = null`),
        sql`, `,
      );
      await sql`update ${sql.table(child.table)} set ${nulls} where ${child.where(accountId)}`.execute(db);
      edges = edges.filter((e) => e !== breakable);
      continue;
    }
    for (const table of ready) {
      const result = await sql`delete from ${sql.table(table.table)} where ${table.where(accountId)}`.execute(
        db,
      );
      deleted.push({ table: table.table, rows: Number(result.numAffectedRows ?? 0n) });
      remaining.delete(table.table);
    }
  }
  const account = await db.deleteFrom('accounts').where('id', '=', accountId).executeTakeFirst();
  deleted.push({ table: ACCOUNTS, rows: Number(account.numDeletedRows) });
  return deleted;
}
