import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OpenlinesResult } from './openlines';
import type { RoutingScenarioResult } from './routing-scenario';
import type { PhaseResult, RatePhaseResult } from './stats';

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
  /** E.g. "PGlite 0.5.16, in memory, in the server thread". */
  database: string;
  date: Date;
  machine: Machine;
  parameters: {
    messages: number;
    concurrency: number;
    clients: number;
    operators: number;
    warmUp: number;
    maxSeconds: number;
    kindSamples: number;
  };
  /** The baseline measured before and after the Openlines run. */
  baselines: PhaseResult[];
  openlines: OpenlinesResult;
  /** The routing scenario, once per chat limit (none with BENCH_ROUTING=0). */
  routing: RoutingScenarioResult[];
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
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

interface Ratios {
  throughput: number;
  p50: number;
  p99: number;
  /** How far apart the baseline runs are (max/min throughput − 1): the noise of this machine now. */
  baselineSpread: number;
}

/** Openlines over the mean of the baseline runs. */
export function ratiosOf(report: RunReport): Ratios {
  const o = report.openlines.phase;
  const b = report.baselines;
  const throughputs = b.map((phase) => phase.throughput);
  return {
    throughput: o.throughput / mean(throughputs),
    p50: o.latency.p50 / mean(b.map((phase) => phase.latency.p50)),
    p99: o.latency.p99 / mean(b.map((phase) => phase.latency.p99)),
    baselineSpread: Math.max(...throughputs) / Math.min(...throughputs) - 1,
  };
}

const HEADER = [
  'Scenario',
  'sent',
  'msgs/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'HTTP p50 ms',
  'HTTP p99 ms',
  'SQL/msg',
  'CPU ms/msg',
  'server CPU ms/msg',
  'PostgreSQL CPU ms/msg',
  'server loop busy',
  'client loop busy',
  'failed',
];

/** CPU is measured where the OS tells it (Linux /proc); elsewhere, or with no such process, it is unknown. */
function cpuText(ms: number | null): string {
  return ms === null ? '?' : ms.toFixed(2);
}

function rowOf(phase: PhaseResult): string[] {
  return [
    phase.name,
    phase.stoppedEarly ? `${phase.messages} (time limit)` : String(phase.messages),
    rate(phase.throughput),
    ms(phase.latency.p50),
    ms(phase.latency.p99),
    ms(phase.latency.max),
    ms(phase.http.p50),
    ms(phase.http.p99),
    phase.sqlPerMessage.toFixed(1),
    phase.cpuMsPerMessage.toFixed(2),
    cpuText(phase.serverCpuMsPerMessage),
    cpuText(phase.postgresCpuMsPerMessage),
    percent(phase.serverLoopBusy),
    percent(phase.clientLoopBusy),
    String(phase.failed),
  ];
}

