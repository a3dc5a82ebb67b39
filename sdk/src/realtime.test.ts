import type { OpenlinesEvent, ServerFrame } from '@openlines/contract';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenlinesClient } from './client';
import type { RealtimeEvents } from './realtime';

/** A scripted WebSocket: tests play the server's part. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  closedByClient: number | null = null;

  constructor(
    readonly url: string,
    readonly options?: { headers?: Record<string, string> },
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    this.closedByClient = code;
    this.drop(code, reason);
  }

  // The server's side:
  frame(frame: ServerFrame): void {
    this.readyState = 1;
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const latest = () => FakeSocket.all[FakeSocket.all.length - 1]!;

function event(cursor: number): OpenlinesEvent {
  return {
    cursor,
    type: 'role.changed',
    at: '2030-01-01T00:00:00.000Z',
    data: { roleId: 'r', deleted: false },
  };
}

const signedOut = () =>
  new Response(JSON.stringify({ type: 'x', title: 'x', status: 401, code: 'unauthenticated' }), {
    status: 401,
    headers: { 'content-type': 'application/problem+json' },
  });

function connect(options: { token?: string; after?: number; signedIn?: boolean } = {}) {
  const client = new OpenlinesClient({
    baseUrl: 'https://ol.test/',
    fetch: async () => (options.signedIn === false ? signedOut() : new Response(null, { status: 204 })),
    ...(options.token ? { token: options.token } : {}),
  });
  const realtime = client.realtime({
    WebSocket: FakeSocket,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    ...(options.after !== undefined ? { after: options.after } : {}),
  });
  const events: number[] = [];
  const closes: RealtimeEvents['close'][] = [];
  realtime.on('event', (e) => events.push(e.cursor));
  realtime.on('close', (c) => closes.push(c));
  return { realtime, events, closes };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Realtime', () => {
  it('connects to /api/v1/ws and starts from the cursor the server announces', () => {
    const { realtime, events } = connect();
    expect(latest().url).toBe('wss://ol.test/api/v1/ws');
    expect(latest().options).toBeUndefined();
    expect(realtime.cursor).toBeNull();
    latest().frame({ kind: 'hello', cursor: 41, userId: 'u1' });
    expect(realtime.connected).toBe(true);
    expect(realtime.cursor).toBe(41);
    latest().frame({ kind: 'event', event: event(42) });
    expect(events).toEqual([42]);
    expect(realtime.cursor).toBe(42);
  });

  it('drops events it has already delivered', () => {
    const { events } = connect();
    latest().frame({ kind: 'hello', cursor: 0, userId: 'u1' });
    for (const cursor of [1, 2, 2, 1, 3, 3]) latest().frame({ kind: 'event', event: event(cursor) });
    expect(events).toEqual([1, 2, 3]);
  });

  it('reconnects after a network loss with after=<cursor>, backing off and resetting once connected', async () => {
    const { realtime, events, closes } = connect();
    latest().frame({ kind: 'hello', cursor: 5, userId: 'u1' });
    latest().frame({ kind: 'event', event: event(6) });
    latest().drop(1006);
    expect(closes).toEqual([{ code: 1006, reason: '', reconnecting: true }]);
    expect(realtime.connected).toBe(false);

    // The first delay is 50–100 ms (half of it is jitter).
    await vi.advanceTimersByTimeAsync(49);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(51);
    expect(FakeSocket.all).toHaveLength(2);
    expect(latest().url).toBe('wss://ol.test/api/v1/ws?after=6');

    latest().drop(1006); // refused again: the delay doubles to 100–200 ms
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(101);
    expect(FakeSocket.all).toHaveLength(3);

    // The replay overlaps what was seen; only new events come through.
    latest().frame({ kind: 'hello', cursor: 9, userId: 'u1' });
    for (const cursor of [6, 7, 8, 9]) latest().frame({ kind: 'event', event: event(cursor) });
    latest().frame({ kind: 'replayed', cursor: 9 });
    expect(events).toEqual([6, 7, 8, 9]);

    latest().drop(1001); // a server restart: back to the first delay
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all).toHaveLength(4);
    expect(latest().url).toBe('wss://ol.test/api/v1/ws?after=9');
  });

  it('moves the cursor past replayed events the user may not see', () => {
    const { realtime } = connect({ after: 3 });
    expect(latest().url).toBe('wss://ol.test/api/v1/ws?after=3');
    latest().frame({ kind: 'hello', cursor: 10, userId: 'u1' });
    expect(realtime.cursor).toBe(3);
    latest().frame({ kind: 'replayed', cursor: 10 });
    expect(realtime.cursor).toBe(10);
  });

  it('tells the app to reload when the server no longer keeps what it missed (resync)', () => {
    const { realtime } = connect({ after: 3 });
    const resyncs: number[] = [];
    realtime.on('resync', ({ cursor }) => resyncs.push(cursor));
    latest().frame({ kind: 'hello', cursor: 50, userId: 'u1' });
    latest().frame({ kind: 'resync', cursor: 50 });
    expect(resyncs).toEqual([50]);
    expect(realtime.cursor).toBe(50);
  });

  it('stops after 4401: the user must sign in again', async () => {
    const { closes } = connect();
    latest().frame({ kind: 'hello', cursor: 0, userId: 'u1' });
    latest().drop(4401, 'deactivated');
    expect(closes).toEqual([{ code: 4401, reason: 'deactivated', reconnecting: false }]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('stops for good on close(), even while waiting to reconnect', async () => {
    const first = connect();
    first.realtime.close();
    expect(latest().closedByClient).toBe(1000);
    expect(first.closes.at(-1)).toMatchObject({ reconnecting: false });

    FakeSocket.all = [];
    const second = connect();
    latest().drop(1006);
    await vi.advanceTimersByTimeAsync(0);
    expect(second.closes).toEqual([{ code: 1006, reason: '', reconnecting: true }]);
    second.realtime.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(second.closes.at(-1)).toMatchObject({ reconnecting: false });
  });

  it('stops when a refused handshake turns out to be a lost sign-in', async () => {
    const { closes } = connect({ token: 'olt_revoked', signedIn: false });
    latest().drop(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(closes).toEqual([{ code: 4401, reason: 'not signed in', reconnecting: false }]);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('authenticates with headers outside browsers', () => {
    connect({ token: 'olt_abc' });
    expect(latest().options).toEqual({ headers: { authorization: 'Bearer olt_abc' } });
  });

  it('emits typed events, server errors and transient signals, and sends client frames', async () => {
    const { realtime } = connect();
    const roles: string[] = [];
    realtime.onEvent('role.changed', (e) => roles.push(e.data.roleId));
    const errors: string[] = [];
    realtime.on('error', (e) => errors.push(e.code));
    const typing = realtime.once('transient');
    expect(realtime.send({ kind: 'ping' })).toBe(false);
    latest().frame({ kind: 'hello', cursor: 0, userId: 'u1' });
    expect(realtime.send({ kind: 'ping' })).toBe(true);
    expect(latest().sent).toEqual(['{"kind":"ping"}']);
    latest().frame({ kind: 'event', event: event(1) });
    latest().frame({ kind: 'error', code: 'validation_failed', message: 'Unknown frame kind' });
    latest().onmessage?.({ data: 'not json' });
    const signal = {
      type: 'typing',
      data: { dialogId: 'd', lineId: 'l', author: 'client', userId: null, text: 'hi' },
    } as const;
    latest().frame({ kind: 'transient', signal });
    expect(roles).toEqual(['r']);
    expect(errors).toEqual(['validation_failed', 'invalid_frame']);
    await expect(typing).resolves.toEqual(signal);
  });

  it('needs a WebSocket class where there is no global one (Node 20)', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      const client = new OpenlinesClient({ baseUrl: 'http://ol.test', fetch: async () => new Response() });
      expect(() => client.realtime()).toThrow(/options\.WebSocket/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
