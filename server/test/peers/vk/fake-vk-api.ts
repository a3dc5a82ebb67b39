import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local, protocol-faithful fake of the VK API and Callback API for what Openlines uses, on
 * 127.0.0.1 with a random port:
 *
 *   - `POST /method/<name>` with a form-urlencoded (or query) `access_token` and `v`; answers
 *     `{response}` or `{error:{error_code,error_msg,request_params}}` with HTTP 200, as VK does.
 *     Error 5 for an unknown or revoked token, 3 for an unknown method, 100 for a missing parameter.
 *   - Rate limit: at most `perSecond` calls per token in one second of the fake's clock (error 6
 *     "Too many requests per second"); failures can be injected per method (`failNext`).
 *   - messages.send: `random_id` is required and unique over the community's history (a repeat
 *     returns the message already sent, and sends nothing); a user who never wrote, or denied
 *     messages, gets error 901; `privacy` users 902. `keyboard` must be valid JSON.
 *   - The upload-server flow: photos.getMessagesUploadServer / docs.getMessagesUploadServer hand
 *     out an upload URL; a multipart POST to it (`photo` / `file`) answers {server, photo, hash} /
 *     {file}; photos.saveMessagesPhoto / docs.save turn those into attachments. Files users send
 *     are served under `/files/<id>`.
 *   - The Callback API side: `confirm` POSTs `{type:"confirmation"}` and checks the answer;
 *     `userSends`/`userEdits`/`userDenies` queue events with `event_id` and `secret`, which
 *     `deliverCallbacks` POSTs, keeping those not answered exactly `ok` (VK retries them).
 */

export interface FakeGroup {
  id: number;
  name: string;
  token: string;
  secretKey: string;
  confirmation: string;
  callbackUrl: string | null;
  revoked: boolean;
  pending: Record<string, unknown>[];
  /** Users allowed to get messages (they wrote, or allowed messages). */
  allowed: Set<number>;
  privacy: Set<number>;
  sent: SentMessage[];
  byRandomId: Map<string, number>;
  nextMessageId: number;
}

export interface SentMessage {
  id: number;
  peer_id: number;
  random_id: number;
  message: string;
  attachment: string[];
  keyboard: unknown;
}

interface Call {
  method: string;
  params: Record<string, string>;
  group: FakeGroup | undefined;
}

interface StoredFile {
  data: Buffer;
  name: string;
  mimeType: string;
}

export class FakeVkApi {
  url = '';
  /** Calls per token per second; Infinity by default. */
  perSecond = Number.POSITIVE_INFINITY;
  /** The fake's clock for the rate limit (the test's fake clock). */
  now: () => number = () => Date.now();
  readonly calls: Call[] = [];
  #server: Server | null = null;
  #groups = new Map<number, FakeGroup>();
  #failures = new Map<string, { error_code: number; error_msg: string }[]>();
  #dropResponse = new Set<string>();
  #window = new Map<string, { second: number; count: number }>();
  #files = new Map<string, StoredFile>();
  #uploads = new Map<string, StoredFile>();
  #photos = new Map<string, { owner_id: number; id: number; data: StoredFile }>();
  #docs = new Map<string, { owner_id: number; id: number; data: StoredFile }>();
  #nextEventId = 1;
  #nextObjectId = 1000;