function ratiosText(report: RunReport, bold: (text: string) => string): string {
  const r = ratiosOf(report);
  return (
    `Openlines / baseline (mean of ${report.baselines.length} runs): throughput ${bold(ratio(r.throughput))}, ` +
    `p50 latency ${bold(ratio(r.p50))}, p99 latency ${bold(ratio(r.p99))}; ` +
    `baseline runs differ by ${Math.round(r.baselineSpread * 100)} % in throughput`
  );
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

function notes(report: RunReport): string[] {
  const o = report.openlines;
  const lines = [
    ...groupsText(o.phase).map((text) => `Openlines, ${text}`),
    `Sessions per operator: ${o.sessionsPerOperator.join(', ')}`,
    `WebSocket frames received per message, all operators together: ${o.framesPerMessage.toFixed(1)}`,
  ];
  if (o.webhookDeliveries > 0) {
    lines.push(
      `Outbound messages delivered to the API channel's webhook (automatic replies): ${o.webhookDeliveries}`,
    );
  }
  if (o.backends) {
    lines.push(
      `PostgreSQL backends busy during the Openlines run (average count, state · wait): ${backendsText(o)}`,
    );
  }
  for (const phase of [o.phase, ...report.baselines]) {
    if (phase.firstError) lines.push(`First failure of ${phase.name}: ${phase.firstError}`);
  }
  return lines;
}

/** The engine issue's statement budgets per kind of message (BEGIN/COMMIT included). */
const BUDGETS: Record<string, number> = {
  'client message in a dialog an operator holds': 8,
  "new client's first message (session opened, routed, welcome)": 20,
  'operator message to a widget visitor': 8,
};

function kindRows(o: OpenlinesResult): string[][] {
  return [
    ['Kind of message (one at a time)', 'messages', 'SQL/msg', 'budget', 'server CPU ms/msg'],
    ...o.kinds.map((k) => [
      k.kind,
      String(k.messages),
      k.statementsPerMessage.toFixed(1),
      BUDGETS[k.kind] === undefined ? '–' : `≤ ${BUDGETS[k.kind]}`,
      cpuText(k.serverCpuMsPerMessage),
    ]),
  ];
}

function rateRows(phases: RatePhaseResult[]): string[][] {
  return [
    [
      'Fixed rate (open loop)',
      'sent',
      'done msgs/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'most in flight',
      'SQL/msg',
      'CPU ms/msg',
      'server CPU ms/msg',
      'PostgreSQL CPU ms/msg',
      'server loop busy',
      'failed',
    ],
    ...phases.map((phase) => [
      `${phase.rate} msgs/s for ${phase.seconds} s`,
      String(phase.sent),
      rate(phase.achievedRate),
      ms(phase.latency.p50),
      ms(phase.latency.p99),
      ms(phase.latency.max),
      String(phase.maxInFlight),
      phase.sqlPerMessage.toFixed(1),
      phase.cpuMsPerMessage.toFixed(2),
      cpuText(phase.serverCpuMsPerMessage),
      cpuText(phase.postgresCpuMsPerMessage),
      percent(phase.serverLoopBusy),
      String(phase.failed),
    ]),
  ];
}

function routingText(results: RoutingScenarioResult[]): string[] {
  return results.flatMap((r) => [
    `Routing: ${r.queued} sessions queued with nobody online (in ${(r.queueingMs / 1000).toFixed(1)} s), then ` +
      `${r.operators} operators with a limit of ${r.limit} connected at once: ${r.assigned} of ${r.expected} ` +
      `assigned in ${ms(r.capacityUsedMs)} ms (${rate(r.assignmentsPerSecond)} assignments/s, ` +
      `${(r.statements / Math.max(1, r.assigned)).toFixed(1)} SQL statements per assignment)`,
    `Routing, read back from the stored transitions: at most ${r.mostHeldByOne} sessions held by one operator; ` +
      `${r.overLimitOperators} operators over the limit, ${r.doubleAssignedSessions} sessions given twice, ` +
      `${r.inconsistentSessions} sessions held by someone other than the operator told`,
  ]);
}

function idleText(o: OpenlinesResult): string {
  return `Idle (no message for ${o.idle.seconds} s, background workers polling): ${o.idle.statementsPerSecond.toFixed(1)} SQL statements/s`;
}

function textTable(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

function markdownTable(rows: string[][]): string {
  return [rows[0]!, rows[0]!.map(() => '---'), ...rows.slice(1)]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
}

/** The table and ratios for the terminal. */
export function formatConsole(report: RunReport): string {
  const o = report.openlines;
  return [
    ...textTable([HEADER, rowOf(o.phase), ...report.baselines.map(rowOf)]),
    '',
    ratiosText(report, (text) => text),
    ...notes(report),
    '',
    ...textTable(kindRows(o)),
    idleText(o),
    '',
    ...(o.fixedRate.length > 0 ? [...textTable(rateRows(o.fixedRate)), ''] : []),
    ...routingText(report.routing),
    `Load average (1 min): ${report.loadAverage.start.toFixed(1)} at start, ${report.loadAverage.end.toFixed(1)} at end, on ${report.machine.cores} cores`,
  ].join('\n');
}

/** One database kind's section of docs/benchmarks.md. */
export function formatSection(report: RunReport): string {
  const { machine: m, parameters: p } = report;
  const o = report.openlines;
  const table = [HEADER, HEADER.map(() => '---'), rowOf(o.phase), ...report.baselines.map(rowOf)]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
  return [
    `## ${TITLES[report.kind]}`,
    '',
    `- **Date:** ${report.date.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; Node ${m.node}; ${m.os}; ` +
      `load average (1 min) ${report.loadAverage.start.toFixed(1)} at start, ${report.loadAverage.end.toFixed(1)} at end`,
    `- **Database:** ${report.database}`,
    `- **Parameters:** ${p.messages} messages per scenario (or what ${p.maxSeconds} s allow) from ${p.clients} clients, ` +
      `${p.concurrency} in flight, ${p.operators} operators online (distribution \`evenly\`, no chat limit); ` +
      `warm-up (at least ${p.warmUp} messages and 3 s, at most 15 s) not counted`,
    '',
    table,
    '',
    `${ratiosText(report, (text) => `**${text}**`)}.`,
    '',
    ...notes(report).map((text) => `- ${text}`),
    '',
    `Statements per message by kind, each sent ${p.kindSamples} times one at a time after the closed loop ` +
      '(background workers in the same window counted too, so these are upper bounds):',
    '',
    markdownTable(kindRows(o)),
    ...(o.fixedRate.length > 0
      ? [
          '',
          'Fixed rate: held-dialog messages of the same clients sent at a fixed rate whatever the answers ' +
            '(open loop); latency runs from when each message was due to its arrival on the holder’s socket:',
          '',
          markdownTable(rateRows(o.fixedRate)),
        ]
      : []),
    '',
    `- ${idleText(o)}`,
    ...routingText(report.routing).map((text) => `- ${text}`),
    '',
    `- Whole run ${(report.durationMs / 1000).toFixed(0)} s (Openlines set-up ${(o.setupMs / 1000).toFixed(1)} s)`,
  ].join('\n');
}

const INTRO = `# Benchmarks

\`npm run bench\` measures Openlines' message pipeline against a floor measured on the same machine,
database and client in the same run. It writes its latest results here itself: one section per
database kind, and a run replaces only the section of the kind it ran (PGlite by default;
PostgreSQL + Redis when \`DATABASE_URL\` and \`REDIS_URL\` are set).

\`\`\`sh
npm run bench
DATABASE_URL=postgres://root@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 npm run bench
BENCH_MESSAGES=500 BENCH_CONCURRENCY=50 npm run bench   # also BENCH_CLIENTS, BENCH_OPERATORS
BENCH_MAX_SECONDS=120 npm run bench                     # time limit per measured phase (default 60)
BENCH_RATES=100,300 BENCH_RATE_SECONDS=30 npm run bench # fixed-rate phases (BENCH_RATES=0: none)
BENCH_ROUTING=0 npm run bench                           # skip the routing scenario (also BENCH_ROUTING_QUEUED,
                                                        # BENCH_ROUTING_OPERATORS, BENCH_ROUTING_LIMITS=5,20)
BENCH_WRITE=0 npm run bench                             # print only, leave this file alone
\`\`\`

## What is measured

- **Openlines:** the real server (\`startServer\`, logs silent, background workers on) in a worker
  thread of its own, so its event loop is not shared with the load generator. Operators are signed
  in, online, each with a WebSocket open; one line has them all in its queue (distribution
  \`evenly\`, no chat limit) and an API channel. The bench POSTs client messages to
  \`/api/v1/channel-api/messages\` from a fixed set of clients in turn, with a fixed number in
  flight (a closed loop: a sender's next message goes once its previous one has arrived). Each
  message is stored; a client's first message opens a session and routes it to an operator, the
  next ones join that session; \`message.created\` is pushed to the queue's operators. **Latency**
  runs from the start of the POST to that event's arrival on the WebSocket of the operator holding
  the dialog; **msgs/s** is completed messages over the wall time of the phase; the **HTTP** columns
  stop at the POST's answer (the message is committed). A phase sends its message count, or stops
  starting new messages at its time limit (the **sent** column says so); the share of first
  messages, which cost more, is then higher.
- **Statements by kind:** after the closed loop, each kind of message is sent
  \`BENCH_KIND_SAMPLES\` times one at a time (so no group commit shares them) and the server's
  statements are counted, BEGIN/COMMIT, the welcome's webhook delivery and background workers'
  polls in the same window included: a client message in a dialog an operator holds, a new
  client's first message (session opened, routed, welcome queued and delivered), an operator's
  message to a widget visitor. The budgets are the engine issue's.
- **Fixed rate:** held-dialog messages of the same clients at a fixed rate for a fixed time
  (\`BENCH_RATES\`, \`BENCH_RATE_SECONDS\`), sent when due whatever the server answers (an open
  loop). Latency runs from when each message was due, so a server that falls behind shows it as
  latency instead of quietly sending less (coordinated omission).
- **Routing:** a server of its own (a fresh database); \`BENCH_ROUTING_QUEUED\` clients write while
  nobody is online, so their sessions wait in the queue; then \`BENCH_ROUTING_OPERATORS\` operators
  with each chat limit of \`BENCH_ROUTING_LIMITS\` (\`evenly\`) open their WebSockets at once, which
  makes them online. Timed from the first socket opening to the last assignment reaching its
  operator; then every session's stored transitions are read back over the API and replayed: the
  most sessions anyone held at once, anyone over the limit, any session given twice. The run
  exits non-zero if any of those is not 0.
- **Baseline:** a bare Fastify app in a worker thread, one POST route doing one INSERT per request
  into the same kind of database (a PGlite of its own in memory, or the same PostgreSQL database),
  through the same store layer (Kysely; a pg pool of the same size), driven by the same client with
  the same message count and concurrency: what any server pays here for HTTP plus one durable write.
  It runs once before and once after Openlines; ratios use the mean of the two.

## How to read this

- **Ratios** are Openlines over baseline: throughput below 1× and latencies above 1× are the price
  of what Openlines does per message (token check, validation, finding the client and dialog,
  routing under the line's lock, session transitions, timers, event rows and their cursor, fan-out
  to every queue member's socket). Compare ratios across machines rather than raw numbers.
- **SQL/msg** counts the statements the server sent per message (BEGIN/COMMIT and background
  workers included); **server CPU ms/msg** is the CPU time of the server's thread alone (read from
  \`/proc/thread-self/stat\`; with PGlite it includes the database's work, with PostgreSQL it does
  not); **PostgreSQL CPU ms/msg** is the CPU time of every PostgreSQL process on this machine
  (\`/proc\`; '?' with PGlite or a remote database); **CPU ms/msg** is the CPU time of the whole bench process (server thread,
  PGlite, load generator; not PostgreSQL's) per message. **Server loop busy** near 100 % means the
  server's Node thread is the limit; if it is well below while latency grows, the time goes to
  waiting (on PostgreSQL, the "backends busy" line shows on what). **Client loop busy** near 100 %
  would mean the load generator, not the server, limits the numbers.
- Everything runs on one machine over loopback. The baseline runs differ when the machine's load
  drifts (the spread is printed, the load average is recorded): on a shared machine take the numbers
  as an order of magnitude; p99 and max are the noisiest. Warm-up messages are not counted.
`;

const marker = (kind: DatabaseKind, end: boolean) => `<!-- bench:${kind}${end ? ':end' : ''} -->`;

function existingSection(text: string, kind: DatabaseKind): string | null {
  const start = text.indexOf(marker(kind, false));
  const end = text.indexOf(marker(kind, true));
  if (start < 0 || end < start) return null;
  return text.slice(start + marker(kind, false).length, end).trim();
}

/**
 * Puts this run's section into docs/benchmarks.md in place of the last one of its kind, leaving the
 * rest of the file (the other kind's section, the notes written by hand) as it is. A file without
 * that section is written anew: the introduction, then both kinds' sections.
 */
export async function updateDocs(file: string, report: RunReport): Promise<void> {
  const previous = await fs.readFile(file, 'utf8').catch(() => '');
  const sectionOf = (kind: DatabaseKind, body: string) =>
    `${marker(kind, false)}\n${body}\n${marker(kind, true)}`;
  const section = sectionOf(report.kind, formatSection(report));
  const start = previous.indexOf(marker(report.kind, false));
  const end = previous.indexOf(marker(report.kind, true));
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (start >= 0 && end > start) {
    const after = previous.slice(end + marker(report.kind, true).length);
    await fs.writeFile(file, `${previous.slice(0, start)}${section}${after}`);
    return;
  }
  const kinds: DatabaseKind[] = ['pglite', 'postgres'];
  const sections = kinds.map((kind) =>
    kind === report.kind
      ? section
      : sectionOf(
          kind,
          existingSection(previous, kind) ??
            `## ${TITLES[kind]}\n\n_Not run yet on this machine: see the commands above._`,
        ),
  );
  await fs.writeFile(file, `${INTRO}\n${sections.join('\n\n')}\n`);
}
