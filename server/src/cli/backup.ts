import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import * as tar from 'tar';
import type { Config } from '../config';
import { DataDirLockedError, lockDataDir } from '../store/data-dir-lock';
import { migrateToLatest, PGLITE_EXTENSIONS } from '../store/database';
import { PGliteDialect } from '../store/pglite-dialect';
import type { DB } from '../store/schema';
import type { CliSession } from './cli-context';
import { CliFailure } from './usage';

/**
 * Backups of the embedded installation (issue 21): one `.tar.gz` with the database (PGlite's own
 * dump of its data directory, taken after a checkpoint while this process holds the DATA_DIR lock,
 * so no server writes meanwhile), the attachments (`files/`) and the key file (`secret.key`) that
 * decrypts channel secrets and signs file links. On PostgreSQL the database's own tools do this
 * (docs/operations.md).
 */

export const MANIFEST = 'openlines-backup.json';
const FORMAT = 'openlines-backup';
const PGDATA_DUMP = 'pgdata.tar';

export interface BackupManifest {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  /** The migrations applied to the database in the backup; a newer server applies the rest. */
  migrations: string[];
  accounts: number;
  files: number;
  secretKey: boolean;
}

const POSTGRES_NOTE =
  'On PostgreSQL, back up with pg_dump and copy the shared files directory (DATA_DIR/files); ' +
  'see "Backups" in docs/operations.md.';

async function countFiles(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let count = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) count++;
  }
  return count;
}

/** Writes the backup of the open embedded database (the session holds the DATA_DIR lock) to `file`. */
export async function writeBackup(session: CliSession, file: string): Promise<BackupManifest> {
  const { store, config } = session.ctx;
  if (store.kind !== 'pglite' || !store.pglite) throw new CliFailure(POSTGRES_NOTE);
  const target = path.resolve(file);
  if (existsSync(target)) throw new CliFailure(`${target} exists already; name a new file.`);
  const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-backup-'));
  const partial = `${target}.partial`;
  try {
    // Everything committed is in the data files before they are dumped.
    await sql`checkpoint`.execute(store.db);
    const dump = await store.pglite.dumpDataDir('none');
    await fs.writeFile(path.join(staging, PGDATA_DUMP), Buffer.from(await dump.arrayBuffer()));
    const entries = [MANIFEST, PGDATA_DUMP];
    const filesDir = path.join(config.dataDir, 'files');
    if (existsSync(filesDir)) {
      await fs.cp(filesDir, path.join(staging, 'files'), { recursive: true });
      entries.push('files');
    }
    const keyFile = path.join(config.dataDir, 'secret.key');
    const secretKey = existsSync(keyFile);
    if (secretKey) {
      await fs.copyFile(keyFile, path.join(staging, 'secret.key'));
      entries.push('secret.key');
    }
    const migrations = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      store.db,
    );
    const accounts = await store.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const manifest: BackupManifest = {
      format: FORMAT,
      version: 1,
      createdAt: session.ctx.clock.now().toISOString(),
      migrations: migrations.rows.map((r) => r.name),
      accounts: Number(accounts.n),
      files: await countFiles(filesDir),
      secretKey,
    };
    await fs.writeFile(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Written beside the target and renamed: a backup that is there is a whole one.
    await tar.create({ gzip: true, file: partial, cwd: staging, portable: true }, entries);
    await fs.chmod(partial, 0o600);
    await fs.rename(partial, target);
    return manifest;
  } finally {
    await fs.rm(partial, { force: true });
    await fs.rm(staging, { recursive: true, force: true });
  }
}

export interface RestoreReport {
  manifest: BackupManifest;
  appliedMigrations: string[];
  /** Where the data that was there before went (`--replace`); null when DATA_DIR was empty. */
  previous: string | null;
}

async function readManifest(dir: string): Promise<BackupManifest> {
  let parsed: Partial<BackupManifest>;
  try {
    parsed = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Partial<BackupManifest>;
  } catch {
    throw new CliFailure('This file is not an Openlines backup (it has no openlines-backup.json).');
  }
  if (parsed.format !== FORMAT || parsed.version !== 1 || !existsSync(path.join(dir, PGDATA_DUMP))) {
    throw new CliFailure('This file is not an Openlines backup this version can read.');
  }
  return parsed as BackupManifest;
}

/**
 * Restores a backup into DATA_DIR. The server must be stopped (the DATA_DIR lock says so). A
 * DATA_DIR that holds a database is replaced only with `replace`, and then kept aside in
 * `DATA_DIR/before-restore-<time>/` rather than deleted. The restored database is migrated to this
 * version before it takes the old one's place, so a failure leaves DATA_DIR as it was.
 */
export async function restoreBackup(config: Config, file: string, replace: boolean): Promise<RestoreReport> {
  if (config.databaseUrl) {
    throw new CliFailure(
      'DATABASE_URL is set: restore a PostgreSQL backup with pg_restore (or psql) and copy the files ' +
        'directory back; see "Backups" in docs/operations.md.',
    );
  }
  const source = path.resolve(file);
  if (!existsSync(source)) throw new CliFailure(`There is no file ${source}.`);
  let unlock: () => Promise<void>;
  try {
    unlock = await lockDataDir(config.dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new CliFailure(`Stop the server first: ${error.message}`);
    }
    throw error;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const staging = path.join(config.dataDir, `.restore-${stamp}`);
  try {
    const pgdata = path.join(config.dataDir, 'pgdata');
    const hasDatabase = existsSync(path.join(pgdata, 'PG_VERSION'));
    if (hasDatabase && !replace) {
      throw new CliFailure(
        `${config.dataDir} holds a database already. Add --replace to restore over it ` +
          '(what is there now is kept in DATA_DIR/before-restore-<time>/).',
      );
    }
    await fs.mkdir(staging, { recursive: true });
    try {
      await tar.extract({ file: source, cwd: staging, strict: true });
    } catch (error) {
      throw new CliFailure(
        `The backup cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const manifest = await readManifest(staging);
    // The database is rebuilt from its dump beside the current one, and brought up to this version.
    const restored = path.join(staging, 'pgdata');
    const dump = await fs.readFile(path.join(staging, PGDATA_DUMP));
    const pglite = await PGlite.create({
      dataDir: restored,
      loadDataDir: new Blob([dump]),
      extensions: PGLITE_EXTENSIONS,
    });
    let appliedMigrations: string[];
    try {
      const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
      appliedMigrations = (await migrateToLatest(db)).applied;
    } finally {
      await pglite.close();
    }
    let previous: string | null = null;
    const names = ['pgdata', 'files', ...(manifest.secretKey ? ['secret.key'] : [])];
    const present = names.filter((name) => existsSync(path.join(config.dataDir, name)));
    if (present.length > 0) {
      previous = path.join(config.dataDir, `before-restore-${stamp}`);
      await fs.mkdir(previous);
      for (const name of present) await fs.rename(path.join(config.dataDir, name), path.join(previous, name));
    }
    await fs.rename(restored, pgdata);
    const files = path.join(staging, 'files');
    if (existsSync(files)) await fs.rename(files, path.join(config.dataDir, 'files'));
    if (manifest.secretKey) {
      await fs.rename(path.join(staging, 'secret.key'), path.join(config.dataDir, 'secret.key'));
    }
    return { manifest, appliedMigrations, previous };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
    await unlock();
  }
}
