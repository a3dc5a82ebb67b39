import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiChannelSender } from '@openlines/sdk';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run';
import { accountTables } from '../src/store/account-rows';
import type { Database } from '../src/store/database';
import { createTestServer, signIn, type TestServer } from './harness';

/**
 * `backup FILE` / `restore FILE` of the embedded installation (issue 21): a populated account is
 * backed up, restored into another DATA_DIR and compared row by row, table by table (every table
 * holding the account's rows, found in the catalogue), with its files' bytes and links.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'server/src/cli/main.ts');

type Rows = Record<string, string[]>;

/** Every row of the account, per table, as JSON text in a stable order. */
async function snapshot(db: Database, accountId: string): Promise<Rows> {
  const rows: Rows = {};
  for (const table of await accountTables(db)) {
    const result = await sql<{ row: string }>`select to_jsonb(t)::text as row from ${sql.table(table.table)} t
      where ${table.where(accountId)}`.execute(db);
    rows[table.table] = result.rows.map((r) => r.row).sort();
  }
  const account = await sql<{
    row: string;
  }>`select to_jsonb(a)::text as row from accounts a where id = ${accountId}`.execute(db);
  rows.accounts = account.rows.map((r) => r.row);
  return rows;
}

async function cli(args: string[], dataDir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SECRET_KEY;
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The CLI as a process of its own, so the DATA_DIR lock of this process's server holds against it. */
function cliProcess(args: string[], dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    for (const name of ['DATABASE_URL', 'SECRET_KEY', 'NODE_OPTIONS']) delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('backup and restore of the embedded installation', () => {
  let work: string;
  let source: string;
  let restored: string;
  let server: TestServer | null = null;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-backup-test-'));
    source = path.join(work, 'source');
    restored = path.join(work, 'restored');
  });
  afterAll(async () => {
    await server?.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('round-trips a populated account: every row of every table, its files and their links', async () => {
    // The embedded database in files, whatever DATABASE_URL the suite runs with.
    server = await createTestServer({ dataDir: source, databaseUrl: null, workers: false });
    const admin = await signIn(server);
    const accountId = (await admin.auth.me()).account.id;
    const line = await admin.lines.create({ name: 'Support' });
    const sales = await admin.departments.create({ name: 'Sales' });
    await admin.departments.create({ name: 'Sales EU', parentId: sales.id });
    const channel = await admin.channels.create({
      kind: 'api',
      name: 'Shop',
      lineId: line.id,
      settings: { webhookUrl: 'http://127.0.0.1:9/hook' },
    });
    const sender = new ApiChannelSender(server.url, channel.secrets.inboundToken!);
    const bytes = new Uint8Array(4096).map((_, i) => i % 251);
    const attachment = await admin.files.upload(new Blob([bytes]), 'scan.pdf');
    const first = await sender.send({
      externalId: 'b-1',
      user: { id: 'client-1', name: 'Ivan' },
      text: 'Hello',
    });
    await sender.send({
      externalId: 'b-2',
      user: { id: 'client-1' },
      text: 'Here it is',
      attachments: [attachment],
    });
    await admin.dialogs.send(first.dialogId, { text: 'Thanks, looking' });
    await admin.quickAnswers.create({ title: 'Hi', text: 'Hello! How can I help?' });

    // While the server runs, a backup is refused: stop the server first.
    const running = await cliProcess(['backup', path.join(work, 'refused.tar.gz')], source);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/in use by process \d+/);
    expect(existsSync(path.join(work, 'refused.tar.gz'))).toBe(false);

    const before = await snapshot(server.ctx.store.db, accountId);
    expect(before.messages?.length).toBeGreaterThanOrEqual(3);
    expect(before.files).toHaveLength(1);
    expect(before.departments).toHaveLength(2);
    await server.stop();
    server = null;

    const file = path.join(work, 'openlines.tar.gz');
    const backup = await cli(['backup', file], source);
    expect(backup.err).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.out).toContain('1 account(s), 1 file(s)');
    // A second backup to the same name would overwrite the first: refused.
    expect((await cli(['backup', file], source)).code).toBe(1);

    const restore = await cli(['restore', file], restored);
    expect(restore.err).toBe('');
    expect(restore.code).toBe(0);

    server = await createTestServer({ dataDir: restored, databaseUrl: null, workers: false });
    expect(server.firstRun).toBeNull();
    expect(await snapshot(server.ctx.store.db, accountId)).toEqual(before);
    // The file's bytes came back, and its link (signed with the restored secret.key) still opens it.
    const link = attachment.url.replace(/^https?:\/\/[^/]+/, server.url);
    const downloaded = await fetch(link);
    expect(downloaded.status).toBe(200);
    expect(new Uint8Array(await downloaded.arrayBuffer())).toEqual(bytes);
    // The restored installation works: the same channel token takes a message in the same dialog.
    const again = await new ApiChannelSender(server.url, channel.secrets.inboundToken!).send({
      externalId: 'b-3',
      user: { id: 'client-1' },
      text: 'After the restore',
    });
    expect(again.dialogId).toBe(first.dialogId);
    await server.stop();
    server = null;

    // Restoring over a database needs --replace, and keeps what was there aside.
    const refused = await cli(['restore', file], restored);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('--replace');
    const replaced = await cli(['restore', file, '--replace'], restored);
    expect(replaced.code).toBe(0);
    const aside = (await fs.readdir(restored)).filter((name) => name.startsWith('before-restore-'));
    expect(aside).toHaveLength(1);
    expect(existsSync(path.join(restored, aside[0]!, 'pgdata', 'PG_VERSION'))).toBe(true);
    server = await createTestServer({ dataDir: restored, databaseUrl: null, workers: false });
    // Back to the backup's state: the message sent after the first restore is not there.
    expect(await snapshot(server.ctx.store.db, accountId)).toEqual(before);
  }, 300_000);

  it('refuses what is not a backup, and PostgreSQL (pg_dump is the tool there)', async () => {
    const junk = path.join(work, 'junk.tar.gz');
    await fs.writeFile(junk, 'not a tarball');
    const notBackup = await cli(['restore', junk], path.join(work, 'empty'));
    expect(notBackup.code).toBe(1);
    expect(notBackup.err).toContain('cannot be read');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      ['restore', junk],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      { DATA_DIR: path.join(work, 'pg'), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('pg_restore');
  });
});
