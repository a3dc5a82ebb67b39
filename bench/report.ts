import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OpenlinesResult } from './openlines';
import type { PhaseResult } from './stats';

export type DatabaseKind = 'pglite' | 'postgres';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
}

export interface RunReport {
  kind: DatabaseKind;
  /** E.g. "PGlite 0.5.16, in memory, in the bench process". */
  database: string;
  date: Date;
  machine: Machine;
  parameters: { messages: number; concurrency: number; clients: number; operators: number; warmUp: number };
  baseline: PhaseResult;
  openlines: OpenlinesResult;
  durationMs: number;
  /** The machine's 1-minute load average when the run started and ended (other work skews results). */
  loadAverage: { start: number; end: number };
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim().replace(/\s+/g, ' ') ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

const TITLES: Record<DatabaseKind, string> = {
  pglite: 'PGlite (embedded server)',
  postgres: 'PostgreSQL + Redis',
};

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '–');
const rate = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const percent = (value: number) => `${Math.round(value * 100)} %`;

interface Ratios {
  throughput: number;
  p50: number;
  p99: number;
}

export function ratiosOf(report: RunReport): Ratios {
  const o = report.openlines.phase;
  const b = report.baseline;
  return {
    throughput: o.throughput / b.throughput,
    p50: o.latency.p50 / b.latency.p50,
    p99: o.latency.p99 / b.latency.p99,
  };
}

const HEADER = [
  'Scenario',
  'msgs/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'HTTP p50 ms',
  'HTTP p99 ms',
  'SQL/msg',
  'CPU ms/msg',
  'server loop busy',
  'client loop busy',
  'failed',
];

function rowOf(phase: PhaseResult): string[] {
  return [
    phase.name,
    rate(phase.throughput),
    ms(phase.latency.p50),
    ms(phase.latency.p99),
    ms(phase.latency.max),
    ms(phase.http.p50),
    ms(phase.http.p99),
    phase.sqlPerMessage.toFixed(1),
    phase.cpuMsPerMessage.toFixed(2),
    percent(phase.serverLoopBusy),
    percent(phase.clientLoopBusy),
    String(phase.failed),
  ];
}

