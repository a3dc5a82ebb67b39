import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A real Dovecot IMAP server for tests (Debian's `dovecot-imapd`, installed by `.ci/run`): its own
 * config, passwd-file users and maildirs under a temp dir, on a free port of 127.0.0.1, run in the
 * foreground as a child of the test — never the system's Dovecot on 143.
 */
export interface Dovecot {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Stops the server (a restart keeps the maildir: `start` again with the same dir). */
  stop(): Promise<void>;
  /** Starts it again on the same port and maildir (after `stop`). */
  restart(): Promise<void>;
  /** Dovecot's log so far (for a failing test's message). */
  log(): Promise<string>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export const DOVECOT_BINARY = '/usr/sbin/dovecot';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`dovecot did not listen on ${port}: ${output()}`);
}

async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error(`no ${name} user: install dovecot-imapd`);
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startDovecot(options: { user?: string; password?: string } = {}): Promise<Dovecot> {
  const user = options.user ?? 'support@example.test';
  const password = options.password ?? 'imap-secret';
  const dir = await mkdtemp(join(tmpdir(), 'openlines-dovecot-'));
  const port = await freePort();
  const me = userInfo();
  // Dovecot's auth process (its own user when run as root) reads the passwd file.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'run'), { recursive: true });
  await mkdir(join(dir, 'state'), { recursive: true });
  await mkdir(join(dir, 'home'), { recursive: true });
  // Dovecot never delivers mail as root: as root, the mail belongs to the package's `dovecot` user.
  const owner = me.uid === 0 ? await systemUser('dovecot') : { uid: me.uid, gid: me.gid };
  await chown(join(dir, 'home'), owner.uid, owner.gid);
  await writeFile(
    join(dir, 'passwd'),
    `${user}:{PLAIN}${password}:${owner.uid}:${owner.gid}::${join(dir, 'home', user)}\n`,
    { mode: 0o644 },
  );
  const config = `
base_dir = ${join(dir, 'run')}
state_dir = ${join(dir, 'state')}
log_path = ${join(dir, 'dovecot.log')}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
${
  // As root (CI containers) Dovecot wants its own unprivileged users, which the package creates;
  // as anyone else it runs every process as that user.
  me.uid === 0
    ? 'default_internal_user = dovecot\ndefault_login_user = dovenull'
    : `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}`
}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${join(dir, 'passwd')}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${join(dir, 'passwd')}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
  const configPath = join(dir, 'dovecot.conf');
  await writeFile(configPath, config);
  let child: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    output = '';
    const started = spawn(DOVECOT_BINARY, ['-F', '-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child = started;
    await waitForPort(port, started, () => output);
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    stop,
    restart: start,
    log: () => readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => ''),
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
