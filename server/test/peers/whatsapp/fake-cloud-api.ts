import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeUnicode, signMetaBody } from '../../../src/channels/meta/webhook';

/**
 * A local, protocol-faithful fake of the WhatsApp Cloud API (Graph API) for what Openlines uses,
 * on 127.0.0.1 with a random port:
 *
 *   GET  /<v>/<phone number id>?fields=…          the number (connection check)
 *   POST /<v>/<phone number id>/messages           send: text, media (by id or link), interactive,
 *                                                  template; answers {messaging_product, contacts, messages:[{id}]}
 *   POST /<v>/<phone number id>/media              multipart upload → {id}
 *   GET  /<v>/<media id>                           {url, mime_type, sha256, file_size, id}
 *   GET  /download/<media id>                      the bytes (Bearer token required, like lookaside URLs)
 *   GET  /<v>/<business account id>/message_templates   {data:[…], paging}
 *
 * Errors have Graph's shape {error:{message, type, code, error_subcode?, error_data, fbtrace_id}}:
 * an unknown or revoked token → 401 #190 OAuthException; outside the 24-hour customer-service
 * window a free-form message → 400 #131047 (a template is always allowed); with `pairRateLimit`,
 * two messages to one user within 6 s → 400 #131056; an unknown template → 404 #132001, a wrong
 * parameter count → 400 #132000; failures can be injected (`failNext`).
 *
 * Webhooks are what Meta sends: JSON with non-ASCII characters escaped as `\uXXXX`, signed with
 * `X-Hub-Signature-256: sha256=HMAC(app secret, body)`. The test plays the WhatsApp users
 * (`userSends`) and the platform's status reports (`statusOf`), and posts them with `deliver`.
 * The clock of the window is the test's (`now`).
 */

export interface FakeNumber {
  phoneNumberId: string;
  businessAccountId: string;
  displayPhoneNumber: string;
  verifiedName: string;
  token: string;
  /** Sent messages, in order. */
  sent: SentMessage[];
  templates: FakeTemplate[];
}

export interface FakeTemplate {
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED';
  category: string;
  body: string;
}

export interface WaUser {
  /** The wa_id (phone digits); absent for users with the usernames feature. */
  waId: string | null;
  /** The business-scoped user id, always present. */
  userId: string;
  name: string;
}

export interface SentMessage {
  id: string;
  to: string;
  type: string;
  body: Record<string, unknown>;
}

interface Media {
  id: string;
  data: Buffer;
  mimeType: string;
}

export interface GraphError {
  status: number;
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { details: string };
  };
}

const WINDOW_MS = 24 * 60 * 60 * 1000;
const PAIR_INTERVAL_MS = 6000;

export class FakeCloudApi {
  readonly appSecret = randomBytes(16).toString('hex');
  readonly numbers = new Map<string, FakeNumber>();
  readonly media = new Map<string, Media>();
  /** Every API request, in order. */
  readonly calls: { method: string; path: string; token: string | null }[] = [];
  pairRateLimit = false;
  #server: Server | null = null;
  #url = '';
  #seq = 1000;
  #revoked = new Set<string>();
  #lastInbound = new Map<string, number>();
  #lastSent = new Map<string, number>();
  #failures: GraphError[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  get url(): string {
    return this.#url;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error), type: 'FakeError', code: 1 } }));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #id(): string {
    return String(this.#seq++) + String(Date.now()).slice(-6);
  }

  createNumber(options: { verifiedName?: string } = {}): FakeNumber {
    const phoneNumberId = `1${this.#id()}`;
    const number: FakeNumber = {
      phoneNumberId,
      businessAccountId: `2${this.#id()}`,
      displayPhoneNumber: `+1 555 01${String(this.#seq).slice(-2)}`,
      verifiedName: options.verifiedName ?? 'Acme Support',
      token: `EAAG${randomBytes(24).toString('base64url')}`,
      sent: [],
      templates: [],
    };
    this.numbers.set(phoneNumberId, number);
    return number;
  }

  revoke(number: FakeNumber): void {
    this.#revoked.add(number.token);
  }

