import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiChannelSender } from '@openlines/sdk';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword, hashToken } from '../src/services/secrets';
import {
  dropPostgresDatabase,
  ensurePostgresDatabase,
  migrateUpTo,
  migrationsApplied,
  openStore,
} from '../src/store/database';
import { FIXTURE, FIXTURE_LAST_MIGRATION, seedRelease0012 } from './fixtures/release-0012';
import { createTestServer, isolatedDatabaseUrl, signIn, type TestServer } from './harness';

/**
 * Upgrading (issue 21): a database an older release made (schema up to 0012-crm, with an account
 * in use; test/fixtures/release-0012.ts) is opened by this build's server, which migrates it at
 * start. Its data comes through, the new columns take their defaults, and it works: the old
 * administrator signs in and the old channel token takes a message in the old dialog. On PGlite
 * files, or on a PostgreSQL database of its own when DATABASE_URL is set.
 */
describe('upgrade from an older release', () => {
  const PASSWORD = 'upgrade password 42';
  let server: TestServer | null = null;
  let dataDir: string | null = null;
  const databaseUrl = isolatedDatabaseUrl();

  afterAll(async () => {
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('migrates a 0012 database to the latest schema, and its data survives and works', async () => {
    if (databaseUrl) await ensurePostgresDatabase(databaseUrl);
    else dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-upgrade-'));
    const old = await openStore({ databaseUrl, dataDir });
    try {
      const { applied } = await migrateUpTo(old.db, FIXTURE_LAST_MIGRATION);
      expect(applied.at(-1)).toBe(FIXTURE_LAST_MIGRATION);
      expect(await migrationsApplied(old.db)).toBe(false);
      await seedRelease0012(old.db, {
        passwordHash: await hashPassword(PASSWORD),
        tokenHash: hashToken(FIXTURE.channelToken),
      });
    } finally {
      await old.close();
    }

    // This build's server opens it: migrations run at start.
    server = await createTestServer({ databaseUrl, ...(dataDir ? { dataDir } : {}), workers: false });
    expect(server.firstRun).toBeNull();
    expect(await migrationsApplied(server.ctx.store.db)).toBe(true);
    const db = server.ctx.store.db;

    // Columns added since take their defaults; what was there is unchanged.
    const account = await db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', FIXTURE.accountId)
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      name: 'Upgraded Ltd',
      status: 'active',
      suspended_at: null,
      event_seq: 2,
    });
    const channel = await db
      .selectFrom('channels')
      .selectAll()
      .where('id', '=', FIXTURE.channelId)
      .executeTakeFirstOrThrow();
    expect(channel).toMatchObject({ account_suspended: false, failure: null, status: 'connected' });
    const role = await db
      .selectFrom('roles')
      .select('permissions')
      .where('id', '=', FIXTURE.adminRoleId)
      .executeTakeFirstOrThrow();
    // Migration 0019 gave the old administrator role the new rights.
    expect(role.permissions).toMatchObject({
      managePersonalData: true,
      manageIntegrations: true,
      crm: 'all',
    });
    const counts = await sql<{ t: string; n: number }>`
      select 'messages' as t, count(*)::int as n from messages where account_id = ${FIXTURE.accountId}
      union all select 'session_transitions', count(*)::int from session_transitions where account_id = ${FIXTURE.accountId}
      union all select 'events', count(*)::int from events where account_id = ${FIXTURE.accountId}`.execute(
      db,
    );
    expect(Object.fromEntries(counts.rows.map((r) => [r.t, r.n]))).toEqual({
      messages: 2,
      session_transitions: 2,
      events: 2,
    });

    // It works: the old administrator signs in and reads the old dialog through the API.
    const admin = await signIn(server, { email: FIXTURE.adminEmail, password: PASSWORD });
    const me = await admin.auth.me();
    expect(me.account.id).toBe(FIXTURE.accountId);
    expect(me.permissions.managePersonalData).toBe(true);
    const dialog = await admin.dialogs.get(FIXTURE.dialogId);
    expect(dialog.session?.status).toBe('closed');
    const messages = await admin.dialogs.messages(FIXTURE.dialogId);
    expect(messages.filter((m) => m.authorKind !== 'system').map((m) => m.text)).toEqual(FIXTURE.texts);
    // The old channel token takes a new message from the same client into the same dialog.
    const sent = await new ApiChannelSender(server.url, FIXTURE.channelToken).send({
      externalId: 'ext-2',
      user: { id: 'shop-user-7' },
      text: 'One more question',
    });
    expect(sent.dialogId).toBe(FIXTURE.dialogId);
    expect(sent.sessionId).not.toBe(FIXTURE.sessionId);
    // New cursors continue after the old ones.
    const latest = await db
      .selectFrom('accounts')
      .select('event_seq')
      .where('id', '=', FIXTURE.accountId)
      .executeTakeFirstOrThrow();
    expect(latest.event_seq).toBeGreaterThan(2);
  }, 300_000);
});
