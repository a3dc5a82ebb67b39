import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { EventEnvelope } from '../bus/bus';
import { replayPages, SocketConnection, SocketSet } from './socket-set';

/** Just enough of a ws socket to watch what the set does with it. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readonly CLOSED = 3;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  pings = 0;
  terminated = false;
  closedWith: number | null = null;
  send(text: string) {
    this.sent.push(text);
  }
  ping() {
    this.pings += 1;
  }
  terminate() {
    this.terminated = true;
  }
  close(code: number) {
    this.closedWith = code;
  }
}

const limits = { maxBufferedBytes: 100, slowCloseCode: 4408 };
const connectionOn = (socket: FakeSocket) => new SocketConnection(socket as unknown as WebSocket, limits);
const envelope = (cursor: number) => ({ event: { cursor } }) as unknown as EventEnvelope;

afterEach(() => {
  vi.useRealTimers();
});

describe('socket connections and their set', () => {
  it('closes a slow consumer instead of buffering more', () => {
    const socket = new FakeSocket();
    const connection = connectionOn(socket);
    connection.sendText('a');
    socket.bufferedAmount = 101;
    connection.sendText('b');
    expect(socket.sent).toEqual(['a']);
    expect(socket.closedWith).toBe(4408);
  });

  it('pings on every beat and terminates a socket that did not answer the last ping', () => {
    vi.useFakeTimers();
    const beats: number[] = [];
    const set = new SocketSet<SocketConnection>(1000, (connections) => beats.push(connections.length));
    const answering = new FakeSocket();
    const silent = new FakeSocket();
    set.add(connectionOn(answering));
    set.add(connectionOn(silent));
    vi.advanceTimersByTime(1000);
    expect([answering.pings, silent.pings]).toEqual([1, 1]);
    answering.emit('pong');
    vi.advanceTimersByTime(1000);
    expect([answering.terminated, silent.terminated]).toEqual([false, true]);
    expect(beats).toEqual([2, 2]);
    set.close();
  });

  it('forgets a closed socket, and runs its close hook even when it closed before it was added', () => {
    const set = new SocketSet<SocketConnection>(60_000);
    const closed: string[] = [];
    const open = new FakeSocket();
    set.add(connectionOn(open), () => closed.push('open'));
    const gone = new FakeSocket();
    gone.readyState = gone.CLOSED;
    set.add(connectionOn(gone), () => closed.push('gone'));
    expect(set.size).toBe(1);
    open.emit('close');
    expect(set.size).toBe(0);
    expect(closed).toEqual(['gone', 'open']);
    set.close();
  });
});

describe('replayPages', () => {
  it('reads page after page from the cursor and ends at upTo, even when the last events were not theirs', async () => {
    const connection = connectionOn(new FakeSocket());
    connection.lastCursor = 2;
    const asked: number[] = [];
    const delivered: number[] = [];
    const pages: Record<number, EventEnvelope[]> = { 2: [envelope(3), envelope(5)], 5: [envelope(8)], 8: [] };
    await replayPages(
      connection,
      10,
      async (after) => {
        asked.push(after);
        return pages[after] ?? [];
      },
      (e) => {
        delivered.push(e.event.cursor);
      },
    );
    expect(asked).toEqual([2, 5, 8]);
    expect(delivered).toEqual([3, 5, 8]);
    expect(connection.lastCursor).toBe(10);
  });
});
