import type {
  ClientFrame,
  EventType,
  OpenlinesEvent,
  ServerFrame,
  TransientSignal,
} from '@openlines/contract';
import { OpenlinesError } from './errors';
import { API_PREFIX, type Transport } from './transport';

/** Close code after which reconnecting is pointless: the user must sign in again. */
export const CLOSE_UNAUTHORIZED = 4401;

/** The part of the WebSocket API the SDK uses; the browser's and `ws`'s both have it. */
export interface WebSocketLike {
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

// Method syntax keeps handler parameters bivariant, so the DOM's and `ws`'s event types both fit.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/**
 * A WebSocket class: the browser's global one, Node 22's, or `ws` (Node 20 has no global). Outside
 * browsers the SDK passes `{ headers }` as the second argument to authenticate, which `ws` supports.
 */
export type WebSocketConstructor = new (url: string, ...rest: never[]) => WebSocketLike;
type HeaderAwareConstructor = new (
  url: string,
  options?: { headers: Record<string, string> },
) => WebSocketLike;

export interface RealtimeOptions {
  /** Defaults to the global WebSocket; pass `ws`'s in Node 20. */
  WebSocket?: WebSocketConstructor;
  /** Resume after this cursor (one saved from an earlier connection). */
  after?: number;
  /** Reconnect backoff: doubles from `initialDelayMs` up to `maxDelayMs`, with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

/** What a Realtime connection emits. */
export interface RealtimeEvents {
  /** The server accepted the socket; `cursor` is where its live stream starts. */
  open: { cursor: number; userId: string };
  /** One event, in cursor order, never twice. */
  event: OpenlinesEvent;
  /** Every event missed since `after` has been replayed. */
  replayed: { cursor: number };
  /**
   * The events missed since `after` are no longer kept on the server (older than its resume window,
   * or erased): reload whatever you show from the REST API; events continue after `cursor`.
   */
  resync: { cursor: number };
  /** A live signal without a cursor (typing); never replayed. */
  transient: TransientSignal;
  close: { code: number; reason: string; reconnecting: boolean };
  /** An error frame from the server, or a socket error (`code: 'socket'`). */
  error: { code: string; message: string };
}

type Listener<K extends keyof RealtimeEvents> = (payload: RealtimeEvents[K]) => void;
type EventOf<T extends EventType> = Extract<OpenlinesEvent, { type: T }>;

/**
 * A self-healing event stream: connects to `/api/v1/ws`, reconnects with backoff after a network
 * loss (not after 4401, a refused sign-in or `close()`), asks for `after=<cursor>` on every
 * reconnect and drops anything it has already seen, so listeners get each event exactly once and
 * in order.
 */
export class Realtime {
  readonly #transport: Transport;
  readonly #WebSocket: WebSocketConstructor;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #listeners = new Map<keyof RealtimeEvents, Set<Listener<never>>>();
  #socket: WebSocketLike | null = null;
  #cursor: number | null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #open = false;

  constructor(transport: Transport, options: RealtimeOptions = {}) {
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== 'function') {
      throw new TypeError('No global WebSocket in this runtime: pass options.WebSocket (e.g. from "ws")');
    }
    this.#transport = transport;
    this.#WebSocket = WebSocketClass;
    this.#cursor = options.after ?? null;
    this.#initialDelayMs = options.reconnect?.initialDelayMs ?? 500;
    this.#maxDelayMs = options.reconnect?.maxDelayMs ?? 15_000;
    this.#connect();
  }

  /** The last event seen (or the stream start); save it to resume a later connection. */
  get cursor(): number | null {
    return this.#cursor;
  }

  /** Whether the server has accepted the current socket. */
  get connected(): boolean {
    return this.#open;
  }