  restore(number: FakeNumber): void {
    this.#revoked.delete(number.token);
  }

  user(name: string, options: { usernames?: boolean } = {}): WaUser {
    return {
      name,
      waId: options.usernames ? null : `7${String(this.#seq++).padStart(10, '0')}`,
      userId: `RU.${randomBytes(12).toString('hex')}`,
    };
  }

  /** The next answer of any Graph call is this error. */
  failNext(error: GraphError): void {
    this.#failures.push(error);
  }

  sentTo(number: FakeNumber, user: WaUser): SentMessage[] {
    return number.sent.filter((m) => m.to === user.waId || m.to === user.userId);
  }

  storeMedia(data: Buffer, mimeType: string): string {
    const id = this.#id();
    this.media.set(id, { id, data, mimeType });
    return id;
  }

  /**
   * A webhook body of `user` writing to `number`: `content` is the message's type part (`text`,
   * `image` with `data`, `location`, `interactive`, …). Opens the user's 24-hour window.
   */
  userSends(
    number: FakeNumber,
    user: WaUser,
    content:
      | { text: string }
      | { image: Buffer; mimeType?: string; caption?: string }
      | { document: Buffer; mimeType: string; filename: string }
      | { location: { latitude: number; longitude: number; name?: string; address?: string } }
      | { contacts: { name: string; phone: string }[] }
      | { buttonReply: { id: string; title: string } },
  ): { body: Record<string, unknown>; messageId: string } {
    const messageId = `wamid.${randomBytes(16).toString('base64url')}`;
    const at = this.now();
    for (const key of [user.waId, user.userId]) {
      if (key) this.#lastInbound.set(`${number.phoneNumberId}:${key}`, at.getTime());
    }
    const message: Record<string, unknown> = {
      ...(user.waId ? { from: user.waId } : {}),
      from_user_id: user.userId,
      id: messageId,
      timestamp: String(Math.floor(at.getTime() / 1000)),
    };
    if ('text' in content) Object.assign(message, { type: 'text', text: { body: content.text } });
    else if ('image' in content) {
      const mime = content.mimeType ?? 'image/jpeg';
      const id = this.storeMedia(content.image, mime);
      Object.assign(message, {
        type: 'image',
        image: {
          id,
          mime_type: mime,
          sha256: createHash('sha256').update(content.image).digest('base64'),
          ...(content.caption ? { caption: content.caption } : {}),
        },
      });
    } else if ('document' in content) {
      const id = this.storeMedia(content.document, content.mimeType);
      Object.assign(message, {
        type: 'document',
        document: { id, mime_type: content.mimeType, filename: content.filename },
      });
    } else if ('location' in content)
      Object.assign(message, { type: 'location', location: content.location });
    else if ('contacts' in content) {
      Object.assign(message, {
        type: 'contacts',
        contacts: content.contacts.map((c) => ({
          name: { formatted_name: c.name, first_name: c.name },
          phones: [{ phone: c.phone, type: 'CELL' }],
        })),
      });
    } else {
      Object.assign(message, {
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: content.buttonReply },
      });
    }
    return {
      body: this.#envelope(number, { contacts: [this.#contact(user)], messages: [message] }),
      messageId,
    };
  }

  /** A `statuses` webhook body for a message we sent. */
  statusOf(
    number: FakeNumber,
    sent: SentMessage,
    status: 'sent' | 'delivered' | 'read' | 'failed',
    error?: { code: number; title: string },
  ): Record<string, unknown> {
    return this.#envelope(number, {
      statuses: [
        {
          id: sent.id,
          status,
          timestamp: String(Math.floor(this.now().getTime() / 1000)),
          recipient_id: sent.to,
          ...(error ? { errors: [{ code: error.code, title: error.title, message: error.title }] } : {}),
        },
      ],
    });
  }

  #contact(user: WaUser) {
    return { profile: { name: user.name }, ...(user.waId ? { wa_id: user.waId } : {}), user_id: user.userId };
  }

  #envelope(number: FakeNumber, value: Record<string, unknown>): Record<string, unknown> {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: number.businessAccountId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: number.displayPhoneNumber.replace(/\D/g, ''),
                  phone_number_id: number.phoneNumberId,
                },
                ...value,
              },
            },
          ],
        },
      ],
    };
  }

  /** The body bytes Meta sends: JSON with non-ASCII characters `\u`-escaped. */
  static encode(body: unknown): string {
    return escapeUnicode(JSON.stringify(body));
  }

  /** POSTs a webhook body as Meta does; `signature` 'wrong' or 'none' forges it. */
  async deliver(
    url: string,
    body: unknown,
    signature: 'valid' | 'wrong' | 'none' = 'valid',
  ): Promise<Response> {
    const raw = FakeCloudApi.encode(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature === 'valid') headers['x-hub-signature-256'] = signMetaBody(this.appSecret, raw);
    if (signature === 'wrong') headers['x-hub-signature-256'] = signMetaBody('0'.repeat(32), raw);
    return fetch(url, { method: 'POST', headers, body: raw });
  }

  /** Meta's subscription check of a webhook URL. */
  async subscribe(
    url: string,
    verifyToken: string,
  ): Promise<{ status: number; body: string; challenge: string }> {
    const challenge = String(Math.floor(Math.random() * 1e9));
    const query = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.verify_token': verifyToken,
      'hub.challenge': challenge,
    });
    const response = await fetch(`${url}?${query}`);
    return { status: response.status, body: await response.text(), challenge };
  }

  // ----- The API ---------------------------------------------------------------------------------

  #send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #error(res: ServerResponse, failure: GraphError): void {
    this.#send(res, failure.status, {
      error: { ...failure.error, fbtrace_id: randomBytes(8).toString('base64url') },
    });
  }

  #numberOf(token: string | null): FakeNumber | undefined {
    if (!token || this.#revoked.has(token)) return undefined;
    return [...this.numbers.values()].find((n) => n.token === token);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#url);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    this.calls.push({ method: req.method ?? 'GET', path: url.pathname, token });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    const owner = this.#numberOf(token);
    if (!owner) {
      return this.#error(res, {
        status: 401,
        error: {
          message:
            'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
          type: 'OAuthException',
          code: 190,
          error_subcode: 460,
        },
      });
    }
    const injected = this.#failures.shift();
    if (injected) return this.#error(res, injected);

    const download = /^\/download\/(\d+)$/.exec(url.pathname);
    if (download && req.method === 'GET') {
      const media = this.media.get(download[1]!);
      if (!media)
        return this.#send(res, 404, {
          error: { message: 'Not found', type: 'GraphMethodException', code: 100 },
        });
      res.writeHead(200, { 'content-type': media.mimeType, 'content-length': String(media.data.length) });
      res.end(media.data);
      return;
    }
    const match = /^\/(v\d+\.\d)\/(\d+)(?:\/([a-z_]+))?$/.exec(url.pathname);
    if (!match) return this.#unknown(res, url.pathname);
    const [, , id, edge] = match;
    if (!edge && req.method === 'GET') {
      const number = this.numbers.get(id!);
      if (number && number === owner) {
        return this.#send(res, 200, {
          display_phone_number: number.displayPhoneNumber,
          verified_name: number.verifiedName,
          id: number.phoneNumberId,
        });
      }
      const media = this.media.get(id!);
      if (media) {
        return this.#send(res, 200, {
          messaging_product: 'whatsapp',
          url: `${this.#url}/download/${media.id}`,
          mime_type: media.mimeType,
          sha256: createHash('sha256').update(media.data).digest('hex'),
          file_size: media.data.length,
          id: media.id,
        });
      }
      return this.#unknown(res, id!);
    }
    if (edge === 'message_templates' && req.method === 'GET' && owner.businessAccountId === id) {
      return this.#send(res, 200, {
        data: owner.templates.map((t, index) => ({
          name: t.name,
          language: t.language,
          status: t.status,
          category: t.category,
          id: String(9000 + index),
          components: [{ type: 'BODY', text: t.body }],
        })),
        paging: { cursors: { before: 'MAA', after: 'MAA' } },
      });
    }
    if (owner.phoneNumberId !== id) return this.#unknown(res, id!);
    if (edge === 'media' && req.method === 'POST') {
      const request = new Request(this.#url, {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body: raw,
      });
      const form = await request.formData();
      const file = form.get('file');
      if (form.get('messaging_product') !== 'whatsapp' || !(file instanceof Blob)) {
        return this.#invalid(res, 'messaging_product and file are required');
      }
      const mediaId = this.storeMedia(
        Buffer.from(await file.arrayBuffer()),
        String(form.get('type') ?? file.type),
      );
      return this.#send(res, 200, { id: mediaId });
    }
    if (edge === 'messages' && req.method === 'POST')
      return this.#message(res, owner, JSON.parse(raw.toString('utf8')));
    return this.#unknown(res, url.pathname);
  }

  #unknown(res: ServerResponse, what: string): void {
    this.#error(res, {
      status: 400,
      error: {
        message: `Unsupported get request. Object with ID '${what}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
      },
    });
  }

  #invalid(res: ServerResponse, details: string): void {
    this.#error(res, {
      status: 400,
      error: {
        message: '(#100) Invalid parameter',
        type: 'OAuthException',
        code: 100,
        error_data: { details },
      },
    });
  }

  #message(res: ServerResponse, number: FakeNumber, body: Record<string, unknown>) {
    const to = (body.to ?? body.recipient) as string | undefined;
    const type = body.type as string | undefined;
    if (body.messaging_product !== 'whatsapp' || !to || !type || typeof body[type] !== 'object') {
      return this.#invalid(res, 'messaging_product, to or recipient, type and its object are required');
    }
    const key = `${number.phoneNumberId}:${to}`;
    const now = this.now().getTime();
    if (type !== 'template') {
      const last = this.#lastInbound.get(key);
      if (last === undefined || now - last > WINDOW_MS) {
        return this.#error(res, {
          status: 400,
          error: {
            message: '(#131047) Re-engagement message',
            type: 'OAuthException',
            code: 131047,
            error_data: {
              details:
                'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
            },
          },
        });
      }
    } else {
      const template = body.template as {
        name?: string;
        language?: { code?: string };
        components?: { type: string; parameters?: unknown[] }[];
      };
      const found = number.templates.find(
        (t) => t.name === template.name && t.language === template.language?.code && t.status === 'APPROVED',
      );
      if (!found) {
        return this.#error(res, {
          status: 404,
          error: {
            message: '(#132001) Template name does not exist in the translation',
            type: 'OAuthException',
            code: 132001,
          },
        });
      }
      const expected = new Set(found.body.match(/\{\{\d+\}\}/g) ?? []).size;
      const given = template.components?.find((c) => c.type === 'body')?.parameters?.length ?? 0;
      if (expected !== given) {
        return this.#error(res, {
          status: 400,
          error: {
            message: '(#132000) Number of parameters does not match the expected number of params',
            type: 'OAuthException',
            code: 132000,
          },
        });
      }
    }
    if (type === 'text' && String((body.text as { body?: unknown }).body ?? '').length > 4096) {
      return this.#invalid(res, 'text.body is longer than 4096 characters');
    }
    const media = body[type] as { id?: string };
    if (
      ['image', 'video', 'audio', 'document', 'sticker'].includes(type) &&
      media.id &&
      !this.media.has(media.id)
    ) {
      return this.#invalid(res, `media id ${media.id} is unknown`);
    }
    if (this.pairRateLimit) {
      const last = this.#lastSent.get(key);
      if (last !== undefined && now - last < PAIR_INTERVAL_MS) {
        return this.#error(res, {
          status: 400,
          error: {
            message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
            type: 'OAuthException',
            code: 131056,
          },
        });
      }
    }
    this.#lastSent.set(key, now);
    const id = `wamid.${randomBytes(16).toString('base64url')}`;
    number.sent.push({ id, to, type, body });
    this.#send(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, ...(/^\d+$/.test(to) ? { wa_id: to } : { user_id: to }) }],
      messages: [{ id, message_status: 'accepted' }],
    });
  }
}
