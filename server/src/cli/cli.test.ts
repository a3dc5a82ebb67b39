import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, isolatedDatabaseUrl, type TestServer, usingPostgres } from '../../test/harness';
import { dropPostgresDatabase, ensurePostgresDatabase } from '../store/database';
import { runCli } from './run';

/**
 * The CLI on the same database a real server then opens — embedded PGlite files in a temp
 * DATA_DIR, or a PostgreSQL database of its own when DATABASE_URL is set. Effects are checked
 * through that server's API. A few commands run as real child processes (`node --import tsx
 * …/main.ts`), the rest through `runCli` in this process (see cliInProcess).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = path.join(ROOT, 'server/src/cli/main.ts');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dataDir: string;
let databaseUrl: string | null;

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of ['DATABASE_URL', 'PORT', 'HOST', 'SECRET_KEY', 'NODE_OPTIONS']) delete env[name];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

/** The command as an operator runs it: a real Node process (seconds each on a busy machine). */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The same command in this process (`runCli`, which main.ts only wires to stdout, stderr and the
 * exit code): real processes show that wiring once — the help, an exit code, a refusal by a second
 * process, a command on the database — and the rest of the behaviour runs here.
 */
async function cliInProcess(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    args,
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    { ...cliEnv(), ...extraEnv },
  );
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

function startServer(): Promise<TestServer> {
  return createTestServer({ dataDir, databaseUrl });
}

async function login(server: TestServer, email: string, password: string) {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const cookie = /ol_session=[^;]+/.exec(response.headers.get('set-cookie') ?? '')?.[0] ?? null;
  return { status: response.status, cookie };
}

async function me(server: TestServer, headers: Record<string, string>) {
  const response = await fetch(`${server.url}/api/v1/me`, { headers });
  const body = (await response.json()) as {
    user?: { email: string; name: string; accountId: string };
    permissions?: { manageUsers: boolean; supervise: boolean };
  };
  return { status: response.status, body };
}

function lineAfter(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.startsWith(label));
  if (!line) throw new Error(`no "${label}" in:\n${text}`);
  return line.slice(label.length).trim();
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openlines-cli-'));
  databaseUrl = isolatedDatabaseUrl();
  if (databaseUrl) await ensurePostgresDatabase(databaseUrl);
});