  get methodUrl(): string {
    return `${this.url}/method`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  createGroup(name = 'Acme Support'): FakeGroup {
    const id = 100_000 + this.#groups.size + 1;
    const group: FakeGroup = {
      id,
      name,
      token: `vk1.a.${randomBytes(32).toString('base64url')}`,
      secretKey: randomBytes(12).toString('hex'),
      confirmation: randomBytes(4).toString('hex'),
      callbackUrl: null,
      revoked: false,
      pending: [],
      allowed: new Set(),
      privacy: new Set(),
      sent: [],
      byRandomId: new Map(),
      nextMessageId: 1,
    };
    this.#groups.set(id, group);
    return group;
  }

  revoke(group: FakeGroup): void {
    group.revoked = true;
  }

  failNext(method: string, error_code: number, error_msg: string): void {
    const list = this.#failures.get(method) ?? [];
    list.push({ error_code, error_msg });
    this.#failures.set(method, list);
  }

  /** The next call of `method` is carried out, but its answer never arrives (the socket is cut). */
  dropResponseNext(method: string): void {
    this.#dropResponse.add(method);
  }

  callsOf(method: string, group?: FakeGroup): Call[] {
    return this.calls.filter((c) => c.method === method && (!group || c.group === group));
  }

  fileData(attachment: string): Buffer | undefined {
    // `photo<owner>_<id>` or `photo<owner>_<id>_<access key>`.
    const key = attachment.split('_').slice(0, 2).join('_');
    return (this.#photos.get(key) ?? this.#docs.get(key))?.data.data;
  }

  // ---- the Callback API side ----

  /** Like VK's "Confirm" button: POSTs the confirmation event; true when the answer is the string. */
  async confirm(
    group: FakeGroup,
    secret: string | null = group.secretKey,
  ): Promise<{ status: number; body: string }> {
    const body: Record<string, unknown> = { type: 'confirmation', group_id: group.id };
    if (secret !== null) body.secret = secret;
    return this.post(group.callbackUrl!, body);
  }

  #event(group: FakeGroup, type: string, object: unknown): Record<string, unknown> {
    return {
      group_id: group.id,
      type,
      event_id: createHash('sha1')
        .update(String(this.#nextEventId++))
        .digest('hex'),
      v: '5.199',
      object,
      secret: group.secretKey,
    };
  }

  #attachmentsOf(input: { photo?: Buffer; doc?: { name: string; data: Buffer } }) {
    const attachments: unknown[] = [];
    if (input.photo) {
      const id = this.#nextObjectId++;
      const small = randomBytes(6).toString('hex');
      const large = randomBytes(6).toString('hex');
      this.#files.set(small, { data: Buffer.from('small'), name: 'small.jpg', mimeType: 'image/jpeg' });
      this.#files.set(large, { data: input.photo, name: 'photo.jpg', mimeType: 'image/jpeg' });
      attachments.push({
        type: 'photo',
        photo: {
          id,
          owner_id: 1,
          sizes: [
            { type: 's', width: 75, height: 75, url: `${this.url}/files/${small}` },
            { type: 'w', width: 1280, height: 960, url: `${this.url}/files/${large}` },
          ],
        },
      });
    }
    if (input.doc) {
      const key = randomBytes(6).toString('hex');
      const [title, ext] = [input.doc.name, input.doc.name.split('.').pop() ?? ''];
      this.#files.set(key, { data: input.doc.data, name: title, mimeType: 'application/octet-stream' });
      attachments.push({
        type: 'doc',
        doc: {
          id: this.#nextObjectId++,
          owner_id: 1,
          title,
          ext,
          size: input.doc.data.length,
          url: `${this.url}/files/${key}`,
        },
      });
    }
    return attachments;
  }

  /** A user writes to the community: a message_new event, queued for delivery. */
  userSends(
    group: FakeGroup,
    userId: number,
    input: { text?: string; photo?: Buffer; doc?: { name: string; data: Buffer }; payload?: string },
  ): Record<string, unknown> {
    group.allowed.add(userId);
    const message = {
      id: group.nextMessageId++,
      date: Math.floor(this.now() / 1000),
      peer_id: userId,
      from_id: userId,
      text: input.text ?? '',
      out: 0,
      conversation_message_id: group.nextMessageId,
      attachments: this.#attachmentsOf(input),
      ...(input.payload ? { payload: input.payload } : {}),
    };
    const event = this.#event(group, 'message_new', {
      message,
      client_info: {
        button_actions: ['text', 'callback'],
        keyboard: true,
        inline_keyboard: true,
        carousel: true,
        lang_id: 0,
      },
    });
    group.pending.push(event);
    return event;
  }

