import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { CapturedStatement } from './sql-counter';

/** What a bench server thread runs: the real Openlines server, or the bare baseline app. */
export interface ServerSpec {
  app: 'openlines' | 'baseline';
  /** PostgreSQL database, or null for a PGlite of the thread's own, in memory. */
  databaseUrl: string | null;
  redisUrl: string | null;
}

export type ToServer =
  | { type: 'statements' }
  | { type: 'cpu' }
  | { type: 'capture' }
  | { type: 'captured' }
  | { type: 'stop' };
export type FromServer =
  | { type: 'ready'; url: string; firstRun: { email: string; password: string } | null }
  | { type: 'statements'; count: number }
  | { type: 'cpu'; ms: number | null }
  | { type: 'capture' }
  | { type: 'captured'; statements: CapturedStatement[] }
  | { type: 'stopped' };

export interface ServerThread {
  url: string;
  /** Its database is a PostgreSQL on this machine, whose processes' CPU the bench can read. */
  localPostgres: boolean;
  firstRun: { email: string; password: string } | null;
  /** SQL statements the server has sent so far (see sql-counter). */
  statements(): Promise<number>;
  /**
   * CPU time the server's thread has used so far, in ms (with PGlite, the database's work too; not
   * PostgreSQL's, nor V8's helper threads); null where the OS does not tell (Linux does).
   */
  cpuMs(): Promise<number | null>;
  /** Records the statements (text and parameters) the server sends from now until `captured`. */
  capture(): Promise<void>;
  captured(): Promise<CapturedStatement[]>;
  /** The server thread's event loop utilisation, as `performance.eventLoopUtilization`. */
  eventLoopUtilization(previous?: EventLoopUtilization): EventLoopUtilization;
  stop(): Promise<void>;
}

function isLocal(databaseUrl: string | null): boolean {
  if (!databaseUrl) return false;
  const host = new URL(databaseUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '';
}

/**
 * Starts a server in a worker thread of its own, so that its event loop is not shared with the load
 * generator and the operators' sockets (as in production, where clients are elsewhere). The worker
 * loads TypeScript through tsx's API, since loader flags are not passed on to workers.
 */
export async function startServerThread(spec: ServerSpec): Promise<ServerThread> {
  const entry = new URL('./server-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: spec });
  const waiting = new Map<
    FromServer['type'],
    { resolve(message: FromServer): void; reject(error: Error): void }
  >();
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  worker.on('message', (message: FromServer) => {
    const waiter = waiting.get(message.type);
    waiting.delete(message.type);
    waiter?.resolve(message);
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', (code) => fail(new Error(`the ${spec.app} server thread exited (code ${code})`)));

  const expect = <T extends FromServer['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<FromServer, { type: T }>>((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(
        () => reject(new Error(`the ${spec.app} server thread did not answer "${type}" in ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.set(type, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as Extract<FromServer, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  const send = (message: ToServer) => worker.postMessage(message);

  let ready: Extract<FromServer, { type: 'ready' }>;
  try {
    ready = await expect('ready', 120_000);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    url: ready.url,
    localPostgres: isLocal(spec.databaseUrl),
    firstRun: ready.firstRun,
    async statements() {
      const answer = expect('statements', 10_000);
      send({ type: 'statements' });
      return (await answer).count;
    },
    async cpuMs() {
      const answer = expect('cpu', 10_000);
      send({ type: 'cpu' });
      return (await answer).ms;
    },
    async capture() {
      const answer = expect('capture', 10_000);
      send({ type: 'capture' });
      await answer;
    },
    async captured() {
      const answer = expect('captured', 10_000);
      send({ type: 'captured' });
      return (await answer).statements;
    },
    eventLoopUtilization: (previous) => worker.performance.eventLoopUtilization(previous),
    stop() {
      stopping ??= (async () => {
        try {
          const stopped = expect('stopped', 30_000);
          send({ type: 'stop' });
          await stopped;
        } catch {
          // Already gone, or stuck: terminate below either way.
        } finally {
          await worker.terminate();
        }
      })();
      return stopping;
    },
  };
}