afterAll(async () => {
  if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe(`CLI on ${usingPostgres ? 'PostgreSQL' : 'the embedded database'}`, { timeout: 120_000 }, () => {
  it('prints help, and exits 2 on a wrong command line', async () => {
    const [help, commandHelp, wrong] = await Promise.all([
      cli('help'),
      cliInProcess(['create-user', '--help']),
      cli('create-user', '--email', 'not-an-email', '--name', 'Jane'),
    ]);
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'create-user', 'reset-password', 'create-token', 'help']) {
      expect(help.stdout).toContain(command);
    }
    expect(commandHelp.code).toBe(0);
    expect(commandHelp.stdout).toContain('--role');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--email must match format "email"/);
    expect(wrong.stdout).toBe('');
  });

  it('checks every argument before it opens the database', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: npm run cli -- <command>/],
      [['bogus'], /Unknown command "bogus"/],
      [['help', 'bogus'], /Unknown command "bogus"/],
      [['migrate', 'extra'], /unexpected argument "extra"/],
      [['create-user', '--name', 'Jane'], /--email is required/],
      [['create-user', '--email', 'jane@example.com'], /--name is required/],
      [['create-user', '--email', 'j@example.com', '--name', 'J', '--role', 'boss'], /--role must be one of/],
      [['create-user', '--email', 'j@example.com', '--name', 'J', '--account', '42'], /--account must be/],
      [['create-user', '--email', 'j@example.com', '--name', 'J', '--password', 'short'], /--password must/],
      [['create-user', '--email', 'j@example.com', '--name', 'J', '--colour', 'red'], /Unknown option/],
      [['create-user', '--email'], /argument missing/],
      [['reset-password'], /<e-mail> is missing/],
      [['reset-password', 'a@example.com', 'b@example.com'], /unexpected argument/],
      [['reset-password', 'a@example.com', '--password', 'short'], /--password must/],
      [['create-token', '--email', 'a@example.com'], /--name is required/],
      [['create-token', '--email', 'a@example.com', '--name', ''], /--name must NOT have fewer/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await cliInProcess(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toMatch(message);
      expect(stdout).toBe('');
    }
    // Nothing was opened or created.
    expect(existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
  });

  it('refuses to work on a database that is not there or not migrated yet', async () => {
    const result = await cliInProcess(['create-token', '--email', 'admin@openlines.local', '--name', 'ci']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(usingPostgres ? /npm run cli -- migrate/ : /no database in .* yet/);
  });

  it('migrate applies the migrations once and says so', async () => {
    const first = await cliInProcess(['migrate']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migrations? to the /);
    expect(first.stdout).toMatch(/^ {2}0001-foundation$/m);
    const second = await cliInProcess(['migrate']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date; no migration to apply/);
  });

  it('create-user needs an account, which the first server start creates', async () => {
    const result = await cliInProcess(['create-user', '--email', 'early@example.com', '--name', 'Early']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no account .* Start the server once/);
  });

  it('creates users and a token, resets a password; a real server sees all of it', {
    timeout: 300_000,
  }, async () => {
    // First start: the account and its administrator; the administrator signs in once.
    let server = await startServer();
    const admin = server.admin;
    expect(admin.password).not.toBe('');
    const session = await login(server, admin.email, admin.password);
    expect(session.status).toBe(200);
    const accountId = (await me(server, { cookie: session.cookie! })).body.user!.accountId;
    if (usingPostgres) {
      // PostgreSQL is shared: the CLI works next to a running server.
      const token = await cli('create-token', '--email', admin.email, '--name', 'live');
      expect(token.code).toBe(0);
      const bearer = token.stdout.trim().split('\n').at(-1)!;
      expect((await me(server, { authorization: `Bearer ${bearer}` })).status).toBe(200);
    } else {
      // PGlite files can be opened by one process only: the CLI must refuse, not corrupt them.
      const refused = await cli('migrate');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is in use by process \d+\. Only one Openlines process may open it/);
    }
    await server.stop();

    const supervisor = await cliInProcess([
      'create-user',
      '--email',
      'Sue@Example.com',
      '--name',
      'Sue',
      '--role',
      'supervisor',
    ]);
    expect(supervisor.stderr).toBe('');
    expect(supervisor.code).toBe(0);
    expect(supervisor.stdout).toMatch(/Created supervisor Sue@Example.com \(Sue\) in account "Openlines"/);
    const supervisorPassword = lineAfter(supervisor.stdout, 'Password (shown only once):');
    expect(supervisorPassword).toMatch(/^\S{20}$/);

    const duplicate = await cliInProcess([
      'create-user',
      '--email',
      'sue@example.com',
      '--name',
      'Sue again',
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/already exists/);

    const operator = await cliInProcess([
      'create-user',
      '--email',
      'olga@example.com',
      '--name',
      'Olga',
      '--account',
      accountId,
      '--password',
      'olga-chosen-password',
    ]);
    expect(operator.code).toBe(0);
    expect(operator.stdout).toMatch(/Created operator olga@example.com/);
    expect(operator.stdout).not.toMatch(/Password/);
    expect(operator.stdout).not.toContain('olga-chosen-password');

    const otherAccount = await cliInProcess([
      'create-user',
      '--email',
      'x@example.com',
      '--name',
      'X',
      '--account',
      '00000000-0000-4000-8000-000000000000',
    ]);
    expect(otherAccount.code).toBe(1);
    expect(otherAccount.stderr).toMatch(/no account 00000000-0000-4000-8000-000000000000/);

    const reset = await cliInProcess(['reset-password', admin.email.toUpperCase()]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/sessions have ended/);
    const newAdminPassword = lineAfter(reset.stdout, 'New password (shown only once):');
    expect(newAdminPassword).not.toBe(admin.password);

    const unknown = await cliInProcess(['reset-password', 'nobody@example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user with the e-mail nobody@example.com/);

    const token = await cli('create-token', '--email', admin.email, '--name', 'crm-sync');
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/Created API token "crm-sync" \(olt_\S+…\) acting as admin@openlines.local/);
    const bearer = token.stdout.trim().split('\n').at(-1)!;
    expect(bearer).toMatch(/^olt_[A-Za-z0-9_-]{43}$/);

    const noUser = await cliInProcess(['create-token', '--email', 'nobody@example.com', '--name', 'x']);
    expect(noUser.code).toBe(1);

    server = await startServer();
    try {
      // The reset ended the old session and replaced the old password.
      expect((await me(server, { cookie: session.cookie! })).status).toBe(401);
      expect((await login(server, admin.email, admin.password)).status).toBe(401);
      expect((await login(server, admin.email, newAdminPassword)).status).toBe(200);

      const byToken = await me(server, { authorization: `Bearer ${bearer}` });
      expect(byToken.status).toBe(200);
      expect(byToken.body.user?.email).toBe(admin.email);

      const sue = await login(server, 'sue@example.com', supervisorPassword);
      expect(sue.status).toBe(200);
      const sueMe = await me(server, { cookie: sue.cookie! });
      expect(sueMe.body.user).toMatchObject({ email: 'Sue@Example.com', name: 'Sue', accountId });
      expect(sueMe.body.permissions).toMatchObject({ manageUsers: false, supervise: true });

      const olga = await login(server, 'olga@example.com', 'olga-chosen-password');
      expect(olga.status).toBe(200);
      expect((await me(server, { cookie: olga.cookie! })).body.permissions).toMatchObject({
        manageUsers: false,
        supervise: false,
      });
    } finally {
      await server.stop();
    }
  });

  it('reports a configuration error naming the variable', async () => {
    const result = await cliInProcess(['migrate'], { DATABASE_URL: 'mysql://db/openlines' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Configuration error: DATABASE_URL: must start with postgres:/);
  });
});
