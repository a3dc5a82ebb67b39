import type { VisitorServerFrame, WidgetConversation } from '@openlines/contract';
import type { Host, IdentifyInput } from '../host';
import { type Api, NetworkError, type Problem } from './api';
import { Live } from './live';
import type { VisitorStorage } from './visitor-storage';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Closed by the server: it does not know the visitor's token (expired, or the database was reset). */
const TOKEN_UNKNOWN = 4401;

export interface ConnectionEvents {
  /** The whole conversation from the server (a start, an identify): it replaces what is shown. */
  conversation(conversation: WidgetConversation): void;
  frame(frame: VisitorServerFrame): void;
  /** The socket came up or went down. */
  changed(): void;
  /** The server can take messages: after a start, and whenever the socket is back. */
  ready(): void;
  /** Starting failed for good, or the socket was refused: the visitor is told. */
  failed(): void;
}

/**
 * The visitor's link to the server: starts or resumes the conversation (retrying while the network
 * is down), tells the server who the site says the visitor is, and keeps the socket that brings
 * everything after. A forgotten token starts a new anonymous conversation.
 */
export class Connection {
  private starting: Promise<void> | null = null;
  private live: Live | null = null;
  private connected = false;

  constructor(
    private readonly host: Host,
    private readonly api: Api,
    private readonly storage: VisitorStorage,
    private readonly events: ConnectionEvents,
  ) {}

  /** A socket exists but is not up: the header says "Connecting…". */
  get reconnecting(): boolean {
    return !this.connected && this.live !== null;
  }

  /** Starts or resumes the conversation; retried with backoff while the network is down. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const answer = await this.api.call<WidgetConversation & Problem>('POST', '/session', {});
          if (!answer.ok) throw new Error(answer.body?.detail ?? `HTTP ${answer.status}`);
          let conversation = answer.body;
          if (conversation.token) this.storage.saveToken(conversation.token);
          const identity = this.host.identity;
          const known = identity && conversation.visitor.identified && this.storage.isIdentifiedAs(identity);
          if (identity && !known) conversation = (await this.identifyNow(identity)) ?? conversation;
          this.events.conversation(conversation);
          this.connect(conversation.cursor);
          this.events.ready();
          return;
        } catch (error) {
          if (!(error instanceof NetworkError) && attempt >= 2) {
            this.starting = null;
            this.events.failed();
            throw error;
          }
          await sleep(Math.min(15_000, 1000 * 2 ** attempt));
        }
      }
    })();
    return this.starting;
  }

  /** The server forgot the token (or it was reset): a new anonymous conversation; queued messages go there. */
  async restart(): Promise<void> {
    this.storage.forgetToken();
    this.starting = null;
    await this.start();
  }

  /** Reads the conversation anew with the kept token (after a `resync` frame) and reconnects. */
  async reload(): Promise<void> {
    this.starting = null;
    await this.start();
  }

  /** `Openlines.identify(...)` after the conversation started; before, `start` does it. */
  async identify(input: IdentifyInput): Promise<void> {
    if (!this.starting) return;
    await this.starting.catch(() => {});
    const conversation = await this.identifyNow(input);
    if (conversation) {
      this.events.conversation(conversation);
      this.connect(conversation.cursor);
    }
  }

  /** A frame for the server (typing); dropped while the socket is down, as nobody needs it later. */
  /** Sends a frame on the socket; false when it is not up (nothing is queued). */
  send(frame: unknown): boolean {
    return this.live?.send(frame) ?? false;
  }

  /** `Openlines.reset()`: no socket, and the next `start` asks the server anew. */
  stop(): void {
    this.live?.stop();
    this.live = null;
    this.starting = null;
  }

  private async identifyNow(input: IdentifyInput): Promise<WidgetConversation | null> {
    const answer = await this.api.call<WidgetConversation & Problem>('POST', '/identify', input);
    if (answer.ok) {
      this.storage.rememberIdentity(input);
      return answer.body;
    }
    this.host.emit('error', { code: answer.body?.code ?? 'identify_failed', detail: answer.body?.detail });
    return null;
  }

  private connect(cursor: number): void {
    this.live?.stop();
    this.live = new Live(
      (after) => this.api.socketUrl(after),
      () => this.storage.token,
      {
        // The server no longer keeps what this socket missed (older than its resume window, or
        // erased): the conversation is read anew instead of replayed.
        frame: (frame) =>
          frame.kind === 'resync' ? void this.reload().catch(() => {}) : this.events.frame(frame),
        state: (up) => {
          this.connected = up;
          this.events.changed();
          if (up) this.events.ready();
        },
        rejected: (code) => {
          this.live?.stop();
          this.live = null;
          if (code === TOKEN_UNKNOWN) void this.restart();
          else this.events.failed();
        },
      },
      cursor,
    );
  }
}