  userEdits(group: FakeGroup, sent: Record<string, unknown>, text: string): Record<string, unknown> {
    const original = (sent.object as { message: Record<string, unknown> }).message;
    const event = this.#event(group, 'message_edit', {
      ...original,
      text,
      update_time: Number(original.date) + 60,
    });
    group.pending.push(event);
    return event;
  }

  userDenies(group: FakeGroup, userId: number): void {
    group.allowed.delete(userId);
    group.pending.push(this.#event(group, 'message_deny', { user_id: userId }));
  }

  redeliver(group: FakeGroup, event: Record<string, unknown>): void {
    group.pending.push(event);
  }

  /** POSTs every pending event in order; those not answered `ok` stay pending. */
  async deliverCallbacks(group: FakeGroup): Promise<number[]> {
    const statuses: number[] = [];
    const events = group.pending.splice(0);
    for (const event of events) {
      // A server that is down counts as a failed delivery (status 0): VK keeps the event.
      const answer = await this.post(group.callbackUrl!, event).catch(() => ({ status: 0, body: '' }));
      statuses.push(answer.status);
      if (!(answer.status === 200 && answer.body === 'ok')) group.pending.push(event);
    }
    return statuses;
  }

  async post(url: string, body: unknown): Promise<{ status: number; body: string }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.text() };
  }

  // ---- the API side ----

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.url);
    const [, area, name] = url.pathname.split('/');
    if (area === 'files' && name) {
      const file = this.#files.get(name);
      if (!file) return void res.writeHead(404).end();
      res
        .writeHead(200, { 'content-type': file.mimeType, 'content-length': file.data.length })
        .end(file.data);
      return;
    }
    if (area === 'upload' && name) return this.#upload(name, url, raw, req, res);
    if (area !== 'method' || !name) return void res.writeHead(404).end();
    const params = Object.fromEntries(url.searchParams);
    if (raw.length > 0) Object.assign(params, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
    const group = [...this.#groups.values()].find((g) => g.token === params.access_token);
    this.calls.push({ method: name, params, group });
    const answer = this.#answer(name, params, group);
    if (this.#dropResponse.delete(name)) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
  }

  #error(error_code: number, error_msg: string, params: Record<string, string>) {
    const request_params = Object.entries({ method: '', ...params })
      .filter(([key]) => key !== 'access_token')
      .map(([key, value]) => ({ key, value }));
    return { error: { error_code, error_msg, request_params } };
  }

  #answer(method: string, params: Record<string, string>, group: FakeGroup | undefined): unknown {
    if (!group || group.revoked) {
      return this.#error(5, 'User authorization failed: invalid access_token (4).', params);
    }
    const second = Math.floor(this.now() / 1000);
    const window = this.#window.get(group.token);
    if (window && window.second === second) window.count++;
    else this.#window.set(group.token, { second, count: 1 });
    if ((this.#window.get(group.token)?.count ?? 0) > this.perSecond) {
      return this.#error(6, 'Too many requests per second', params);
    }
    const injected = this.#failures.get(method)?.shift();
    if (injected) return this.#error(injected.error_code, injected.error_msg, params);
    const missing = (key: string) =>
      this.#error(100, `One of the parameters specified was missing or invalid: ${key} is undefined`, params);
    switch (method) {
      case 'groups.getById': {
        if (params.group_id && params.group_id !== String(group.id)) {
          // A community token sees its own community only.
          return this.#error(15, 'Access denied: no access to this group', params);
        }
        return {
          response: {
            groups: [{ id: group.id, name: group.name, screen_name: `club${group.id}`, type: 'group' }],
            profiles: [],
          },
        };
      }
      case 'messages.send':
        return this.#send(group, params, missing);
      case 'photos.getMessagesUploadServer':
        return {
          response: {
            upload_url: `${this.url}/upload/photo?group=${group.id}`,
            album_id: -3,
            group_id: group.id,
          },
        };
      case 'docs.getMessagesUploadServer':
        if (!params.peer_id) return missing('peer_id');
        return { response: { upload_url: `${this.url}/upload/doc?group=${group.id}` } };
      case 'photos.saveMessagesPhoto': {
        const upload = this.#uploads.get(params.photo ?? '');
        if (
          !upload ||
          params.hash !==
            createHash('md5')
              .update(params.photo ?? '')
              .digest('hex')
        ) {
          return this.#error(121, 'Invalid hash', params);
        }
        const photo = { owner_id: -group.id, id: this.#nextObjectId++, data: upload };
        this.#photos.set(`photo${photo.owner_id}_${photo.id}`, photo);
        return { response: [{ id: photo.id, owner_id: photo.owner_id, access_key: 'abc123' }] };
      }
      case 'docs.save': {
        const upload = this.#uploads.get(params.file ?? '');
        if (!upload) return missing('file');
        const doc = {
          owner_id: -group.id,
          id: this.#nextObjectId++,
          data: { ...upload, name: params.title ?? upload.name },
        };
        this.#docs.set(`doc${doc.owner_id}_${doc.id}`, doc);
        return {
          response: { type: 'doc', doc: { id: doc.id, owner_id: doc.owner_id, title: doc.data.name } },
        };
      }
      default:
        return this.#error(3, 'Unknown method passed', params);
    }
  }

  #send(group: FakeGroup, params: Record<string, string>, missing: (key: string) => unknown): unknown {
    if (!params.peer_id) return missing('peer_id');
    if (params.random_id === undefined) return missing('random_id');
    const peer = Number(params.peer_id);
    const repeated = group.byRandomId.get(`${peer}:${params.random_id}`);
    if (repeated !== undefined) return { response: repeated };
    if (!params.message && !params.attachment)
      return this.#error(
        100,
        'One of the parameters specified was missing or invalid: message is empty or invalid',
        params,
      );
    if ((params.message ?? '').length > 9000) return this.#error(914, 'Message is too long', params);
    if (group.privacy.has(peer))
      return this.#error(902, "Can't send messages to this user due to their privacy settings", params);
    if (!group.allowed.has(peer))
      return this.#error(901, "Can't send messages for users without permission", params);
    let keyboard: unknown;
    if (params.keyboard) {
      try {
        keyboard = JSON.parse(params.keyboard);
      } catch {
        return this.#error(911, 'Keyboard format is invalid', params);
      }
    }
    const attachment = params.attachment ? params.attachment.split(',') : [];
    for (const a of attachment) {
      if (!this.fileData(a))
        return this.#error(
          100,
          `One of the parameters specified was missing or invalid: attachment ${a}`,
          params,
        );
    }
    const id = group.nextMessageId++;
    group.byRandomId.set(`${peer}:${params.random_id}`, id);
    group.sent.push({
      id,
      peer_id: peer,
      random_id: Number(params.random_id),
      message: params.message ?? '',
      attachment,
      keyboard,
    });
    return { response: id };
  }

  async #upload(
    kind: string,
    url: URL,
    raw: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': String(req.headers['content-type']) },
    })
      .formData()
      .catch(() => null);
    const field = kind === 'photo' ? 'photo' : 'file';
    const file = form?.get(field);
    if (!file || typeof file === 'string')
      return json({ error: 'ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded' });
    const stored = { data: Buffer.from(await file.arrayBuffer()), name: file.name, mimeType: file.type };
    const key = `${kind}-${url.searchParams.get('group')}-${randomBytes(8).toString('hex')}`;
    this.#uploads.set(key, stored);
    if (kind === 'photo')
      return json({ server: 1, photo: key, hash: createHash('md5').update(key).digest('hex') });
    return json({ file: key });
  }
}