/** The table and ratios for the terminal. */
export function formatConsole(report: RunReport): string {
  const rows = [HEADER, rowOf(report.openlines.phase), rowOf(report.baseline)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  const r = ratiosOf(report);
  const o = report.openlines;
  const lines = [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    line(rows[1]!),
    line(rows[2]!),
    '',
    `Openlines / baseline: throughput ${ratio(r.throughput)}, p50 latency ${ratio(r.p50)}, p99 latency ${ratio(r.p99)}`,
    ...groupsText(o.phase).map((text) => `Openlines, ${text}`),
    `Sessions per operator: ${o.sessionsPerOperator.join(', ')}; WebSocket frames per message (all operators): ${o.framesPerMessage.toFixed(1)}; webhook deliveries: ${o.webhookDeliveries}`,
    `Load average (1 min): ${report.loadAverage.start.toFixed(1)} at start, ${report.loadAverage.end.toFixed(1)} at end, on ${report.machine.cores} cores`,
  ];
  if (o.phase.firstError) lines.push(`First Openlines failure: ${o.phase.firstError}`);
  if (report.baseline.firstError) lines.push(`First baseline failure: ${report.baseline.firstError}`);
  if (o.backends) lines.push(`PostgreSQL backends during the run (average count): ${backendsText(o)}`);
  return lines.join('\n');
}

function groupsText(phase: PhaseResult): string[] {
  return Object.entries(phase.groups).map(
    ([group, d]) =>
      `${group}: ${d.count} messages, p50 ${ms(d.p50)} ms, p99 ${ms(d.p99)} ms, max ${ms(d.max)} ms`,
  );
}

function backendsText(o: OpenlinesResult): string {
  if (!o.backends) return '';
  const entries = Object.entries(o.backends.average).filter(([, n]) => n >= 0.05);
  return entries.length === 0 ? 'none busy' : entries.map(([key, n]) => `${key} ${n.toFixed(1)}`).join('; ');
}

/** One database kind's section of docs/benchmarks.md. */
export function formatSection(report: RunReport): string {
  const { machine: m, parameters: p } = report;
  const o = report.openlines;
  const r = ratiosOf(report);
  const table = [HEADER, HEADER.map(() => '---'), rowOf(o.phase), rowOf(report.baseline)]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
  const lines = [
    `## ${TITLES[report.kind]}`,
    '',
    `- **Date:** ${report.date.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; Node ${m.node}; ${m.os}; ` +
      `load average (1 min) ${report.loadAverage.start.toFixed(1)} at start, ${report.loadAverage.end.toFixed(1)} at end`,
    `- **Database:** ${report.database}`,
    `- **Parameters:** ${p.messages} messages from ${p.clients} clients, ${p.concurrency} in flight, ` +
      `${p.operators} operators online (distribution \`evenly\`, no chat limit); ${p.warmUp} warm-up messages per scenario, not counted`,
    '',
    table,
    '',
    `**Openlines / baseline:** throughput **${ratio(r.throughput)}**, p50 latency **${ratio(r.p50)}**, p99 latency **${ratio(r.p99)}**.`,
    '',
    ...groupsText(o.phase).map((text) => `- Openlines, ${text}`),
    `- Sessions per operator: ${o.sessionsPerOperator.join(', ')}`,
    `- WebSocket frames received per message, all operators together: ${o.framesPerMessage.toFixed(1)}`,
    `- Outbound messages delivered to the API channel's webhook (automatic replies): ${o.webhookDeliveries}`,
    `- Whole run ${(report.durationMs / 1000).toFixed(0)} s (Openlines set-up ${(o.setupMs / 1000).toFixed(1)} s)`,
  ];
  if (o.backends) {
    lines.push(
      `- PostgreSQL backends busy during the Openlines run (average count, by state · wait): ${backendsText(o)}`,
    );
  }
  if (o.phase.firstError) lines.push(`- First Openlines failure: \`${o.phase.firstError}\``);
  if (report.baseline.firstError) lines.push(`- First baseline failure: \`${report.baseline.firstError}\``);
  return lines.join('\n');
}

const INTRO = `# Benchmarks

\`npm run bench\` measures the main pipeline of Openlines against a floor measured on the same
machine, database and client in the same run. It writes its latest results here itself: one section
per database kind, and a run replaces only the section of the kind it ran (PGlite by default;
PostgreSQL + Redis when \`DATABASE_URL\` and \`REDIS_URL\` are set).

\`\`\`sh
npm run bench
DATABASE_URL=postgres://root@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 npm run bench
BENCH_MESSAGES=500 BENCH_CONCURRENCY=50 npm run bench   # also BENCH_CLIENTS, BENCH_OPERATORS
BENCH_WRITE=0 npm run bench                             # print only, leave this file alone
\`\`\`

## What is measured

- **Openlines:** a real server (the one \`npm start\` runs, logs silent, workers on). Operators are
  signed in, online, each with a WebSocket open; one line has them all in its queue (distribution
  \`evenly\`, no chat limit) and an API channel whose webhook is a loopback receiver. The bench POSTs
  client messages to \`/api/v1/channel-api/messages\`, from a fixed set of clients in turn, with a
  fixed number in flight (a closed loop: each worker sends its next message when its previous one
  has arrived). Each message is stored, opens and routes a session for a new client (and triggers
  the welcome message) or joins the client's open session, and is pushed as \`message.created\` to
  the queue's operators. **Latency** runs from the start of the POST to the arrival of that event
  on the WebSocket of the operator holding the dialog; **msgs/s** is completed messages over the
  wall time of the phase. **HTTP** columns stop at the POST's answer (the message is committed).
- **Baseline:** a bare Fastify app with one POST route doing one INSERT per request into the same
  kind of database (a PGlite of its own in memory, or the same PostgreSQL database), through the
  same store layer (Kysely; a pg pool of the same size), driven by the same client, message count
  and concurrency. It is what any server would pay for HTTP plus one durable write here.

## How to read this

- **Ratios** are Openlines over baseline: throughput below 1× and latencies above 1× are the price
  of everything Openlines does per message (token check, schema validation, finding the client and
  dialog, routing under the line's lock, session transitions, timers, event rows and their cursor,
  fan-out to every queue member's socket). Compare ratios across machines, not raw numbers.
- Everything runs on one machine over loopback: the load generator, the server, the operators'
  sockets and, with PGlite, the database share **one Node process**, so "CPU ms/msg" and "event loop
  busy" describe that process. An event loop near 100 % means Node itself is the limit; with
  PostgreSQL, the "backends busy" line shows whether the database connections wait on locks instead.
- The warm-up (JIT, connections) is not counted. Each scenario's numbers are from one run: expect a
  few percent of noise, more on a busy machine; p99 and max are the noisiest.
`;

const marker = (kind: DatabaseKind, end: boolean) => `<!-- bench:${kind}${end ? ':end' : ''} -->`;

function existingSection(text: string, kind: DatabaseKind): string | null {
  const start = text.indexOf(marker(kind, false));
  const end = text.indexOf(marker(kind, true));
  if (start < 0 || end < start) return null;
  return text.slice(start + marker(kind, false).length, end).trim();
}

/** Rewrites docs/benchmarks.md with this run's section and the other kind's last section. */
export async function updateDocs(file: string, report: RunReport): Promise<void> {
  const previous = await fs.readFile(file, 'utf8').catch(() => '');
  const kinds: DatabaseKind[] = ['pglite', 'postgres'];
  const sections = kinds.map((kind) => {
    const body =
      kind === report.kind
        ? formatSection(report)
        : (existingSection(previous, kind) ??
          `## ${TITLES[kind]}\n\n_Not run yet on this machine: see the commands above._`);
    return `${marker(kind, false)}\n${body}\n${marker(kind, true)}`;
  });
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${INTRO}\n${sections.join('\n\n')}\n`);
}