  on<K extends keyof RealtimeEvents>(name: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const entry: Listener<never> = listener;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Listens to one event type, with its payload typed. */
  onEvent<T extends EventType>(type: T, listener: (event: EventOf<T>) => void): () => void {
    return this.on('event', (event) => {
      if (event.type === type) listener(event as EventOf<T>);
    });
  }

  /** Resolves with the next emission of `name`. */
  once<K extends keyof RealtimeEvents>(name: K): Promise<RealtimeEvents[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (payload) => {
        off();
        resolve(payload);
      });
    });
  }

  /** Sends a frame when connected; returns whether it went out. */
  send(frame: ClientFrame): boolean {
    if (!this.#socket || !this.#open) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#socket) this.#socket.close(1000, 'client closed');
    else this.#emit('close', { code: 1000, reason: 'client closed', reconnecting: false });
  }

  url(): string {
    const url = new URL(`${API_PREFIX}/ws`, `${this.#transport.baseUrl}/`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.#cursor !== null) url.searchParams.set('after', String(this.#cursor));
    return url.toString();
  }

  #connect(): void {
    this.#timer = null;
    const headers = this.#transport.authHeaders();
    const url = this.url();
    const Constructor = this.#WebSocket as unknown as HeaderAwareConstructor;
    // Browsers authenticate the socket with the session cookie and take no headers.
    const socket = Object.keys(headers).length > 0 ? new Constructor(url, { headers }) : new Constructor(url);
    this.#socket = socket;
    socket.onmessage = (message) => {
      if (this.#socket === socket) this.#onFrame(message.data);
    };
    socket.onerror = (error) => {
      if (this.#socket !== socket) return;
      const message = (error as { message?: unknown }).message;
      this.#emit('error', {
        code: 'socket',
        message: typeof message === 'string' ? message : 'socket error',
      });
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      const accepted = this.#open;
      this.#socket = null;
      this.#open = false;
      if (event.code === CLOSE_UNAUTHORIZED) this.#stopped = true;
      if (accepted || this.#stopped) {
        this.#closed(event.code, event.reason);
        return;
      }
      // A refused handshake looks like a network loss (browsers hide the HTTP status), so ask the
      // API whether we are still signed in before trying again.
      void this.#signedIn().then((signedIn) => {
        if (this.#stopped) return;
        if (signedIn) return this.#closed(event.code, event.reason);
        this.#stopped = true;
        this.#closed(CLOSE_UNAUTHORIZED, 'not signed in');
      });
    };
  }

  #closed(code: number, reason: string): void {
    const reconnecting = !this.#stopped;
    this.#emit('close', { code, reason, reconnecting });
    if (reconnecting) this.#scheduleReconnect();
  }

  /** False only when the API says 401; a network failure means "maybe", so keep trying. */
  async #signedIn(): Promise<boolean> {
    try {
      await this.#transport.request('GET', '/me');
      return true;
    } catch (error) {
      return !(error instanceof OpenlinesError && error.status === 401);
    }
  }

  #scheduleReconnect(): void {
    const ceiling = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** this.#attempt);
    this.#attempt += 1;
    // Jitter spreads the reconnects of many clients after a server restart.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #onFrame(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      this.#emit('error', { code: 'invalid_frame', message: 'The server sent a frame that is not JSON' });
      return;
    }
    switch (frame.kind) {
      case 'hello':
        this.#open = true;
        this.#attempt = 0;
        // Without a resume point the stream starts at the server's current cursor.
        this.#cursor ??= frame.cursor;
        this.#emit('open', { cursor: frame.cursor, userId: frame.userId });
        return;
      case 'event':
        if (this.#cursor !== null && frame.event.cursor <= this.#cursor) return;
        this.#cursor = frame.event.cursor;
        this.#emit('event', frame.event);
        return;
      case 'replayed':
        // Events the user may not see are skipped by the server but still count.
        this.#cursor = Math.max(this.#cursor ?? 0, frame.cursor);
        this.#emit('replayed', { cursor: frame.cursor });
        return;
      case 'resync':
        this.#cursor = Math.max(this.#cursor ?? 0, frame.cursor);
        this.#emit('resync', { cursor: frame.cursor });
        return;
      case 'transient':
        this.#emit('transient', frame.signal);
        return;
      case 'error':
        this.#emit('error', { code: frame.code, message: frame.message });
        return;
    }
  }

  #emit<K extends keyof RealtimeEvents>(name: K, payload: RealtimeEvents[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        (listener as Listener<K>)(payload);
      } catch (error) {
        // A failing listener must not break the stream for the others, nor go unnoticed.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
