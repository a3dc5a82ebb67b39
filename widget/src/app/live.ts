import type { VisitorServerFrame } from '@openlines/contract';

/**
 * The visitor socket: authenticates with its first frame, reconnects with backoff after a network
 * loss and resumes after the last cursor it saw, so every frame missed meanwhile is replayed. The
 * app drops frames it already has (by message id), so nothing shows twice.
 */
export interface LiveHandlers {
  frame(frame: VisitorServerFrame): void;
  state(connected: boolean): void;
  /** The server does not know the token (4401) or the widget is gone (4404). */
  rejected(code: number): void;
}

export class Live {
  cursor: number | null;
  #socket: WebSocket | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  #stopped = false;

  constructor(
    private readonly url: (after: number | null) => string,
    private readonly token: () => string | null,
    private readonly handlers: LiveHandlers,
    after: number | null,
  ) {
    this.cursor = after;
    addEventListener('online', this.#online);
    addEventListener('offline', this.#offline);
    this.#connect();
  }

  #online = () => {
    if (this.#stopped) return;
    this.#attempt = 0;
    if (!this.#socket) this.#connect();
  };

  #offline = () => {
    // Browsers may keep a dead socket open for a long time; start over when the network is back.
    this.#socket?.close();
  };

  #connect(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = new WebSocket(this.url(this.cursor));
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ kind: 'auth', token: this.token() }));
    socket.onmessage = (event) => {
      let frame: VisitorServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as VisitorServerFrame;
      } catch {
        return;
      }
      if ('cursor' in frame) this.cursor = Math.max(this.cursor ?? 0, frame.cursor);
      if (frame.kind === 'hello') {
        this.#attempt = 0;
        this.handlers.state(true);
      }
      this.handlers.frame(frame);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.handlers.state(false);
      if (this.#stopped) return;
      if (event.code === 4401 || event.code === 4404) {
        this.handlers.rejected(event.code);
        return;
      }
      const delay = Math.min(15_000, 500 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  send(frame: unknown): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  stop(): void {
    this.#stopped = true;
    removeEventListener('online', this.#online);
    removeEventListener('offline', this.#offline);
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close(1000);
    this.#socket = null;
  }
}
