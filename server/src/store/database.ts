import fs from 'node:fs/promises';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock';
import * as foundation from './migrations/0001-foundation';
import * as conversations from './migrations/0002-conversations';
import * as presence from './migrations/0003-presence';
import * as files from './migrations/0004-files';
import * as channelState from './migrations/0005-channel-state';
import * as widget from './migrations/0006-widget';
import * as automation from './migrations/0007-automation';
import * as historyIndexes from './migrations/0008-history-indexes';
import * as routingIndexes from './migrations/0009-routing-indexes';
import * as eventDialog from './migrations/0010-event-dialog';
import * as derivedCsrf from './migrations/0011-derived-csrf';
import * as crm from './migrations/0012-crm';
import * as channelFailure from './migrations/0018-channel-failure';
import * as permissions from './migrations/0019-permissions';
import * as privacy from './migrations/0020-privacy';
import * as auditConsent from './migrations/0021-audit-consent';
import * as webhooks from './migrations/0022-webhooks';
import * as bots from './migrations/0023-bots';
import * as crmIntake from './migrations/0024-crm-intake';
import * as analytics from './migrations/0025-analytics';
import * as accounts from './migrations/0026-accounts';
import * as bitrix24 from './migrations/0027-bitrix24';
import * as messageSearch from './migrations/0028-message-search';
import * as forgetAfterDelivery from './migrations/0030-forget-after-delivery';
import * as crmConversion from './migrations/0031-crm-conversion';
import * as statisticsRollups from './migrations/0032-statistics-rollups';
import * as bitrixBots from './migrations/0033-bitrix-bots';
import * as operatorActions from './migrations/0035-operator-actions';
import * as messageEdits from './migrations/0036-message-edits';
import * as bitrixBotCommands from './migrations/0037-bitrix-bot-commands';
import * as widgetConsentPageBlock from './migrations/0038-widget-consent-page-block';
import * as outboxTrace from './migrations/0040-outbox-trace';
import * as crmAdapters from './migrations/0042-crm-adapters';
import * as messageMentions from './migrations/0043-message-mentions';
import * as operatorClientProfile from './migrations/0045-operator-client-profile';
import { PGliteDialect } from './pglite-dialect';
import type { DB } from './schema';

export type Database = Kysely<DB>;

export interface Store {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** The embedded database itself (backups dump it); absent on PostgreSQL. */
  pglite?: PGlite;
  /** PostgreSQL's connection pool (metrics read its counts); absent on PGlite. */
  pool?: pg.Pool;
  /** Told of every query's duration after it ran (metrics); in memory, no statement of its own. */
  queryObservers: Set<QueryObserver>;
  close(): Promise<void>;
}

export type QueryObserver = (durationMs: number, failed: boolean) => void;

function queryLog(observers: Set<QueryObserver>) {
  return (event: { level: 'query' | 'error'; queryDurationMillis: number }) => {
    for (const observer of observers) observer(event.queryDurationMillis, event.level === 'error');
  };
}

/** Migrations live in code, in order; their names never change once released. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-conversations': conversations,
  '0003-presence': presence,
  '0004-files': files,
  '0005-channel-state': channelState,
  '0006-widget': widget,
  '0007-automation': automation,
  '0008-history-indexes': historyIndexes,
  '0009-routing-indexes': routingIndexes,
  '0010-event-dialog': eventDialog,
  '0011-derived-csrf': derivedCsrf,
  '0012-crm': crm,
  '0018-channel-failure': channelFailure,
  '0019-permissions': permissions,
  '0020-privacy': privacy,
  '0021-audit-consent': auditConsent,
  '0022-webhooks': webhooks,
  '0023-bots': bots,
  '0024-crm-intake': crmIntake,
  '0025-analytics': analytics,
  '0026-accounts': accounts,
  '0027-bitrix24': bitrix24,
  '0028-message-search': messageSearch,
  '0030-forget-after-delivery': forgetAfterDelivery,
  '0031-crm-conversion': crmConversion,
  '0032-statistics-rollups': statisticsRollups,
  '0033-bitrix-bots': bitrixBots,
  '0035-operator-actions': operatorActions,
  '0036-message-edits': messageEdits,
  '0037-bitrix-bot-commands': bitrixBotCommands,
  '0038-widget-consent-page-block': widgetConsentPageBlock,
  '0040-outbox-trace': outboxTrace,
  '0042-crm-adapters': crmAdapters,
  '0043-message-mentions': messageMentions,
  '0045-operator-client-profile': operatorClientProfile,
};

/** The extensions the migrations create; every embedded database is opened with them loaded. */
export const PGLITE_EXTENSIONS = { pg_trgm };

const migrationProvider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

