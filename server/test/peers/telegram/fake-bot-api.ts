import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ApiError,
  ApiSuccess,
  CallbackQuery,
  Chat,
  File,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  PhotoSize,
  ResponseParameters,
  Update,
  User,
  UserFromGetMe,
  UserProfilePhotos,
  WebhookInfo,
} from '@grammyjs/types';
import { parseTelegramHtml } from './html';

/**
 * A local, protocol-faithful fake of the Telegram Bot API (https://core.telegram.org/bots/api) for
 * the methods Openlines uses, on 127.0.0.1 with a random port. It behaves like a self-hosted
 * `telegram-bot-api` server in its default (non-local) mode:
 *
 *   - `POST|GET /bot<token>/<method>` with parameters as a query string, JSON, urlencoded or
 *     multipart/form-data (uploads); `GET /file/bot<token>/<file_path>` serves files.
 *   - Answers `{ ok: true, result }` or `{ ok: false, error_code, description, parameters? }` with the
 *     HTTP status equal to error_code (401 for an unknown token, 404 for an unknown method).
 *   - getUpdates: confirm-by-offset (updates below `offset` are forgotten for good), `limit`,
 *     `timeout` long polling (held until an update arrives or the timeout passes), `allowed_updates`;
 *     a second concurrent getUpdates ends the first with 409, and so does an active webhook.
 *   - setWebhook / deleteWebhook / getWebhookInfo with `secret_token`; `deliverWebhooks()` POSTs
 *     pending updates to the webhook with `X-Telegram-Bot-Api-Secret-Token`, keeping (and later
 *     retrying) those not answered 2xx, as Telegram does.
 *   - sendMessage and send<Media> validate parse_mode HTML like Telegram (unknown tags, unescaped
 *     `<`/`&`, unclosed tags → 400 "can't parse entities"), text and caption length, the chat (never
 *     started → 400 chat not found; blocked → 403 bot was blocked by the user).
 *   - editMessageText / editMessageCaption / deleteMessage on a message the bot sent in that chat
 *     (400 "message to edit not found", "message is not modified", "message to delete not found").
 *   - Failures can be injected per method (`failNext`) with any error body, e.g. 429 retry_after.
 *
 * The test plays the Telegram users (`user`, `userSends`, `userEdits`, `userPresses`, `userBlocks`).
 */

export interface InjectedError {
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

interface StoredFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  data: Buffer;
}

interface Waiter {
  respond: (body: ApiSuccess<Update[]> | ApiError) => void;
  offset: number | undefined;
  limit: number;
}

export interface FakeBot {
  token: string;
  me: UserFromGetMe;
  /** Updates not yet confirmed, in order. */
  pending: Update[];
  nextUpdateId: number;
  allowedUpdates: string[] | null;
  webhook: { url: string; secretToken: string | null; allowedUpdates: string[] | null } | null;
  /** Messages the bot sent, in order (an edit changes its entry in place, with `edit_date`). */
  sent: Message[];
  /** Messages the bot deleted (deleteMessage), in order; their entries leave `sent`. */
  deleted: { chatId: number; messageId: number }[];
  /** Chats that started the bot (a bot cannot write first). */
  chats: Map<number, User>;
  blocked: Set<number>;
  answeredCallbacks: string[];
  callbackIds: Set<string>;
  waiter: Waiter | null;
  revoked: boolean;
}

export interface Call {
  token: string;
  method: string;
  params: Record<string, unknown>;
}

/** What a user sends: text, and/or one photo, document, voice or video. */
export interface UserContent {
  text?: string;
  photo?: Buffer;
  document?: { data: Buffer; fileName: string; mimeType: string };
  voice?: Buffer;
  video?: Buffer;
}

const MAX_DOWNLOAD = 20 * 1024 * 1024;
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

const ok = <T>(result: T): ApiSuccess<T> => ({ ok: true, result });
const fail = (error_code: number, description: string, parameters?: ResponseParameters): ApiError => ({
  ok: false,
  error_code,
  description,
  ...(parameters ? { parameters } : {}),
});

