import zlib from 'node:zlib';
import type {
  Attachment,
  VisitorServerFrame,
  WidgetConfig,
  WidgetConversation,
  WidgetHistory,
  WidgetSendResult,
} from '@openlines/contract';
import { WebSocket } from 'ws';
import { waitFor } from './harness';

/** An HTTP answer of a public widget endpoint, parsed. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * A website visitor as the widget script is one: it calls the public endpoints from a page on
 * `origin`, keeps its token, and can open the visitor socket. Tests use it to play the browser.
 */
export class TestVisitor {
  token: string | null = null;
  readonly base: string;

  constructor(
    readonly serverUrl: string,
    readonly key: string,
    readonly origin: string | null,
  ) {
    this.base = `${serverUrl}/api/v1/widget/${key}`;
  }

  async call<T = unknown>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      form?: FormData;
      headers?: Record<string, string>;
      token?: string | null;
    } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.origin) headers.origin = this.origin;
    const token = options.token === undefined ? this.token : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.base}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : null) as T,
    };
  }

  config() {
    return this.call<WidgetConfig>('GET', '/config');
  }

  /** Starts (or resumes, with the kept token) the conversation; keeps a new token. */
  async start(): Promise<Answer<WidgetConversation>> {
    const answer = await this.call<WidgetConversation>('POST', '/session', { body: {} });
    if (answer.body?.token) this.token = answer.body.token;
    return answer;
  }

  send(
    text: string,
    clientMessageId = `cm-${Math.random().toString(36).slice(2, 12)}`,
    attachments?: Attachment[],
  ) {
    return this.call<WidgetSendResult>('POST', '/messages', {
      body: { clientMessageId, text, ...(attachments ? { attachments } : {}) },
    });
  }

  history(query = '') {
    return this.call<WidgetHistory>('GET', `/messages${query}`);
  }

  upload(data: Uint8Array, name: string, type: string) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)], { type }), name);
    return this.call<Attachment>('POST', '/files', { form });
  }

  /** Opens the visitor socket (resuming after `after`) and records its frames. */
  async socket(after?: number): Promise<VisitorSocket> {
    const url = `${this.base.replace(/^http/, 'ws')}/ws${after === undefined ? '' : `?after=${after}`}`;
    const socket = new WebSocket(url, { headers: this.origin ? { origin: this.origin } : {} });
    const recorded = new VisitorSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ kind: 'auth', token: this.token }));
    return recorded;
  }
}

export class VisitorSocket {
  readonly frames: VisitorServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) =>
      this.frames.push(JSON.parse(data.toString()) as VisitorServerFrame),
    );
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  messages() {
    return this.frames.flatMap((frame) => (frame.kind === 'message' ? [frame.message] : []));
  }

  /** The last cursor the socket has seen: what a reconnect resumes after. */
  cursor(): number {
    let cursor = 0;
    for (const frame of this.frames) if ('cursor' in frame) cursor = Math.max(cursor, frame.cursor);
    return cursor;
  }

  async until(check: (frames: VisitorServerFrame[]) => boolean, what: string): Promise<void> {
    await waitFor(() => check(this.frames), what);
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await closed;
  }
}

/** A 1×1 PNG. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

/** A 16×16 solid orange PNG, made here so the test needs no file. */
export const ORANGE_PNG = (() => {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(16, 0);
  header.writeUInt32BE(16, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(16).fill([255, 140, 0]).flat())]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(Array(16).fill(row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
})();
