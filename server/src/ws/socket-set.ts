import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { EventEnvelope } from '../bus/bus';

/**
 * What the operators' and the visitors' sockets share (ws/gateway.ts, ws/visitor-gateway.ts): a
 * connection that closes a slow consumer instead of buffering without end, the set of open
 * connections with its heartbeat (ping; a socket that did not answer the last one is terminated),
 * the shutdown, and the replay of committed events by pages before a socket goes live.
 */

export interface SocketLimits {
  /** Past this much unsent data the socket is closed with `slowCloseCode`; the client resumes by cursor. */
  maxBufferedBytes: number;
  slowCloseCode: number;
}

export class SocketConnection {
  /** The last event cursor this socket was given (or skipped as not theirs). */
  lastCursor = 0;
  /** Between joining the live stream and the end of the replay, live events wait. */
  replaying = true;
  alive = true;
  #corked = false;

  /**
   * `stream` is the TCP connection under the WebSocket (the upgraded request's socket): frames sent
   * in one turn of the event loop are written to it together.
   */
  constructor(
    readonly socket: WebSocket,
    private readonly limits: SocketLimits,
    private readonly stream: Duplex | null = null,
  ) {}

  /** Sends a text frame, or closes the socket if it is too far behind. */
  sendText(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      this.socket.close(this.limits.slowCloseCode, 'too slow; reconnect with after=<cursor>');
      return;
    }
    this.#coalesce();
    this.socket.send(text);
  }

  /**
   * Holds this turn's frames in the TCP stream until the turn ends, so they leave in one write: each
   * write is a system call, and a burst of events (a shift coming online, hundreds of assignments
   * fanned out to every queue member) otherwise costs one per frame per socket.
   */
  #coalesce(): void {
    const stream = this.stream;
    if (!stream || this.#corked) return;
    this.#corked = true;
    stream.cork();
    process.nextTick(() => {
      this.#corked = false;
      stream.uncork();
    });
  }
}

export class SocketSet<C extends SocketConnection> implements Iterable<C> {
  readonly #connections = new Set<C>();
  readonly #heartbeat: NodeJS.Timeout;

  /** `onBeat` runs with the open connections at every heartbeat (operators refresh their presence). */
  constructor(heartbeatMs: number, onBeat?: (connections: C[]) => void) {
    this.#heartbeat = setInterval(() => {
      onBeat?.([...this.#connections]);
      for (const connection of this.#connections) {
        if (!connection.alive) {
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.socket.ping();
      }
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#connections.size;
  }

  [Symbol.iterator](): Iterator<C> {
    return this.#connections[Symbol.iterator]();
  }

  /** Tracks a connection until its socket closes; its pongs keep it alive. */
  add(connection: C, onClose?: () => void): void {
    // Closed while it was being set up (a visitor's token is checked first): its close event is gone.
    if (connection.socket.readyState === connection.socket.CLOSED) {
      onClose?.();
      return;
    }
    this.#connections.add(connection);
    connection.socket.on('pong', () => {
      connection.alive = true;
    });
    connection.socket.on('close', () => {
      this.#connections.delete(connection);
      onClose?.();
    });
  }

  /** Stops the heartbeat and closes every socket (the clients reconnect to another process). */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const connection of this.#connections) connection.socket.close(1001, 'server shutting down');
    this.#connections.clear();
  }
}

/**
 * Replays committed events with cursor in (lastCursor, upTo] by pages, then moves the connection's
 * cursor to `upTo`: what a socket resuming after `after=<cursor>` missed.
 */
export async function replayPages(
  connection: SocketConnection,
  upTo: number,
  page: (after: number) => Promise<EventEnvelope[]>,
  deliver: (envelope: EventEnvelope) => void | Promise<void>,
): Promise<void> {
  while (connection.lastCursor < upTo) {
    const events = await page(connection.lastCursor);
    if (events.length === 0) break;
    for (const envelope of events) await deliver(envelope);
    // A deliver that skips events (not the visitor's) still moves past them.
    connection.lastCursor = Math.max(connection.lastCursor, events.at(-1)!.event.cursor);
  }
  connection.lastCursor = Math.max(connection.lastCursor, upTo);
}