// bigint columns (cursors, counters) fit in a JS number for the lifetime of any installation.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface StoreOptions {
  /** postgres://… for PostgreSQL; otherwise PGlite in `dataDir` (or in memory when null). */
  databaseUrl: string | null;
  dataDir: string | null;
  poolSize?: number;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const queryObservers = new Set<QueryObserver>();
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log: queryLog(queryObservers) });
    return { db, kind: 'postgres', pool, queryObservers, close: () => db.destroy() };
  }
  let dataDir: string | undefined;
  let unlock = async () => {};
  if (options.dataDir) {
    unlock = await lockDataDir(options.dataDir);
    dataDir = path.join(options.dataDir, 'pgdata');
    await fs.mkdir(dataDir, { recursive: true });
  }
  try {
    const parsers = { [types.INT8]: (value: string) => Number(value) };
    const pglite = dataDir
      ? await PGlite.create({ dataDir, parsers, extensions: PGLITE_EXTENSIONS })
      : (recycledInMemory.pop() ??
        (await PGlite.create({
          loadDataDir: await migratedTemplate(),
          parsers,
          extensions: PGLITE_EXTENSIONS,
        })));
    const queryObservers = new Set<QueryObserver>();
    const dialect = dataDir ? new PGliteDialect(pglite) : new PGliteDialect(pglite, recycleInMemory);
    const db = new Kysely<DB>({ dialect, log: queryLog(queryObservers) });
    return {
      db,
      kind: 'pglite',
      pglite,
      queryObservers,
      close: async () => {
        await db.destroy();
        await unlock();
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}

/**
 * An in-memory store (tests, the bench) starts from a copy of an empty, migrated database made once
 * per process: creating a PGlite cluster runs initdb in WebAssembly (~2 s), loading a copy of one
 * takes a quarter of that. The copy is built from this build's migrations, so it is never stale.
 */
let template: Promise<Blob> | null = null;

function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const pglite = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
    try {
      await migrateToLatest(new Kysely<DB>({ dialect: new PGliteDialect(pglite) }));
      return await pglite.dumpDataDir('none');
    } finally {
      await pglite.close();
    }
  })();
  // A failed build is not kept: the next store tries again (and reports its own error).
  template.catch(() => {
    template = null;
  });
  return template;
}

/**
 * A closed in-memory store is emptied and kept for the next one instead of being thrown away:
 * emptying every table takes a few milliseconds, loading a fresh copy of the template half a second
 * (tests build hundreds of servers). What comes back is what the template holds: the migrated schema,
 * its migration log, no rows, identities restarted, no advisory lock held. A statement that fails,
 * or a migration log that is not this build's, closes the database instead. The driver destroys
 * a store only once its last transaction has ended, so none is left open here.
 */
const recycledInMemory: PGlite[] = [];
// Tests close their servers one by one; a few kept databases cover the ones closed together
// (a restart, two processes) without keeping unbounded WebAssembly heaps alive.
const RECYCLED_AT_MOST = 4;
let emptyingStatement: Promise<string> | null = null;

async function recycleInMemory(pglite: PGlite): Promise<void> {
  try {
    if (recycledInMemory.length >= RECYCLED_AT_MOST || pglite.closed) throw new Error('not kept');
    await pglite.query('select pg_advisory_unlock_all()');
    if (!emptyingStatement) {
      emptyingStatement = pglite
        .query<{ tables: string }>(
          `select string_agg(format('%I.%I', schemaname, tablename), ', ') as tables
           from pg_tables where schemaname = 'public' and tablename not like 'kysely\\_%'`,
        )
        .then(({ rows }) => `truncate ${rows[0]?.tables} restart identity cascade`);
      // A failed read is not kept: the next close asks again (as the template's build does).
      emptyingStatement.catch(() => {
        emptyingStatement = null;
      });
    }
    await pglite.exec(await emptyingStatement);
    const { rows } = await pglite.query<{ applied: number }>(
      'select count(*)::int as applied from kysely_migration',
    );
    if (rows[0]?.applied !== Object.keys(MIGRATIONS).length) throw new Error('not the latest schema');
    recycledInMemory.push(pglite);
  } catch {
    if (!pglite.closed) await pglite.close();
  }
}

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Database): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/**
 * Applies the migrations up to and including `name` only: a database as an older release left it
 * (the upgrade test builds its fixture this way).
 */
export async function migrateUpTo(db: Database, name: string): Promise<MigrationReport> {
  if (!Object.hasOwn(MIGRATIONS, name)) throw new Error(`There is no migration ${name}`);
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** True when every migration this build knows is applied (used by /readyz). */
export async function migrationsApplied(db: Database): Promise<boolean> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const all = await migrator.getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}

export async function ping(db: Database): Promise<void> {
  await sql`select 1`.execute(db);
}

/** Creates a PostgreSQL database if it does not exist (tests use a database of their own). */
export async function ensurePostgresDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await client.end();
  }
}
