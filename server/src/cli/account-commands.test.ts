import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOf, createTestServer, problemOf } from '../../test/harness';
import { runCli } from './run';

/**
 * The server operator's account commands on an embedded installation (the server stopped, as the
 * CLI needs): a plan is set, an account created, suspended, resumed and deleted; a server started
 * on the same DATA_DIR sees each step.
 */
describe('account commands', () => {
  let dataDir: string;

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    delete env.SECRET_KEY;
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-account-cli-'));
    // The first start creates the database and the first account.
    const server = await createTestServer({ dataDir, databaseUrl: null, workers: false });
    await server.stop();
  }, 120_000);
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('checks the command line before it opens anything', async () => {
    expect((await cli('suspend-account', 'not-an-id')).code).toBe(2);
    expect((await cli('delete-account', '11111111-1111-4111-8111-111111111111')).err).toContain('--yes');
    expect((await cli('set-plan', 'Bad Id!')).code).toBe(2);
    expect((await cli('set-plan', 'x', '--operators', 'many')).err).toContain('"none"');
  });

  it('sets a plan, creates, suspends, resumes and deletes an account', async () => {
    const plan = await cli(
      'set-plan',
      'team',
      '--name',
      'Team',
      '--lines',
      '2',
      '--operators',
      '5',
      '--storage-mb',
      '100',
    );
    expect(plan).toMatchObject({ code: 0, err: '' });
    expect(plan.out).toContain('team "Team": lines 2, operators 5, channels no limit, storage 100 MB');
    // Limits not given keep their value.
    expect((await cli('set-plan', 'team', '--channels', '3')).out).toContain(
      'lines 2, operators 5, channels 3, storage 100 MB',
    );

    const created = await cli(
      'create-account',
      '--name',
      'Beta Co',
      '--admin-email',
      'boss@beta.test',
      '--admin-name',
      'Boss',
      '--plan',
      'team',
    );
    expect(created.code).toBe(0);
    const id = /\(([0-9a-f-]{36})\)/.exec(created.out)?.[1];
    const password = /Password \(shown only once\): (\S+)/.exec(created.out)?.[1];
    expect(id).toBeDefined();
    expect(password).toHaveLength(20);
    expect(
      (await cli('create-account', '--name', 'Again', '--admin-email', 'boss@beta.test', '--admin-name', 'B'))
        .code,
    ).toBe(1);

    const listed = await cli('list-accounts');
    expect(listed.out).toContain('Beta Co  [active]');
    expect(listed.out).toContain('plan team; uses 0/2 lines, 1/5 operators, 0/3 channels');

    expect((await cli('suspend-account', id!)).out).toContain('is suspended');
    let server = await createTestServer({ dataDir, databaseUrl: null, workers: false });
    try {
      const refused = await problemOf(
        clientOf(server).auth.login({ email: 'boss@beta.test', password: password! }),
      );
      expect(refused.code).toBe('account_suspended');
    } finally {
      await server.stop();
    }
    expect((await cli('list-accounts')).out).toMatch(/Beta Co {2}\[suspended since /);
    expect((await cli('resume-account', id!)).out).toContain('is active');
    server = await createTestServer({ dataDir, databaseUrl: null, workers: false });
    try {
      const me = await clientOf(server).auth.login({ email: 'boss@beta.test', password: password! });
      expect(me.account).toMatchObject({ id, planId: 'team' });
    } finally {
      await server.stop();
    }

    const deleted = await cli('delete-account', id!, '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.out).toMatch(/Deleted account "Beta Co" .*: \d+ rows and 0 files\./);
    expect((await cli('list-accounts')).out).not.toContain('Beta Co');
    expect((await cli('suspend-account', id!)).code).toBe(1);
  }, 240_000);
});
