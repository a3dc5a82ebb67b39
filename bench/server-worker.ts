import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../server/src/config';
import { startServer } from '../server/src/server';
import { startBaselineServer } from './baseline';
import { threadCpuMs } from './process-cpu';
import type { FromServer, ServerSpec, ToServer } from './server-thread';
import { installSqlCounter, sqlStatements, startCapture, takeCaptured } from './sql-counter';

// The entry of a bench server thread (see server-thread.ts): starts the server it is asked for,
// answers the main thread's questions, and closes the server when told to.

async function start(spec: ServerSpec) {
  if (spec.app === 'baseline') return startBaselineServer(spec.databaseUrl);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    // The bench signs in its operators from one address within a minute.
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    ...(spec.databaseUrl ? { DATABASE_URL: spec.databaseUrl } : {}),
    ...(spec.redisUrl ? { REDIS_URL: spec.redisUrl } : {}),
  });
  // In memory: PGlite without files, a throwaway encryption key (the store ignores it on PostgreSQL).
  const server = await startServer(config, {
    inMemory: true,
    busNamespace: `bench-${randomBytes(4).toString('hex')}`,
  });
  return { url: server.url, firstRun: server.firstRun, close: () => server.close() };
}

const port = parentPort;
if (!port) throw new Error('server-worker.ts runs in a worker thread (see server-thread.ts)');
installSqlCounter();
const server = await start(workerData as ServerSpec);
const reply = (message: FromServer) => port.postMessage(message);
port.on('message', (message: ToServer) => {
  if (message.type === 'statements') reply({ type: 'statements', count: sqlStatements() });
  else if (message.type === 'cpu') reply({ type: 'cpu', ms: threadCpuMs() });
  else if (message.type === 'capture') {
    startCapture();
    reply({ type: 'capture' });
  } else if (message.type === 'captured') reply({ type: 'captured', statements: takeCaptured() });
  else if (message.type === 'stop') {
    void server
      .close()
      .catch(() => {})
      .then(() => {
        reply({ type: 'stopped' });
        port.close();
      });
  }
});
reply({ type: 'ready', url: server.url, firstRun: server.firstRun });
