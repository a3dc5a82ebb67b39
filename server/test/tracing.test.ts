import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createTestServer, signIn, type TestServer } from './harness';

/**
 * OpenTelemetry traces (issue 21) sent to a local OTLP/HTTP receiver: a request's server span
 * continues the caller's traceparent, the message path's spans are its children, the outbox
 * delivery has a span of its own; and the configuration follows the standard OTEL_* variables,
 * off unless they ask for traces.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
  links?: { traceId: string; spanId: string }[];
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : value?.boolValue);
};

describe('OpenTelemetry traces', () => {
  let collector: Server;
  let receiver: Server;
  const exports: OtlpExport[] = [];
  const headersSeen: string[] = [];
  let server: TestServer;
  let receiverUrl: string;

  beforeAll(async () => {
    collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        if (request.url === '/v1/traces') {
          exports.push(JSON.parse(body) as OtlpExport);
          headersSeen.push(String(request.headers['x-tenant'] ?? ''));
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    server = await createTestServer({
      workers: false,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme%20support',
        OTEL_SERVICE_NAME: 'openlines-test',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => collector.close(resolve));
    await new Promise((resolve) => receiver.close(resolve));
  });

  const spans = () =>
    exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));

  it('traces a client message from the request through storing it, and its answer to the channel', async () => {
    const admin = await signIn(server);
    // No automatic texts: the one outbound message is the answer below.
    const line = await admin.lines.create({
      name: 'Traced',
      settings: {
        automaticActions: { welcome: { enabled: false }, close: { rule: 'none' } },
        rating: { enabled: false },
      },
    });
    const { channel, secrets } = await admin.channels.create({
      kind: 'api',
      name: 'Traced shop',
      lineId: line.id,
      settings: { webhookUrl: receiverUrl },
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const inbound = await fetch(`${server.url}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secrets.inboundToken}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ externalId: 't-1', user: { id: 'u-1', name: 'Ivan' }, text: 'Hello' }),
    });
    expect(inbound.status).toBe(201);
    const { dialogId } = (await inbound.json()) as { dialogId: string };
    await admin.dialogs.send(dialogId, { text: 'Hello Ivan' });
    expect((await server.workers.outbox.runOnce()).sent).toBe(1);
    // The second answer, in the dialog the admin now holds, takes the lean write path.
    await admin.dialogs.send(dialogId, { text: 'How can I help?' });
    expect((await server.workers.outbox.runOnce()).sent).toBe(1);
    await server.ctx.tracing!.flush();

    const all = spans();
    const request = all.find((s) => s.traceId === traceId && s.kind === 2);
    expect(request).toBeDefined();
    expect(request).toMatchObject({ name: 'POST /api/v1/channel-api/messages', parentSpanId: callerSpan });
    expect(attribute(request!, 'http.route')).toBe('/api/v1/channel-api/messages');
    expect(attribute(request!, 'http.response.status_code')).toBe(201);
    expect(attribute(request!, 'openlines.request_id')).toBe(inbound.headers.get('x-request-id'));
    const stored = all.find((s) => s.name === 'openlines.inbound.store' && s.traceId === traceId);
    expect(stored?.parentSpanId).toBe(request!.spanId);
    expect(attribute(stored!, 'openlines.channel.id')).toBe(channel.id);
    expect(attribute(stored!, 'openlines.dialog.id')).toBe(dialogId);
    expect(attribute(stored!, 'openlines.duplicate')).toBe(false);
    const deliveries = all.filter((s) => s.name === 'openlines.outbound.deliver');
    expect(deliveries).toHaveLength(2);
    const delivered = deliveries[0];
    expect(delivered).toBeDefined();
    expect(attribute(delivered!, 'openlines.channel.kind')).toBe('api');
    expect(attribute(delivered!, 'openlines.outbound.result')).toBe('sent');
    // The delivery ran later, from the outbox, in a trace of its own; it links to the request that
    // queued the answer, whichever process delivers it.
    const answers = all.filter((s) => s.name === 'POST /api/v1/dialogs/:id/messages');
    expect(answers).toHaveLength(2);
    for (const [index, delivery] of deliveries.entries()) {
      expect(delivery.traceId).not.toBe(answers[index]!.traceId);
      expect(delivery.links).toHaveLength(1);
      const link = delivery.links![0]!;
      expect(link.traceId).toBe(answers[index]!.traceId);
      expect(all.some((s) => s.traceId === link.traceId && s.spanId === link.spanId)).toBe(true);
    }
    // Routes are named by pattern; the resource and the configured headers are the OTEL_* ones.
    expect(all.some((s) => s.name === 'POST /api/v1/dialogs/:id/messages')).toBe(true);
    expect(all.map((s) => s.name).join(' ')).not.toContain(dialogId);
    const service = exports[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name');
    expect(service?.value.stringValue).toBe('openlines-test');
    expect(headersSeen.every((h) => h === 'acme support')).toBe(true);
  });

  it('marks a refused request: a span with its 4xx status, and no child', async () => {
    const before = spans().length;
    const refused = await fetch(`${server.url}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer olc_wrong', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    await server.ctx.tracing!.flush();
    const fresh = spans().slice(before);
    const span = fresh.find(
      (s) =>
        s.name === 'POST /api/v1/channel-api/messages' &&
        attribute(s, 'openlines.request_id') === refused.headers.get('x-request-id'),
    );
    expect(span).toBeDefined();
    expect(attribute(span!, 'http.response.status_code')).toBe(401);
    expect(fresh.filter((s) => s.parentSpanId === span!.spanId)).toEqual([]);
  });
});

describe('tracing configuration (OTEL_* variables)', () => {
  it('is off unless an OTLP endpoint or exporter is named, and off when disabled', () => {
    expect(loadConfig({}).tracing).toBeNull();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x' }).tracing).toBeNull();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing,
    ).toBeNull();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })
        .tracing,
    ).toBeNull();
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http://collector:4318/v1/traces'],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/in',
      },
      'https://traces.example.com/in',
    ],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'http://localhost:4318/v1/traces'],
  ])('sends to the standard endpoint %j', (env, endpoint) => {
    expect(loadConfig(env).tracing).toMatchObject({
      endpoint,
      serviceName: 'openlines',
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
  });

  it('reads headers, the service name and the sampler', () => {
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-a=1',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2',
        OTEL_SERVICE_NAME: 'support-eu',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing,
    ).toEqual({
      endpoint: 'http://c:4318/v1/traces',
      headers: { authorization: 'Bearer abc', 'x-a': '2' },
      serviceName: 'support-eu',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
    });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' },
      'OTEL_EXPORTER_OTLP_HEADERS',
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_SDK_DISABLED: 'maybe' }, 'OTEL_SDK_DISABLED'],
  ])('refuses %j naming the variable', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
    }
  });
});