class ApiFailure extends Error {
  constructor(readonly body: ApiError) {
    super(body.description);
  }
}
const badRequest = (description: string) => new ApiFailure(fail(400, `Bad Request: ${description}`));

const MEDIA_METHODS = {
  sendphoto: 'photo',
  senddocument: 'document',
  sendvideo: 'video',
  sendvoice: 'voice',
  sendaudio: 'audio',
  sendanimation: 'animation',
} as const;

export class FakeBotApi {
  url = '';
  readonly calls: Call[] = [];
  readonly bots = new Map<string, FakeBot>();
  readonly files = new Map<string, StoredFile>();
  /** getUpdates requests ended by a newer one (two pollers of one bot). */
  conflicts = 0;
  /** Webhook deliveries made, with the answers they got. */
  readonly deliveries: { url: string; updateId: number; status: number }[] = [];
  readonly #failures = new Map<string, InjectedError[]>();
  readonly #profilePhotos = new Map<number, PhotoSize[][]>();
  #server: Server | null = null;
  #nextId = 7_000_000_000;
  #nextFile = 1;

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.#json(response, fail(500, `Internal Server Error: ${String(error)}`));
      });
    });
    // Like api.telegram.org, idle keep-alive connections stay open for a long while; Node's default
    // (5 s) races with grammY reusing a pooled socket on a slow test machine (ECONNRESET).
    this.#server.keepAliveTimeout = 10 * 60 * 1000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const bot of this.bots.values()) bot.waiter?.respond(ok([]));
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  // ----- Test-side setup ----------------------------------------------------------------------

  createBot(options: { firstName?: string; username?: string } = {}): FakeBot {
    const id = this.#nextId++;
    const token = `${id}:${randomBytes(26).toString('base64url').slice(0, 35)}`;
    const username = options.username ?? `openlines_test_${id}_bot`;
    const bot: FakeBot = {
      token,
      me: {
        id,
        is_bot: true,
        first_name: options.firstName ?? 'Support Bot',
        username,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
        has_topics_enabled: false,
        allows_users_to_create_topics: false,
        can_manage_bots: false,
        supports_join_request_queries: false,
      },
      pending: [],
      nextUpdateId: 500_000_000 + Math.floor(Math.random() * 1000) * 1000,
      allowedUpdates: null,
      webhook: null,
      sent: [],
      deleted: [],
      chats: new Map(),
      blocked: new Set(),
      answeredCallbacks: [],
      callbackIds: new Set(),
      waiter: null,
      revoked: false,
    };
    this.bots.set(token, bot);
    return bot;
  }

  /** A Telegram user (not a bot). */
  user(fields: { first_name: string; last_name?: string; username?: string }): User {
    return { id: this.#nextId++, is_bot: false, ...fields };
  }

  /** Gives the user a profile photo (sizes 160, 320 and 640 px, all with these bytes). */
  setProfilePhoto(user: User, data: Buffer): void {
    const sizes = [160, 320, 640].map((width) => {
      const file = this.#storeFile(data, 'profile_photos', 'jpg');
      return {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        width,
        height: width,
        file_size: data.length,
      };
    });
    this.#profilePhotos.set(user.id, [sizes]);
  }

  /** The next `times` calls of `method` (by any bot) fail with this error body. */
  failNext(method: string, error: InjectedError, times = 1): void {
    const list = this.#failures.get(method.toLowerCase()) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.#failures.set(method.toLowerCase(), list);
  }

  /** The token no longer works (as after /revoke in @BotFather): every call answers 401. */
  revoke(bot: FakeBot): void {
    bot.revoked = true;
  }

  callsOf(method: string, bot?: FakeBot): Call[] {
    return this.calls.filter((c) => c.method === method.toLowerCase() && (!bot || c.token === bot.token));
  }

  /** Is a getUpdates call of this bot waiting for updates right now? */
  isPolling(bot: FakeBot): boolean {
    return bot.waiter !== null;
  }

  // ----- Test-side: what users do -------------------------------------------------------------

  #chatOf(user: User): Chat.PrivateChat {
    return {
      id: user.id,
      type: 'private',
      first_name: user.first_name,
      ...(user.last_name ? { last_name: user.last_name } : {}),
      ...(user.username ? { username: user.username } : {}),
    };
  }

  #messageIds = new Map<string, number>();
  #messageId(bot: FakeBot, chatId: number): number {
    const key = `${bot.token}:${chatId}`;
    const next = (this.#messageIds.get(key) ?? 0) + 1;
    this.#messageIds.set(key, next);
    return next;
  }

  #push(bot: FakeBot, update: Omit<Update, 'update_id'>): Update {
    const full = { update_id: bot.nextUpdateId++, ...update } as Update;
    const type = Object.keys(update)[0]!;
    if (bot.allowedUpdates && bot.allowedUpdates.length > 0 && !bot.allowedUpdates.includes(type))
      return full;
    bot.pending.push(full);
    this.#wake(bot);
    return full;
  }

  /** The user writes to the bot (the first message also "starts" the bot, as /start would). */
  userSends(bot: FakeBot, user: User, content: UserContent): Update {
    bot.chats.set(user.id, user);
    bot.blocked.delete(user.id);
    const message = {
      message_id: this.#messageId(bot, user.id),
      date: Math.floor(Date.now() / 1000),
      chat: this.#chatOf(user),
      from: user,
    } as Message;
    const fields = message as unknown as Record<string, unknown>;
    if (content.photo) {
      const file = this.#storeFile(content.photo, 'photos', 'jpg');
      fields.photo = [
        { ...this.#ids(file), width: 90, height: 67, file_size: content.photo.length },
        { ...this.#ids(file), width: 800, height: 600, file_size: content.photo.length },
      ];
    }
    if (content.document) {
      const file = this.#storeFile(content.document.data, 'documents', 'bin');
      fields.document = {
        ...this.#ids(file),
        file_name: content.document.fileName,
        mime_type: content.document.mimeType,
        file_size: content.document.data.length,
      };
    }
    if (content.voice) {
      const file = this.#storeFile(content.voice, 'voice', 'oga');
      fields.voice = {
        ...this.#ids(file),
        duration: 2,
        mime_type: 'audio/ogg',
        file_size: content.voice.length,
      };
    }
    if (content.video) {
      const file = this.#storeFile(content.video, 'videos', 'mp4');
      fields.video = {
        ...this.#ids(file),
        width: 640,
        height: 480,
        duration: 3,
        mime_type: 'video/mp4',
        file_size: content.video.length,
      };
    }
    if (content.text !== undefined) {
      if (content.photo || content.document || content.voice || content.video) fields.caption = content.text;
      else fields.text = content.text;
    }
    return this.#push(bot, { message: message as Update['message'] & object });
  }

  /** The user edits a message they sent. */
  userEdits(bot: FakeBot, user: User, messageId: number, text: string): Update {
    const message = {
      message_id: messageId,
      date: Math.floor(Date.now() / 1000) - 60,
      edit_date: Math.floor(Date.now() / 1000) + (bot.nextUpdateId % 1000),
      chat: this.#chatOf(user),
      from: user,
      text,
    } as Message;
    return this.#push(bot, { edited_message: message as Update['edited_message'] & object });
  }

  /** The user presses an inline keyboard button of a message the bot sent them. */
  userPresses(bot: FakeBot, user: User, message: Message, buttonText: string): Update {
    const markup = (message as { reply_markup?: InlineKeyboardMarkup }).reply_markup;
    const button = markup?.inline_keyboard.flat().find((b) => b.text === buttonText);
    if (!button || !('callback_data' in button)) throw new Error(`no button "${buttonText}" on that message`);
    const query: CallbackQuery = {
      id: randomBytes(8).readBigUInt64BE().toString(),
      from: user,
      chat_instance: String(user.id),
      message,
      data: button.callback_data,
    };
    bot.callbackIds.add(query.id);
    return this.#push(bot, { callback_query: query });
  }

  /** The user blocks the bot: sending to them answers 403. */
  userBlocks(bot: FakeBot, user: User): void {
    bot.blocked.add(user.id);
  }

  /** The same update again (Telegram may redeliver one it is not sure we got). */
  redeliver(bot: FakeBot, update: Update): void {
    bot.pending.push(update);
    this.#wake(bot);
  }

  sentTo(bot: FakeBot, user: User): Message[] {
    return bot.sent.filter((m) => m.chat.id === user.id);
  }

  /** The bytes of a file the bot uploaded or a user sent. */
  fileData(fileId: string): Buffer | undefined {
    return this.files.get(fileId)?.data;
  }

  /**
   * Delivers pending updates to the bot's webhook in order, as Telegram does: an update answered
   * 2xx is done; the first one that is not stays pending (Telegram retries it later) and stops the
   * round. Returns the HTTP statuses in order.
   */
  async deliverWebhooks(bot: FakeBot): Promise<number[]> {
    const statuses: number[] = [];
    const webhook = bot.webhook;
    if (!webhook) throw new Error('no webhook is set');
    while (bot.pending.length > 0) {
      const update = bot.pending[0]!;
      let status: number;
      try {
        const response = await fetch(webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(webhook.secretToken ? { 'x-telegram-bot-api-secret-token': webhook.secretToken } : {}),
          },
          body: JSON.stringify(update),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      statuses.push(status);
      this.deliveries.push({ url: webhook.url, updateId: update.update_id, status });
      if (status < 200 || status >= 300) break;
      bot.pending.shift();
    }
    return statuses;
  }

  /** POSTs one update to a URL as Telegram would, with the given secret header (tests of refusal). */
  async post(url: string, update: Update, secretToken: string | null): Promise<number> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secretToken === null ? {} : { 'x-telegram-bot-api-secret-token': secretToken }),
      },
      body: JSON.stringify(update),
    });
    await response.arrayBuffer();
    return response.status;
  }

  // ----- Protocol -------------------------------------------------------------------------------

  #ids(file: StoredFile) {
    return { file_id: file.file_id, file_unique_id: file.file_unique_id };
  }

  #storeFile(data: Buffer, folder: string, extension: string): StoredFile {
    const n = this.#nextFile++;
    const file: StoredFile = {
      file_id: `AgAC${randomBytes(12).toString('base64url')}${n}`,
      file_unique_id: `AQAD${n}`,
      file_path: `${folder}/file_${n}.${extension}`,
      data,
    };
    this.files.set(file.file_id, file);
    return file;
  }

  #json(response: ServerResponse, body: ApiSuccess<unknown> | ApiError): void {
    if (response.destroyed) return;
    const status = body.ok ? 200 : body.error_code;
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) return this.#serveFile(fileMatch[1]!, decodeURIComponent(fileMatch[2]!), response);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return this.#json(response, fail(404, 'Not Found'));
    const [, token, rawMethod] = match as unknown as [string, string, string];
    const method = rawMethod.toLowerCase();
    const params = await this.#params(request, url);
    this.calls.push({ token, method, params });
    if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) return this.#json(response, fail(404, 'Not Found'));
    const bot = this.bots.get(token);
    if (!bot || bot.revoked) return this.#json(response, fail(401, 'Unauthorized'));
    const injected = this.#failures.get(method)?.shift();
    if (injected)
      return this.#json(response, fail(injected.error_code, injected.description, injected.parameters));
    try {
      if (method === 'getupdates') return this.#getUpdates(bot, params, request, response);
      return this.#json(response, ok(await this.#call(bot, method, params)));
    } catch (error) {
      if (error instanceof ApiFailure) return this.#json(response, error.body);
      throw error;
    }
  }

  #serveFile(token: string, path: string, response: ServerResponse): void {
    const bot = this.bots.get(token);
    const file = [...this.files.values()].find((f) => f.file_path === path);
    if (!bot || bot.revoked) {
      response.writeHead(401).end();
      return;
    }
    if (!file) {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify(fail(404, 'Not Found')));
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': file.data.length,
    });
    response.end(file.data);
  }

  /** Parameters from the query string and the body (JSON, urlencoded or multipart). */
  async #params(request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const type = request.headers['content-type'] ?? '';
    if (body.length === 0) return params;
    if (type.startsWith('application/json'))
      return { ...params, ...(JSON.parse(body.toString('utf8')) as object) };
    if (type.startsWith('application/x-www-form-urlencoded')) {
      return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
    }
    if (type.startsWith('multipart/form-data')) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
      if (!boundary) throw badRequest('multipart boundary is missing');
      for (const part of parseMultipart(body, boundary[1] ?? boundary[2]!)) {
        params[part.name] =
          part.filename === undefined
            ? part.data.toString('utf8')
            : { upload: true, name: part.filename, type: part.type, data: part.data };
      }
    }
    return params;
  }

  #getUpdates(
    bot: FakeBot,
    params: Record<string, unknown>,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    if (bot.webhook) {
      return this.#json(
        response,
        fail(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ),
      );
    }
    const offset = optionalInt(params.offset, 'offset');
    const limit = Math.min(100, Math.max(1, optionalInt(params.limit, 'limit') ?? 100));
    const timeout = Math.max(0, optionalInt(params.timeout, 'timeout') ?? 0);
    const allowed = jsonParam<string[]>(params.allowed_updates);
    if (allowed) bot.allowedUpdates = allowed;
    if (offset !== undefined) this.#confirm(bot, offset);
    // Only one getUpdates at a time: a newer request ends the one waiting.
    if (bot.waiter) this.conflicts++;
    bot.waiter?.respond(
      fail(
        409,
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      ),
    );
    bot.waiter = null;
    const ready = this.#available(bot, limit);
    if (ready.length > 0 || timeout === 0) return this.#json(response, ok(ready));
    let timer: NodeJS.Timeout | null = null;
    const waiter: Waiter = {
      offset,
      limit,
      respond: (body) => {
        if (timer) clearTimeout(timer);
        if (bot.waiter === waiter) bot.waiter = null;
        this.#json(response, body);
      },
    };
    bot.waiter = waiter;
    timer = setTimeout(() => waiter.respond(ok(this.#available(bot, limit))), timeout * 1000);
    // The client gave up (aborted): nobody waits any more.
    response.on('close', () => {
      if (timer) clearTimeout(timer);
      if (bot.waiter === waiter) bot.waiter = null;
    });
    void request;
  }

  /** Confirms (forgets) every update below `offset`; a negative offset keeps only the last -offset. */
  #confirm(bot: FakeBot, offset: number): void {
    if (offset < 0) {
      bot.pending = bot.pending.slice(offset);
      return;
    }
    bot.pending = bot.pending.filter((u) => u.update_id >= offset);
  }

  #available(bot: FakeBot, limit: number): Update[] {
    return bot.pending.slice(0, limit);
  }

  #wake(bot: FakeBot): void {
    const waiter = bot.waiter;
    if (!waiter) return;
    // Answered on the next tick, like a real server that is not synchronous with the sender.
    setImmediate(() => {
      if (bot.waiter === waiter) waiter.respond(ok(this.#available(bot, waiter.limit)));
    });
  }

  async #call(bot: FakeBot, method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'getme':
        return bot.me;
      case 'setwebhook':
        return this.#setWebhook(bot, params);
      case 'deletewebhook':
        bot.webhook = null;
        if (bool(params.drop_pending_updates)) bot.pending = [];
        return true;
      case 'getwebhookinfo': {
        const info: WebhookInfo = {
          url: bot.webhook?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: bot.pending.length,
        };
        return info;
      }
      case 'sendmessage':
        return this.#sendMessage(bot, params);
      case 'editmessagetext':
      case 'editmessagecaption':
        return this.#editMessage(bot, params, method === 'editmessagetext' ? 'text' : 'caption');
      case 'deletemessage': {
        const { user, index } = this.#sentMessage(bot, params, 'delete');
        bot.sent.splice(index, 1);
        bot.deleted.push({ chatId: user.id, messageId: requiredInt(params.message_id, 'message_id') });
        return true;
      }
      case 'getfile':
        return this.#getFile(params);
      case 'getuserprofilephotos': {
        const userId = requiredInt(params.user_id, 'user_id');
        const photos = this.#profilePhotos.get(userId) ?? [];
        const offset = optionalInt(params.offset, 'offset') ?? 0;
        const limit = optionalInt(params.limit, 'limit') ?? 100;
        const result: UserProfilePhotos = {
          total_count: photos.length,
          photos: photos.slice(offset, offset + limit),
        };
        return result;
      }
      case 'answercallbackquery': {
        const id = String(params.callback_query_id ?? '');
        if (!bot.callbackIds.has(id)) {
          throw badRequest('query is too old and response timeout expired or query ID is invalid');
        }
        bot.answeredCallbacks.push(id);
        return true;
      }
      default:
        if (method in MEDIA_METHODS)
          return this.#sendMedia(bot, method as keyof typeof MEDIA_METHODS, params);
        throw new ApiFailure(fail(404, 'Not Found'));
    }
  }

  #setWebhook(bot: FakeBot, params: Record<string, unknown>): boolean {
    const url = String(params.url ?? '');
    if (url === '') {
      bot.webhook = null;
      return true;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('invalid webhook URL specified');
    }
    // Like a self-hosted Bot API server: http is allowed (api.telegram.org needs https).
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw badRequest('bad webhook: Wrong URL protocol');
    const secret = params.secret_token === undefined ? null : String(params.secret_token);
    if (secret !== null && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
      throw badRequest('secret token contains unallowed characters');
    }
    if (bool(params.drop_pending_updates)) bot.pending = [];
    const allowed = jsonParam<string[]>(params.allowed_updates) ?? null;
    if (allowed) bot.allowedUpdates = allowed;
    bot.webhook = { url, secretToken: secret, allowedUpdates: allowed };
    // A waiting getUpdates is ended.
    bot.waiter?.respond(fail(409, 'Conflict: terminated by setWebhook request'));
    return true;
  }

  #chatFor(bot: FakeBot, params: Record<string, unknown>): User {
    const raw = params.chat_id;
    if (raw === undefined || raw === '') throw badRequest('chat_id is empty');
    const chatId = Number(raw);
    const user = Number.isSafeInteger(chatId) ? bot.chats.get(chatId) : undefined;
    if (!user) throw badRequest('chat not found');
    if (bot.blocked.has(chatId)) throw new ApiFailure(fail(403, 'Forbidden: bot was blocked by the user'));
    return user;
  }

  #formatted(
    text: string,
    parseMode: unknown,
    limit: number,
    what: 'message' | 'caption',
  ): { text: string; entities: MessageEntity[] } {
    let plain = text;
    let entities: MessageEntity[] = [];
    if (parseMode !== undefined && parseMode !== '') {
      if (String(parseMode).toLowerCase() !== 'html')
        throw badRequest(`unsupported parse_mode "${String(parseMode)}"`);
      const parsed = parseTelegramHtml(text);
      if ('error' in parsed) throw badRequest(`can't parse entities: ${parsed.error}`);
      plain = parsed.text;
      entities = parsed.entities;
    }
    if (what === 'message' && plain.trim().length === 0) throw badRequest('message text is empty');
    if (plain.length > limit)
      throw badRequest(what === 'message' ? 'message is too long' : 'message caption is too long');
    return { text: plain, entities };
  }

  #markup(params: Record<string, unknown>): { reply_markup?: InlineKeyboardMarkup } {
    const markup = jsonParam<InlineKeyboardMarkup>(params.reply_markup);
    if (!markup) return {};
    for (const button of markup.inline_keyboard?.flat() ?? []) {
      if (!button.text) throw badRequest('text buttons are unallowed in the inline keyboard');
      if ('callback_data' in button) {
        const size = Buffer.byteLength(button.callback_data, 'utf8');
        if (size < 1 || size > 64) throw badRequest('BUTTON_DATA_INVALID');
      }
    }
    return { reply_markup: markup };
  }

  #record(bot: FakeBot, user: User, fields: Record<string, unknown>): Message {
    const message = {
      message_id: this.#messageId(bot, user.id),
      date: Math.floor(Date.now() / 1000),
      chat: this.#chatOf(user),
      from: bot.me,
      ...fields,
    } as unknown as Message;
    bot.sent.push(message);
    return message;
  }

  /** A message the bot sent in the chat of `chat_id`, by `message_id`. */
  #sentMessage(
    bot: FakeBot,
    params: Record<string, unknown>,
    what: 'edit' | 'delete',
  ): { user: User; index: number } {
    const user = this.#chatFor(bot, params);
    const messageId = requiredInt(params.message_id, 'message_id');
    const index = bot.sent.findIndex((m) => m.chat.id === user.id && m.message_id === messageId);
    if (index < 0) throw badRequest(`message to ${what} not found`);
    return { user, index };
  }

  #editMessage(bot: FakeBot, params: Record<string, unknown>, field: 'text' | 'caption'): Message {
    const { index } = this.#sentMessage(bot, params, 'edit');
    const current = bot.sent[index]! as Message & Record<string, unknown>;
    const isText = typeof current.text === 'string';
    if ((field === 'text') !== isText) {
      throw badRequest(
        field === 'text'
          ? 'there is no text in the message to edit'
          : 'there is no caption in the message to edit',
      );
    }
    const { text, entities } = this.#formatted(
      String(params[field] ?? ''),
      params.parse_mode,
      field === 'text' ? TEXT_LIMIT : CAPTION_LIMIT,
      field === 'text' ? 'message' : 'caption',
    );
    if (current[field] === text) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    const entityField = field === 'text' ? 'entities' : 'caption_entities';
    const edited = {
      ...current,
      [field]: text,
      [entityField]: entities.length > 0 ? entities : undefined,
      edit_date: Math.floor(Date.now() / 1000),
    } as unknown as Message;
    bot.sent[index] = edited;
    return edited;
  }

  #sendMessage(bot: FakeBot, params: Record<string, unknown>): Message {
    const user = this.#chatFor(bot, params);
    const { text, entities } = this.#formatted(
      String(params.text ?? ''),
      params.parse_mode,
      TEXT_LIMIT,
      'message',
    );
    return this.#record(bot, user, {
      text,
      ...(entities.length > 0 ? { entities } : {}),
      ...this.#markup(params),
    });
  }

  async #sendMedia(
    bot: FakeBot,
    method: keyof typeof MEDIA_METHODS,
    params: Record<string, unknown>,
  ): Promise<Message> {
    const field = MEDIA_METHODS[method];
    const user = this.#chatFor(bot, params);
    const input = params[field];
    let data: Buffer;
    let name: string | undefined;
    let mime: string | undefined;
    if (input && typeof input === 'object' && (input as { upload?: boolean }).upload) {
      const upload = input as { name: string; type: string; data: Buffer };
      data = upload.data;
      name = upload.name;
      mime = upload.type || undefined;
    } else if (typeof input === 'string' && input.startsWith('attach://')) {
      const part = params[input.slice('attach://'.length)] as { data?: Buffer; name?: string } | undefined;
      if (!part?.data) throw badRequest('wrong file identifier/HTTP URL specified');
      data = part.data;
      name = part.name;
    } else if (typeof input === 'string' && this.files.has(input)) {
      data = this.files.get(input)!.data;
    } else if (typeof input === 'string' && /^https?:\/\//.test(input)) {
      try {
        const fetched = await fetch(input);
        if (!fetched.ok) throw new Error(String(fetched.status));
        data = Buffer.from(await fetched.arrayBuffer());
        name = decodeURIComponent(new URL(input).pathname.split('/').pop() ?? '') || undefined;
      } catch {
        throw badRequest('failed to get HTTP URL content');
      }
    } else {
      throw badRequest(`there is no ${field} in the request`);
    }
    if (data.length === 0) throw badRequest('file must be non-empty');
    const caption =
      params.caption === undefined
        ? null
        : this.#formatted(String(params.caption), params.parse_mode, CAPTION_LIMIT, 'caption');
    const file = this.#storeFile(data, `${field}s`, (name?.split('.').pop() ?? 'bin').slice(0, 8));
    let media: unknown;
    if (field === 'photo') {
      media = [{ ...this.#ids(file), width: 1280, height: 960, file_size: data.length }];
    } else {
      media = {
        ...this.#ids(file),
        ...(name ? { file_name: name } : {}),
        ...(mime ? { mime_type: mime } : {}),
        file_size: data.length,
        ...(field === 'video' || field === 'animation' ? { width: 640, height: 480, duration: 1 } : {}),
        ...(field === 'voice' || field === 'audio' ? { duration: 1 } : {}),
      };
    }
    return this.#record(bot, user, {
      [field]: media,
      ...(caption
        ? {
            caption: caption.text,
            ...(caption.entities.length > 0 ? { caption_entities: caption.entities } : {}),
          }
        : {}),
      ...this.#markup(params),
    });
  }

  #getFile(params: Record<string, unknown>): File {
    const file = this.files.get(String(params.file_id ?? ''));
    if (!file) throw badRequest('invalid file_id');
    if (file.data.length > MAX_DOWNLOAD) throw badRequest('file is too big');
    return {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      file_size: file.data.length,
      file_path: file.file_path,
    };
  }
}

function optionalInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw badRequest(`field "${name}" must be of type Integer`);
  return number;
}

function requiredInt(value: unknown, name: string): number {
  const number = optionalInt(value, name);
  if (number === undefined) throw badRequest(`${name} is empty`);
  return number;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1';
}

/** Object parameters arrive as JSON values, or as JSON strings in query strings and forms. */
function jsonParam<T>(value: unknown): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    throw badRequest("can't parse JSON object");
  }
}

interface Part {
  name: string;
  filename?: string;
  type: string;
  data: Buffer;
}

/**
 * multipart/form-data (RFC 7578), read as leniently as Telegram does: header names in any case,
 * with or without a space after the colon, and file names quoted or not (grammY sends them bare).
 */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    let from = start + delimiter.length;
    if (body.subarray(from, from + 2).toString() === '--') break;
    if (body.subarray(from, from + 2).toString() === '\r\n') from += 2;
    const next = body.indexOf(delimiter, from);
    if (next === -1) break;
    // The part ends with the CRLF before the next delimiter.
    const part = body.subarray(from, body.subarray(next - 2, next).toString() === '\r\n' ? next - 2 : next);
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) throw badRequest('malformed multipart part');
    const headers = part.subarray(0, split).toString('utf8').split('\r\n');
    const data = part.subarray(split + 4);
    let name = '';
    let filename: string | undefined;
    let type = 'text/plain';
    for (const header of headers) {
      const colon = header.indexOf(':');
      const key = header.slice(0, colon).trim().toLowerCase();
      const value = header.slice(colon + 1).trim();
      if (key === 'content-disposition') {
        name = /(?:^|;)\s*name="([^"]*)"/i.exec(value)?.[1] ?? '';
        const file = /;\s*filename=(?:"([^"]*)"|([^;]*))/i.exec(value);
        if (file) filename = (file[1] ?? file[2] ?? '').trim();
      } else if (key === 'content-type') {
        type = value;
      }
    }
    parts.push({ name, ...(filename === undefined ? {} : { filename }), type, data: Buffer.from(data) });
    start = next;
  }
  return parts;
}
