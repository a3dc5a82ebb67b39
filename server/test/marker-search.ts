import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../src/store/database';

/**
 * The whole-database and data-directory search of the marker-text tests (issue 18): every column
 * that can hold text — discovered from information_schema, not a hand list — and every file.
 */

export interface TextColumn {
  table: string;
  column: string;
  type: string;
}

const TEXT_TYPES = ['text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY'];

/** Every text, json, jsonb, bytea and array column of every table of the schema in use. */
export async function textColumns(db: Database): Promise<TextColumn[]> {
  const rows = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select c.table_name, c.column_name, c.data_type
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
      and c.data_type in (${sql.join(TEXT_TYPES)})
    order by c.table_name, c.column_name`.execute(db);
  return rows.rows.map((row) => ({ table: row.table_name, column: row.column_name, type: row.data_type }));
}

/** `table.column` of every value in the database that contains `marker` (in any letter case). */
export async function databaseHits(db: Database, marker: string): Promise<string[]> {
  const hits: string[] = [];
  for (const { table, column, type } of await textColumns(db)) {
    const ref = sql.ref(`${table}.${column}`);
    const condition =
      type === 'bytea'
        ? sql`position(convert_to(${marker}, 'UTF8') in ${ref}) > 0`
        : sql`${ref}::text ilike ${`%${marker}%`}`;
    const found = await sql<{
      n: number;
    }>`select count(*)::int as n from ${sql.table(table)} where ${condition}`.execute(db);
    if (Number(found.rows[0]?.n ?? 0) > 0) hits.push(`${table}.${column}`);
  }
  return hits;
}

/** Files under `dir` whose name or bytes contain `marker`. */
export async function fileHits(dir: string, marker: string): Promise<string[]> {
  const hits: string[] = [];
  const needle = Buffer.from(marker);
  async function walk(current: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.includes(marker) || (await readFile(full)).includes(needle)) hits.push(full);
    }
  }
  await walk(dir);
  return hits;
}
