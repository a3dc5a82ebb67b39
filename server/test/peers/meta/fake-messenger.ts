import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeUnicode, signMetaBody } from '../../../src/channels/meta/webhook';

/**
 * A local, protocol-faithful fake of the Messenger Platform (Messenger and Instagram Messaging) for
 * what Openlines uses, on 127.0.0.1 with a random port:
 *
 *   GET  /<v>/<page or IG id>?fields=…   the page / account (connection check)
 *   POST /<v>/<page or IG id>/messages   Send API: JSON {recipient, messaging_type, tag?, message},
 *                                        or multipart with `filedata` (Messenger only) →
 *                                        {recipient_id, message_id}
 *   GET  /cdn/<id>                       attachment bytes of users' messages (signed CDN URLs: no token)
 *
 * Errors are Graph's {error:{message, type, code, error_subcode, fbtrace_id}}: an unknown or
 * revoked token → 401 #190; the 24-hour window: RESPONSE more than 24 h after the user's last
 * message, or a HUMAN_AGENT tag more than 7 days after it → 400 #10 subcode 2018278; a tag on an
 * account without the permission (`humanAgentAllowed` false) → 400 #200; injected failures
 * (`failNext`, e.g. #613 rate limit). Webhooks are Meta's: `\u`-escaped JSON, X-Hub-Signature-256.
 */

export interface FakePage {
  id: string;
  name: string;
  username?: string;
  object: 'page' | 'instagram';
  token: string;
  sent: {
    id: string;
    recipient: string;
    messagingType: string;
    tag?: string;
    message: Record<string, unknown>;
    file?: { name: string; data: Buffer };
  }[];
}

export interface GraphFailure {
  status: number;
  error: { message: string; type: string; code: number; error_subcode?: number };
}

const DAY = 24 * 60 * 60 * 1000;

