import type {
  ApiInboundMessageBody,
  Attachment,
  BlockedClientList,
  Channel,
  ChannelKind,
  ChannelTemplate,
  ConsentRecord,
  CreateChannelBody,
  CreateLineBody,
  Dialog,
  DialogListQuery,
  DialogPage,
  Line,
  Message,
  QuickAnswer,
  ScheduleStatus,
  SendMessageBody,
  SessionTransition,
  TransferBody,
  UpdateChannelBody,
  UpdateLineBody,
  WidgetSnippet,
} from '@openlines/contract';
import { errorFromResponse } from '../errors';
import { segment, type Transport } from '../transport';

/** Lines and their settings (`/lines/*`). */
export class LinesApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<{ items: Line[]; limit: number }> {
    return this.transport.request('GET', '/lines');
  }

  get(id: string): Promise<Line> {
    return this.transport.request('GET', `/lines/${segment(id)}`);
  }

  create(input: CreateLineBody): Promise<Line> {
    return this.transport.request('POST', '/lines', { body: input });
  }

  update(id: string, input: UpdateLineBody): Promise<Line> {
    return this.transport.request('PATCH', `/lines/${segment(id)}`, { body: input });
  }

  /** Is the line (and its widget) open now, and when does it open next. */
  schedule(id: string): Promise<{ line: ScheduleStatus; widget: ScheduleStatus }> {
    return this.transport.request('GET', `/lines/${segment(id)}/schedule`);
  }

  /** Deletes the line with its dialogs and history; `confirmName` must be the line's name. */
  delete(id: string, confirmName: string): Promise<void> {
    return this.transport.request('DELETE', `/lines/${segment(id)}`, { query: { confirm: confirmName } });
  }
}

export interface ChannelWithSecrets {
  channel: Channel;
  secrets: Record<string, string>;
}

/** Channels connected to lines (`/channels/*`), and the API channel's inbound endpoint. */
export class ChannelsApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<Channel[]> {
    return this.transport.request('GET', '/channels');
  }

  get(id: string): Promise<Channel> {
    return this.transport.request('GET', `/channels/${segment(id)}`);
  }

  /** The secrets (tokens, signing keys) are in this answer only. */
  create(input: CreateChannelBody): Promise<ChannelWithSecrets> {
    return this.transport.request('POST', '/channels', { body: input });
  }

  update(id: string, input: UpdateChannelBody): Promise<Channel> {
    return this.transport.request('PATCH', `/channels/${segment(id)}`, { body: input });
  }

  /** The kinds this server can connect, with their settings schema. */
  kinds(): Promise<ChannelKind[]> {
    return this.transport.request('GET', '/channel-kinds');
  }

  /** The channel's approved message templates (WhatsApp), to send outside its reply window. */
  templates(id: string): Promise<ChannelTemplate[]> {
    return this.transport.request('GET', `/channels/${segment(id)}/templates`);
  }

  /** A widget channel's install snippet. */
  widgetSnippet(id: string): Promise<WidgetSnippet> {
    return this.transport.request('GET', `/channels/${segment(id)}/widget`);
  }

  rotateSecrets(id: string): Promise<ChannelWithSecrets> {
    return this.transport.request('POST', `/channels/${segment(id)}/rotate-secrets`);
  }

  /** A channel with dialogs is deleted with them only when `confirmName` is its name. */
  delete(id: string, confirmName?: string): Promise<void> {
    return this.transport.request('DELETE', `/channels/${segment(id)}`, { query: { confirm: confirmName } });
  }
}

export interface InboundResult {
  messageId: string;
  dialogId: string;
  sessionId: string | null;
  duplicate: boolean;
}

/**
 * A system sending its clients' messages through an API channel. Authenticates with the channel's
 * inbound token, not a user's.
 */
export class ApiChannelSender {
  constructor(
    private readonly baseUrl: string,
    private readonly channelToken: string,
    private readonly fetchFn: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {}

  async send(message: ApiInboundMessageBody): Promise<InboundResult> {
    const response = await this.fetchFn(`${this.baseUrl.replace(/\/+$/, '')}/api/v1/channel-api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.channelToken}` },
      body: JSON.stringify(message),
    });
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as InboundResult;
  }
}

/** The operator workspace: dialogs, their messages and the operator actions (OP-1..OP-3). */
export class DialogsApi {
  constructor(private readonly transport: Transport) {}

  list(query: DialogListQuery = {}): Promise<DialogPage> {
    return this.transport.request('GET', '/dialogs', { query: { ...query } });
  }

  get(id: string): Promise<Dialog> {
    return this.transport.request('GET', `/dialogs/${segment(id)}`);
  }

  messages(id: string, query: { before?: string; limit?: number } = {}): Promise<Message[]> {
    return this.transport.request('GET', `/dialogs/${segment(id)}/messages`, { query });
  }

  transitions(id: string): Promise<SessionTransition[]> {
    return this.transport.request('GET', `/dialogs/${segment(id)}/transitions`);
  }

  /** The client's consent decisions on the dialog's line (AG-2), for the timeline. */
  consents(id: string): Promise<ConsentRecord[]> {
    return this.transport.request('GET', `/dialogs/${segment(id)}/consents`);
  }

