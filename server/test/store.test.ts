import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationsApplied } from '../src/store/database';
import { clientOf, createTestServer, signIn, type TestServer, usingPostgres } from './harness';

const backend = usingPostgres ? 'PostgreSQL' : 'PGlite';

// On PGlite the database lives in files under DATA_DIR; on PostgreSQL in a database of its own.
// Either way a restart reopens the same data.
describe(`the store on ${backend}`, () => {
  let dataDir: string;
  let first: TestServer;
  let restarted: TestServer | null = null;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-store-'));
    first = await createTestServer({ dataDir });
  });
  afterAll(async () => {
    await restarted?.stop();
    await first?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('is migrated on start; migrating again is a no-op; /readyz says ready', async () => {
    expect(first.ctx.store.kind).toBe(usingPostgres ? 'postgres' : 'pglite');
    expect(await migrationsApplied(first.ctx.store.db)).toBe(true);
    expect(await migrateToLatest(first.ctx.store.db)).toEqual({ applied: [] });
    expect(await migrateToLatest(first.ctx.store.db)).toEqual({ applied: [] });
    await expect(clientOf(first).ready()).resolves.toMatchObject({ status: 'ready' });
  });

  it('keeps the data and the first-run password across a restart', async () => {
    const admin = await signIn(first);
    const department = await admin.departments.create({ name: 'Survives restarts' });
    await first.close();

    restarted = await createTestServer({ dataDir, databaseUrl: first.databaseUrl });
    expect(restarted.firstRun).toBeNull();
    const again = await signIn(restarted, first.admin);
    expect(await again.departments.list()).toEqual([department]);
    expect(await migrateToLatest(restarted.ctx.store.db)).toEqual({ applied: [] });
    await expect(clientOf(restarted).ready()).resolves.toMatchObject({ status: 'ready' });
  });
});
