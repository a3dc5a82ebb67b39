import { ConfigError, loadConfig } from './config';
import { startServer } from './server';
import { DataDirLockedError } from './store/data-dir-lock';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const server = await startServer(config);
  const lines = [
    '',
    `  Openlines is running at ${server.url}`,
    `  Database: ${config.databaseUrl ? 'PostgreSQL' : `embedded (PGlite) in ${config.dataDir}`}; events: ${config.redisUrl ? 'Redis' : 'in-process'}`,
    `  API docs: ${server.url}/api/docs`,
  ];
  if (server.firstRun) {
    lines.push(
      '',
      '  First start: an administrator was created. Sign in with',
      `    e-mail:   ${server.firstRun.email}`,
      `    password: ${server.firstRun.password}`,
      '  This password is shown only once. Change it after signing in',
      `  (or reset it any time with: npm run cli -- reset-password ${server.firstRun.email}).`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.ctx.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    await server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  if (error instanceof DataDirLockedError) {
    process.stderr.write(`Openlines cannot start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `Openlines failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