  send(id: string, input: SendMessageBody): Promise<Message> {
    return this.transport.request('POST', `/dialogs/${segment(id)}/messages`, { body: input });
  }

  /** Changes the text of my own message (colleagues, the widget and Telegram see the new one). */
  editMessage(id: string, messageId: string, text: string): Promise<Message> {
    return this.transport.request('PATCH', `/dialogs/${segment(id)}/messages/${segment(messageId)}`, {
      body: { text },
    });
  }

  /** Withdraws my own message: it stays in the timeline as deleted. */
  deleteMessage(id: string, messageId: string): Promise<Message> {
    return this.transport.request('DELETE', `/dialogs/${segment(id)}/messages/${segment(messageId)}`);
  }

  note(id: string, text: string): Promise<Message> {
    return this.send(id, { text, private: true });
  }

  take(id: string): Promise<Dialog> {
    return this.#action(id, 'take');
  }

  skip(id: string): Promise<Dialog> {
    return this.#action(id, 'skip');
  }

  transfer(id: string, to: TransferBody): Promise<Dialog> {
    return this.#action(id, 'transfer', to);
  }

  invite(id: string, userId: string, mode: 'consult' | 'handover' = 'consult'): Promise<Dialog> {
    return this.#action(id, 'invite', { userId, mode });
  }

  leave(id: string): Promise<Dialog> {
    return this.#action(id, 'leave');
  }

  close(id: string, options: { confirmed?: boolean } = {}): Promise<Dialog> {
    return this.#action(id, 'close', options);
  }

  /** Marks the dialog as spam: it closes, and its client is blocked on every line (OP-3). */
  markSpam(id: string): Promise<Dialog> {
    return this.#action(id, 'spam');
  }

  /** The clients a spam mark blocked, newest first (needs supervise). */
  blockedClients(): Promise<BlockedClientList> {
    return this.transport.request('GET', '/clients/blocked');
  }

  /** Lifts a client's block (needs supervise): their dialogs are no longer spam. */
  async unblockClient(clientId: string): Promise<void> {
    await this.transport.request('DELETE', `/clients/${segment(clientId)}/block`);
  }

  pin(id: string): Promise<Dialog> {
    return this.#action(id, 'pin');
  }

  /** Write first: a new session with the client of a dialog that has none open, held by me. */
  followUp(id: string): Promise<Dialog> {
    return this.#action(id, 'follow-up');
  }

  /** Supervisor: take the dialog over from the operator holding it. */
  intercept(id: string): Promise<Dialog> {
    return this.#action(id, 'intercept');
  }

  /** Supervisor: join as a consultant without an invitation. */
  join(id: string): Promise<Dialog> {
    return this.#action(id, 'join');
  }

  /** Replaces the dialog's labels. */
  setTags(id: string, tags: string[]): Promise<Dialog> {
    return this.transport.request('PUT', `/dialogs/${segment(id)}/tags`, { body: { tags } });
  }

  unpin(id: string): Promise<Dialog> {
    return this.#action(id, 'unpin');
  }

  /** QR-3: a supervisor's 1–5 and/or comment on a session. */
  rateAsSupervisor(sessionId: string, input: { rating?: number; comment?: string }): Promise<void> {
    return this.transport.request('POST', `/sessions/${segment(sessionId)}/supervisor-rating`, {
      body: input,
    });
  }

  typing(id: string, text?: string): Promise<void> {
    return this.transport.request('POST', `/dialogs/${segment(id)}/typing`, {
      body: text === undefined ? {} : { text },
    });
  }

  #action(id: string, action: string, body?: unknown): Promise<Dialog> {
    return this.transport.request(
      'POST',
      `/dialogs/${segment(id)}/${action}`,
      body === undefined ? {} : { body },
    );
  }
}

/** Shared canned replies (AA-7). */
export class QuickAnswersApi {
  constructor(private readonly transport: Transport) {}

  /** Shared and my personal quick answers; with lineId, only those a dialog of that line offers. */
  list(search?: string, options: { lineId?: string } = {}): Promise<QuickAnswer[]> {
    return this.transport.request('GET', '/quick-answers', { query: { search, lineId: options.lineId } });
  }

  create(input: {
    title: string;
    text: string;
    personal?: boolean;
    lineId?: string | null;
  }): Promise<QuickAnswer> {
    return this.transport.request('POST', '/quick-answers', { body: input });
  }

  update(id: string, input: { title?: string; text?: string; lineId?: string | null }): Promise<QuickAnswer> {
    return this.transport.request('PATCH', `/quick-answers/${segment(id)}`, { body: input });
  }

  delete(id: string): Promise<void> {
    return this.transport.request('DELETE', `/quick-answers/${segment(id)}`);
  }
}

/** Attachments: upload a file, then send the returned attachment in a message. */
export class FilesApi {
  constructor(private readonly transport: Transport) {}

  async upload(file: Blob, name: string): Promise<Attachment> {
    const form = new FormData();
    form.append('file', file, name);
    return this.transport.request('POST', '/files', { form });
  }
}
