import { performance } from 'node:perf_hooks';
import { postgresCpuMs } from './process-cpu';
import type { ServerThread } from './server-thread';

/** One request of a phase: its latency, or why it failed. */
export type Sample =
  | { ok: true; latencyMs: number; httpMs: number /** A group to report on its own. */; group?: string }
  | { ok: false; error: string };

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

/** What a phase cost the server per completed message, and how busy both event loops were. */
export interface PhaseCosts {
  /** SQL statements the server sent per completed message (BEGIN/COMMIT and its background workers included). */
  sqlPerMessage: number;
  /** CPU time of the whole bench process (server thread, PGlite, load generator) per completed message, in ms. */
  cpuMsPerMessage: number;
  /** CPU time of the server's thread alone (with PGlite, the database's too) per completed message; null off Linux. */
  serverCpuMsPerMessage: number | null;
  /** CPU time of the PostgreSQL processes on this machine per completed message; null with PGlite. */
  postgresCpuMsPerMessage: number | null;
  /** Event loop utilisation of the server thread during the phase (1 = never idle). */
  serverLoopBusy: number;
  /** Event loop utilisation of the load generator (main thread): near 1 means the client is the limit. */
  clientLoopBusy: number;
}

export interface PhaseResult extends PhaseCosts {
  name: string;
  /** Messages sent: the count asked for, or fewer when the phase hit its time limit. */
  messages: number;
  stoppedEarly: boolean;
  concurrency: number;
  /** Completed (ok) messages per second of wall time for the whole phase. */
  throughput: number;
  elapsedMs: number;
  ok: number;
  failed: number;
  firstError: string | null;
  /** Send start → the end of the pipeline (the operator's WebSocket, or the baseline's 201). */
  latency: Distribution;
  /** Send start → the HTTP answer. */
  http: Distribution;
  /** Latency per sample group (e.g. a client's first message vs. the next ones). */
  groups: Record<string, Distribution & { count: number }>;
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** When a phase stops taking new messages, besides having sent its count. */
export interface StopRule {
  /** No new message starts after this many ms (the ones in flight complete). */
  maxMs?: number;
  /** Keep going past `count` (up to 10×) until this many ms have passed. */
  minMs?: number;
}

type Server = Pick<ServerThread, 'statements' | 'cpuMs' | 'eventLoopUtilization' | 'localPostgres'>;
type Good = Extract<Sample, { ok: true }>;

/** A send that threw, as a failed sample. */
function failedSample(error: unknown): Sample {
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}

/** What every phase reports about itself, whatever drove it. */
interface Measured {
  samples: Sample[];
  good: Good[];
  bad: Extract<Sample, { ok: false }>[];
  elapsedMs: number;
  costs: PhaseCosts;
}

/**
 * Runs a phase and measures it: wall time from `run`'s start (which it is given), the server's
 * statements, the process's CPU and both event loops, per completed message.
 */
async function measure(server: Server, run: (startedAt: number) => Promise<Sample[]>): Promise<Measured> {
  const statements = await server.statements();
  const serverCpu = await server.cpuMs();
  const databaseCpu = server.localPostgres ? postgresCpuMs() : null;
  const serverLoop = server.eventLoopUtilization();
  const clientLoop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const samples = await run(started);
  const elapsedMs = performance.now() - started;
  const cpuUsed = process.cpuUsage(cpu);
  const clientLoopBusy = performance.eventLoopUtilization(clientLoop).utilization;
  const serverLoopBusy = server.eventLoopUtilization(serverLoop).utilization;
  const statementsSent = (await server.statements()) - statements;
  const serverCpuAfter = await server.cpuMs();
  const databaseCpuAfter = server.localPostgres ? postgresCpuMs() : null;
  const good = samples.filter((s): s is Good => s.ok);
  const bad = samples.filter((s): s is Extract<Sample, { ok: false }> => !s.ok);
  const completed = Math.max(1, good.length);
  return {
    samples,
    good,
    bad,
    elapsedMs,
    costs: {
      sqlPerMessage: statementsSent / completed,
      cpuMsPerMessage: (cpuUsed.user + cpuUsed.system) / 1000 / completed,
      serverCpuMsPerMessage:
        serverCpu === null || serverCpuAfter === null ? null : (serverCpuAfter - serverCpu) / completed,
      postgresCpuMsPerMessage:
        databaseCpu === null || databaseCpuAfter === null
          ? null
          : (databaseCpuAfter - databaseCpu) / completed,
      serverLoopBusy,
      clientLoopBusy,
    },
  };
}

/**
 * Sends `count` messages with at most `concurrency` in flight (a closed loop: a worker sends its
 * next message when the previous one has completed) and measures the phase.
 */
export async function drive(
  name: string,
  count: number,
  concurrency: number,
  send: (index: number) => Promise<Sample>,
  server: Server,
  stop: StopRule = {},
): Promise<PhaseResult> {
  const samples: Sample[] = [];
  const limit = stop.minMs ? count * 10 : count;
  let next = 0;
  let started = 0;
  const more = () => {
    if (next >= limit) return false;
    const elapsed = performance.now() - started;
    if (stop.maxMs !== undefined && elapsed >= stop.maxMs) return false;
    return next < count || (stop.minMs !== undefined && elapsed < stop.minMs);
  };
  const worker = async () => {
    while (more()) {
      const index = next++;
      try {
        samples[index] = await send(index);
      } catch (error) {
        samples[index] = failedSample(error);
      }
    }
  };
  const phase = await measure(server, async (startedAt) => {
    started = startedAt;
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return samples;
  });
  const { good, bad, elapsedMs } = phase;
  const groups: PhaseResult['groups'] = {};
  for (const group of new Set(good.flatMap((s) => (s.group ? [s.group] : [])))) {
    const latencies = good.filter((s) => s.group === group).map((s) => s.latencyMs);
    groups[group] = { ...distribution(latencies), count: latencies.length };
  }
  return {
    name,
    messages: samples.length,
    stoppedEarly: samples.length < count,
    concurrency,
    throughput: good.length / (elapsedMs / 1000),
    elapsedMs,
    ok: good.length,
    failed: bad.length,
    firstError: bad[0]?.error ?? null,
    latency: distribution(good.map((s) => s.latencyMs)),
    http: distribution(good.map((s) => s.httpMs)),
    groups,
    ...phase.costs,
  };
}

/**
 * Runs messages only to warm up the JIT, connections and caches (their numbers are dropped): at
 * least `count` and at least 3 s, but no new message after 15 s.
 */
export async function warmUp(
  count: number,
  concurrency: number,
  send: (index: number) => Promise<Sample>,
): Promise<void> {
  const noServer = {
    statements: async () => 0,
    cpuMs: async () => null,
    localPostgres: false,
    eventLoopUtilization: () => performance.eventLoopUtilization(),
  };
  const result = await drive('warm-up', count, concurrency, send, noServer, { minMs: 3000, maxMs: 15_000 });
  if (result.failed > 0) throw new Error(`warm-up failed: ${result.firstError}`);
}

export interface RatePhaseResult extends PhaseCosts {
  name: string;
  /** Messages per second asked for, and for how long. */
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  failed: number;
  firstError: string | null;
  /** Completed messages over the wall time from the first scheduled send to the last completion. */
  achievedRate: number;
  /**
   * From the time each message was due to be sent (not when the load generator got to it) to the
   * end of the pipeline: a server that falls behind shows as latency, not as a lower send rate.
   */
  latency: Distribution;
  /** Messages started and not yet completed, at most. */
  maxInFlight: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An open loop (coordinated-omission safe): message i is due at start + i / rate whatever happened
 * to the ones before it, and its latency counts from when it was due. `send` gets that due time.
 */
export async function driveAtRate(
  name: string,
  rate: number,
  seconds: number,
  send: (index: number, dueAt: number) => Promise<Sample>,
  server: Server,
): Promise<RatePhaseResult> {
  const count = Math.max(1, Math.round(rate * seconds));
  const intervalMs = 1000 / rate;
  let inFlight = 0;
  let maxInFlight = 0;
  const phase = await measure(server, async (started) => {
    const pending: Promise<Sample>[] = [];
    for (let index = 0; index < count; index++) {
      const dueAt = started + index * intervalMs;
      const wait = dueAt - performance.now();
      if (wait >= 1) await sleep(wait);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.push(
        send(index, dueAt)
          .catch(failedSample)
          .finally(() => {
            inFlight--;
          }),
      );
    }
    return Promise.all(pending);
  });
  const { good, bad } = phase;
  return {
    name,
    rate,
    seconds,
    sent: phase.samples.length,
    ok: good.length,
    failed: bad.length,
    firstError: bad[0]?.error ?? null,
    achievedRate: good.length / (phase.elapsedMs / 1000),
    latency: distribution(good.map((s) => s.latencyMs)),
    maxInFlight,
    ...phase.costs,
  };
}