export class FakeMessenger {
  readonly appSecret = randomBytes(16).toString('hex');
  readonly pages = new Map<string, FakePage>();
  readonly cdn = new Map<string, { data: Buffer; mimeType: string }>();
  humanAgentAllowed = true;
  #server: Server | null = null;
  #url = '';
  #seq = 5000;
  #revoked = new Set<string>();
  #lastInbound = new Map<string, number>();
  #failures: GraphFailure[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  get url(): string {
    return this.#url;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) =>
        this.#json(res, 500, { error: { message: String(error), code: 1 } }),
      );
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #id(): string {
    return `${this.#seq++}${String(Date.now()).slice(-7)}`;
  }

  createPage(object: 'page' | 'instagram', name = 'Acme'): FakePage {
    const page: FakePage = {
      id: this.#id(),
      name,
      ...(object === 'instagram' ? { username: 'acme.support' } : {}),
      object,
      token: `EAAB${randomBytes(24).toString('base64url')}`,
      sent: [],
    };
    this.pages.set(page.id, page);
    return page;
  }

  revoke(page: FakePage): void {
    this.#revoked.add(page.token);
  }

  restore(page: FakePage): void {
    this.#revoked.delete(page.token);
  }

  failNext(failure: GraphFailure): void {
    this.#failures.push(failure);
  }

  /** A page-scoped user id. */
  user(): string {
    return this.#id();
  }

  sentTo(page: FakePage, userId: string) {
    return page.sent.filter((m) => m.recipient === userId);
  }

  #envelope(page: FakePage, event: Record<string, unknown>, senderId: string, recipientId = page.id) {
    const at = this.now().getTime();
    return {
      object: page.object,
      entry: [
        {
          id: page.id,
          time: at,
          messaging: [{ sender: { id: senderId }, recipient: { id: recipientId }, timestamp: at, ...event }],
        },
      ],
    };
  }

  /** The user writes: text, files (served from the fake's CDN), a quick reply, or an Instagram story reply/mention. */
  userSends(
    page: FakePage,
    userId: string,
    content: {
      text?: string;
      files?: { data: Buffer; mimeType: string; type: 'image' | 'video' | 'audio' | 'file'; name: string }[];
      quickReply?: string;
      storyReply?: string;
      storyMention?: string;
    },
  ): { body: Record<string, unknown>; mid: string } {
    this.#lastInbound.set(`${page.id}:${userId}`, this.now().getTime());
    const mid = `m_${randomBytes(16).toString('base64url')}`;
    const attachments: Record<string, unknown>[] = [];
    for (const file of content.files ?? []) {
      const id = this.#id();
      this.cdn.set(id, { data: file.data, mimeType: file.mimeType });
      attachments.push({ type: file.type, payload: { url: `${this.#url}/cdn/${id}/${file.name}?oh=sig` } });
    }
    if (content.storyMention)
      attachments.push({ type: 'story_mention', payload: { url: content.storyMention } });
    const message: Record<string, unknown> = {
      mid,
      ...(content.text ? { text: content.text } : {}),
      ...(attachments.length ? { attachments } : {}),
      ...(content.quickReply ? { quick_reply: { payload: content.quickReply } } : {}),
      ...(content.storyReply ? { reply_to: { story: { url: content.storyReply, id: '1789' } } } : {}),
    };
    return { body: this.#envelope(page, { message }, userId), mid };
  }

  /** What Meta sends back for a message the page sent: an echo (sender is the page). */
  echoOf(page: FakePage, userId: string, text: string) {
    return this.#envelope(
      page,
      { message: { mid: `m_${randomBytes(8).toString('hex')}`, is_echo: true, text } },
      page.id,
      userId,
    );
  }

  postback(page: FakePage, userId: string, payload: string) {
    return this.#envelope(
      page,
      { postback: { mid: `m_${randomBytes(8).toString('hex')}`, title: 'Button', payload } },
      userId,
    );
  }

  reaction(page: FakePage, userId: string, mid: string, emoji: string) {
    return this.#envelope(page, { reaction: { mid, action: 'react', reaction: 'love', emoji } }, userId);
  }

  /** Messenger: read up to now (a watermark); Instagram: this message read. */
  read(page: FakePage, userId: string, mid?: string) {
    const read = page.object === 'instagram' && mid ? { mid } : { watermark: this.now().getTime() };
    return this.#envelope(page, { read }, userId);
  }

  static encode(body: unknown): string {
    return escapeUnicode(JSON.stringify(body));
  }

  async deliver(
    url: string,
    body: unknown,
    signature: 'valid' | 'wrong' | 'none' = 'valid',
  ): Promise<Response> {
    const raw = FakeMessenger.encode(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature === 'valid') headers['x-hub-signature-256'] = signMetaBody(this.appSecret, raw);
    if (signature === 'wrong') headers['x-hub-signature-256'] = signMetaBody('1'.repeat(32), raw);
    return fetch(url, { method: 'POST', headers, body: raw });
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #error(res: ServerResponse, failure: GraphFailure): void {
    this.#json(res, failure.status, {
      error: { ...failure.error, fbtrace_id: randomBytes(6).toString('hex') },
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const cdn = /^\/cdn\/(\d+)\//.exec(url.pathname);
    if (cdn && req.method === 'GET') {
      const file = this.cdn.get(cdn[1]!);
      if (!file) return this.#json(res, 404, {});
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.data.length) });
      res.end(file.data);
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    const page =
      token && !this.#revoked.has(token)
        ? [...this.pages.values()].find((p) => p.token === token)
        : undefined;
    if (!page) {
      return this.#error(res, {
        status: 401,
        error: {
          message: 'Error validating access token: Session has expired.',
          type: 'OAuthException',
          code: 190,
          error_subcode: 463,
        },
      });
    }
    const injected = this.#failures.shift();
    if (injected) return this.#error(res, injected);
    const match = /^\/(v\d+\.\d)\/(\d+)(\/messages)?$/.exec(url.pathname);
    if (!match || match[2] !== page.id) {
      return this.#error(res, {
        status: 400,
        error: {
          message: `Unsupported request. Object with ID '${match?.[2]}' does not exist`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
        },
      });
    }
    if (!match[3] && req.method === 'GET') {
      return this.#json(res, 200, {
        id: page.id,
        name: page.name,
        ...(page.username ? { username: page.username } : {}),
      });
    }
    if (!(match[3] && req.method === 'POST')) return this.#json(res, 404, {});
    let body: Record<string, unknown>;
    let file: { name: string; data: Buffer } | undefined;
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      if (page.object === 'instagram') {
        return this.#error(res, {
          status: 400,
          error: { message: '(#100) Upload attachment is not supported', type: 'OAuthException', code: 100 },
        });
      }
      const form = await new Request(this.#url, {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body: raw,
      }).formData();
      const data = form.get('filedata');
      if (!(data instanceof File)) return this.#invalid(res, 'filedata is required');
      file = { name: data.name, data: Buffer.from(await data.arrayBuffer()) };
      body = {
        recipient: JSON.parse(String(form.get('recipient'))),
        messaging_type: form.get('messaging_type'),
        ...(form.get('tag') ? { tag: form.get('tag') } : {}),
        message: JSON.parse(String(form.get('message'))),
      };
    } else {
      body = JSON.parse(raw.toString('utf8'));
    }
    const recipient = (body.recipient as { id?: string } | undefined)?.id;
    const messagingType = String(body.messaging_type ?? '');
    if (
      !recipient ||
      !['RESPONSE', 'UPDATE', 'MESSAGE_TAG'].includes(messagingType) ||
      typeof body.message !== 'object'
    ) {
      return this.#invalid(res, 'recipient.id, messaging_type and message are required');
    }
    const last = this.#lastInbound.get(`${page.id}:${recipient}`);
    if (last === undefined) {
      return this.#error(res, {
        status: 400,
        error: {
          message: '(#100) No matching user found',
          type: 'OAuthException',
          code: 100,
          error_subcode: 2018001,
        },
      });
    }
    const age = this.now().getTime() - last;
    const outside = {
      status: 400,
      error: {
        message: '(#10) This message is sent outside of allowed window.',
        type: 'OAuthException',
        code: 10,
        error_subcode: 2018278,
      },
    };
    if (messagingType === 'MESSAGE_TAG') {
      if (body.tag !== 'HUMAN_AGENT') return this.#invalid(res, 'unsupported tag');
      if (!this.humanAgentAllowed) {
        return this.#error(res, {
          status: 400,
          error: {
            message: '(#200) The HUMAN_AGENT tag requires the Human Agent permission',
            type: 'OAuthException',
            code: 200,
          },
        });
      }
      if (age > 7 * DAY) return this.#error(res, outside);
    } else if (age > DAY) {
      return this.#error(res, outside);
    }
    const message = body.message as Record<string, unknown>;
    if (typeof message.text === 'string' && message.text.length > 2000)
      return this.#invalid(res, 'text is longer than 2000');
    const id = `m_${randomBytes(16).toString('base64url')}`;
    page.sent.push({
      id,
      recipient,
      messagingType,
      ...(typeof body.tag === 'string' ? { tag: body.tag } : {}),
      message,
      ...(file ? { file } : {}),
    });
    this.#json(res, 200, { recipient_id: recipient, message_id: id });
  }

  #invalid(res: ServerResponse, message: string): void {
    this.#error(res, {
      status: 400,
      error: { message: `(#100) ${message}`, type: 'OAuthException', code: 100 },
    });
  }
}
