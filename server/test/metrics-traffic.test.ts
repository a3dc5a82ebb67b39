import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiChannelSender, type OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../src/bus/bus';
import { FakeClock } from '../src/core/clock';
import { metricsPortOf } from '../src/http/metrics';
import { createTestServer, openRealtime, signIn, type TestServer, usingPostgres, waitFor } from './harness';
import { TestVisitor } from './widget-visitor';

/**
 * Metrics and readiness after real traffic (issue 21): messages in through an API channel and the
 * widget, operators' answers delivered (and one refused by its receiver), a session waiting in a
 * line's queue, sockets open; then a scrape is checked for the names and labels, and /readyz for
 * its checks, including the outbox falling behind and catching up (a fake clock, no timing).
 */
const TOKEN = 'traffic-metrics-token-0123';
const ORIGIN = 'https://shop.example.test';

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      return Number(line.split(' ').at(-1));
    }
  }
  return undefined;
}

describe('metrics and readiness after real traffic', () => {
  const clock = new FakeClock('2026-03-02T09:00:00Z');
  let server: TestServer;
  let admin: OpenlinesClient;
  let receiver: Server;
  let receiverUrl: string;
  let refuse = false;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () =>
        response.writeHead(refuse ? 503 : 200, { 'content-type': 'application/json' }).end('{}'),
      );
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    server = await createTestServer({
      clock,
      workers: false,
      env: { METRICS_TOKEN: TOKEN, METRICS_PORT: '0', READY_MAX_LAG_SECONDS: '60' },
    });
    admin = await signIn(server);
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const readyz = async () => {
    const response = await fetch(`${server.url}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { checks: Record<string, { status: string; lagSeconds?: number }> },
    };
  };

  it('counts messages by channel kind, deliveries by result, queues per line, sockets and the database', async () => {
    // No automatic texts: the outbound messages are the two answers below.
    const line = await admin.lines.create({
      name: 'Metered',
      settings: {
        automaticActions: { welcome: { enabled: false }, close: { rule: 'none' } },
        rating: { enabled: false },
      },
    });
    const api = await admin.channels.create({
      kind: 'api',
      name: 'Shop',
      lineId: line.id,
      settings: { webhookUrl: receiverUrl },
    });
    const widget = await admin.channels.create({
      kind: 'widget',
      name: 'Site',
      lineId: line.id,
      settings: { allowedDomains: ['shop.example.test'] },
    });
    const sender = new ApiChannelSender(server.url, api.secrets.inboundToken!);
    const first = await sender.send({ externalId: 'x-1', user: { id: 'u-1', name: 'Ivan' }, text: 'Hi' });
    await sender.send({ externalId: 'x-2', user: { id: 'u-1' }, text: 'Anyone?' });
    // A redelivery is not a new message.
    await sender.send({ externalId: 'x-2', user: { id: 'u-1' }, text: 'Anyone?' });
    const visitor = new TestVisitor(server.url, String(widget.channel.settings.publicKey), ORIGIN);
    await visitor.start();
    expect((await visitor.send('From the site')).status).toBe(201);
    const visitorSocket = await visitor.socket();
    const { realtime } = openRealtime(admin);
    await waitFor(() => realtime.connected, 'the operator socket');

    // Nobody is online: the sessions wait in the line's queue.
    const dialog = await admin.dialogs.get(first.dialogId);
    expect(dialog.session?.status).toBe('queued');
    clock.advance(30_000);

    // One answer delivered, one refused by the receiver (retried later).
    await admin.dialogs.send(first.dialogId, { text: 'Hello Ivan' });
    expect((await server.workers.outbox.runOnce()).sent).toBe(1);
    refuse = true;
    await admin.dialogs.send(first.dialogId, { text: 'Still here?' });
    expect((await server.workers.outbox.runOnce()).retried).toBe(1);
    refuse = false;

    const text = await scrape();
    expect(value(text, 'openlines_inbound_messages_total', { kind: 'api' })).toBe(2);
    expect(value(text, 'openlines_inbound_messages_total', { kind: 'widget' })).toBe(1);
    expect(value(text, 'openlines_outbound_deliveries_total', { kind: 'api', result: 'sent' })).toBe(1);
    expect(value(text, 'openlines_outbound_deliveries_total', { kind: 'api', result: 'retried' })).toBe(1);
    // Answering took the API client's session; the visitor's still waits.
    expect((await admin.dialogs.get(first.dialogId)).session?.status).not.toBe('queued');
    expect(value(text, 'openlines_line_queue_length', { line: line.id })).toBe(1);
    expect(
      value(text, 'openlines_line_queue_longest_wait_seconds', { line: line.id }),
    ).toBeGreaterThanOrEqual(30);
    expect(value(text, 'openlines_operator_sockets')).toBe(1);
    expect(value(text, 'openlines_visitor_sockets')).toBe(1);
    expect(value(text, 'openlines_outbox_oldest_pending_seconds')).toBe(0);
    expect(value(text, 'openlines_outbox_lag_seconds')).toBe(0);
    expect(value(text, 'openlines_timer_lag_seconds')).toBeDefined();
    expect(value(text, 'openlines_db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(10);
    expect(value(text, 'openlines_bus_up')).toBe(1);
    if (usingPostgres)
      expect(value(text, 'openlines_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(text).toContain('openlines_nodejs_eventloop_lag_p99_seconds');
    expect(text).toContain('openlines_process_resident_memory_bytes');
    expect(text).toContain('openlines_nodejs_heap_size_used_bytes');

    // The same registry on METRICS_PORT, with no token, and nothing else there.
    const port = metricsPortOf(server.app);
    expect(port).toBeGreaterThan(0);
    const separate = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(separate.status).toBe(200);
    expect(value(await separate.text(), 'openlines_inbound_messages_total', { kind: 'api' })).toBe(2);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/lines`)).status).toBe(404);

    realtime.close();
    visitorSocket.socket.close();
    await waitFor(
      async () => value(await scrape(), 'openlines_visitor_sockets') === 0,
      'the visitor socket to close',
    );
  });

  it('/readyz reports each check, and the outbox falling behind and catching up', async () => {
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({
      database: { status: 'ok' },
      redis: { status: process.env.REDIS_URL ? 'ok' : 'not_configured' },
      timers: { status: 'ok' },
      outbox: { status: 'ok' },
    });
    // The answer refused above is due for its retry; the workers (driven by this test) do not run.
    clock.advance(10 * 60_000);
    const behind = await readyz();
    expect(behind.status).toBe(503);
    expect(behind.body.checks.outbox?.status).toBe('failing');
    expect(behind.body.checks.outbox?.lagSeconds).toBeGreaterThan(60);
    expect(behind.body.checks.database?.status).toBe('ok');
    expect(value(await scrape(), 'openlines_outbox_lag_seconds')).toBeGreaterThan(60);
    // The worker catches up: ready again.
    while ((await server.workers.outbox.runOnce()).claimed > 0) {}
    const caughtUp = await readyz();
    expect(caughtUp.body.checks.outbox).toMatchObject({ status: 'ok', lagSeconds: 0 });
    // Timers due meanwhile (queue and no-answer timers of the sessions above) may lag too: fire them.
    await server.workers.timers.runOnce();
    expect((await readyz()).status).toBe(200);
  });
  it('measures how long committed events take to arrive from the bus (event fan-out lag)', async () => {
    const before = await scrape();
    const count = value(before, 'openlines_event_fanout_lag_seconds_count') ?? 0;
    const sum = value(before, 'openlines_event_fanout_lag_seconds_sum') ?? 0;
    // The traffic above committed events, and each arrived here once (no time passes on this clock).
    expect(count).toBeGreaterThan(5);
    // An event committed 3 s ago that arrives only now (another process, a slow Redis).
    const at = new Date(clock.now().getTime() - 3000).toISOString();
    await server.ctx.bus.publish([
      {
        accountId: '00000000-0000-4000-8000-000000000000',
        audience: {},
        event: { cursor: 1, type: 'quick_answer.changed', at, data: { quickAnswerId: 'q', deleted: true } },
      } as unknown as EventEnvelope,
    ]);
    await waitFor(
      async () => value(await scrape(), 'openlines_event_fanout_lag_seconds_count') === count + 1,
      'the late event to be counted',
    );
    const after = await scrape();
    expect(value(after, 'openlines_event_fanout_lag_seconds_sum')).toBeCloseTo(sum + 3, 5);
    expect(value(after, 'openlines_event_fanout_lag_seconds_bucket', { le: '2.5' })).toBe(
      value(before, 'openlines_event_fanout_lag_seconds_bucket', { le: '2.5' }),
    );
    expect(value(after, 'openlines_event_fanout_lag_seconds_bucket', { le: '5' })).toBe(
      (value(before, 'openlines_event_fanout_lag_seconds_bucket', { le: '5' }) ?? 0) + 1,
    );
  });
});
