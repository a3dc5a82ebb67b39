import type { Attachment } from '@openlines/contract';
import type { TSchema } from '@sinclair/typebox';
import type { Clock } from '../core/clock';
import { invalidField } from '../errors';
import type { ChannelLifecycleEvent, DialogLifecycleEvent, InboundMessage, OutboundMessage } from './types';

/**
 * The one interface every channel implements (ARCHITECTURE "channel connector"; STYLE conventions
 * 1–2). A connector lives in `channels/<kind>/` and is listed once in `registry.ts`; services and
 * workers reach it only through the registry, never with a `switch (kind)`.
 *
 * Connectors translate, they do not decide: they never touch the database. The channels service
 * stores what `prepare` returns, the outbox worker calls `send` and decides about retries from the
 * ConnectorError code alone. Inbound, the one generic path (services/channel-inbound.ts) calls
 * `verifyInbound` → `answerHandshake` → `parseInbound`, then per item `fetchFile`/`fetchAvatar`
 * (platform I/O only) → stores → intake → `acknowledge`.
 */

/** Decrypted connector secrets (webhook signing key, bot token): string values only. */
export type ChannelSecrets = Record<string, string>;

/** A channel as a connector sees it: its public settings and its decrypted secrets. */
export interface ChannelRuntime<S = Record<string, unknown>> {
  id: string;
  accountId: string;
  lineId: string | null;
  kind: string;
  name: string;
  settings: S;
  secrets: ChannelSecrets;
}

/** What the outside world a connector may use is handed in, so tests control it. */
export interface ConnectorIo {
  clock: Clock;
  /** An outbound request is aborted (→ ConnectorError 'temporary') after this long. */
  timeoutMs: number;
  /**
   * The bytes of an attachment Openlines stores itself (one of our capability URLs), for channels
   * that upload files rather than link them; null for any other URL. Given to `send` only.
   */
  readAttachment?(attachment: Attachment): Promise<Buffer | null>;
  /**
   * The client's message this one answers (the dialog's latest client message before it, with its
   * external id and text), for channels that thread replies (e-mail's In-Reply-To and subject);
   * null when there is none. Given to `send` only, read on demand.
   */
  answering?(): Promise<{ externalId: string | null; text: string | null } | null>;
  /**
   * Stable integer ids of the message being sent and of its dialog (services/numeric-ids), for
   * channels whose other side numbers everything (the Bitrix24-compatible connector). Given to
   * `send` only, allocated on demand.
   */
  numericIds?(): Promise<{ message: number; dialog: number }>;
}

export interface PrepareInput<S> {
  /** Settings as the administrator sent them, already valid against `settingsSchema`. */
  settings: S;
  /** The channel as stored, on updates and rotations; null when the channel is being created. */
  current: { id: string; settings: Record<string, unknown>; secrets: ChannelSecrets } | null;
  /** New secrets are wanted (creation, POST /channels/:id/rotate-secrets). */
  rotate: boolean;
}

/** What the channels service stores after `prepare`. */
export interface PreparedChannel {
  /** Public settings: stored as they are in channels.settings and shown by the API. */
  settings: Record<string, unknown>;
  /** Stored encrypted in channels.secrets; given back to `send`. */
  secrets: ChannelSecrets;
  /**
   * A new bearer token for the channel's inbound endpoint; only its SHA-256 is stored
   * (channels.inbound_token_hash). Undefined keeps the current one; null removes it.
   */
  inboundToken?: string | null;
  /** Identifies the external endpoint (a bot id): one endpoint is connected once. Undefined keeps it. */
  externalKey?: string | null;
  /** Values shown to the administrator exactly once (creation or rotation); empty otherwise. */
  reveal: Record<string, string>;
}

/** A settings problem the schema cannot express; `field` is relative to the settings object. */
export interface SettingsIssue {
  field: string;
  message: string;
}

/**
 * An inbound HTTP request as a webhook-style connector sees it, for verification and handshakes
 * (the generic inbound path, services/channel-inbound.ts).
 */
export interface InboundRequest {
  /** `POST` for deliveries; `GET` for handshakes such as Meta's `hub.challenge`. */
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | string[] | undefined>;
  /** The body exactly as received (signatures such as `X-Hub-Signature-256` are over these bytes). */
  rawBody: string;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
}

/**
 * An answer a connector writes itself: a platform handshake (VK's confirmation string, Meta's
 * `hub.challenge`), or what a delivery is acknowledged with when the platform wants more than
 * `{"ok":true}` (VK wants the text `ok`).
 */
export interface InboundReply {
  status: number;
  contentType: string;
  body: string;
}

/** A file an inbound message refers to on the platform, fetched with `fetchFile`. */
export interface InboundFile {
  /** The platform's handle for it: a file id (Telegram, WhatsApp media id) or a URL (VK, Messenger). */
  ref: string;
  name: string;
  mimeType: string;
  /** As the platform reports it, when it does. */
  size?: number;
}

/** Bytes a connector fetched from its platform; the inbound path stores them (services/files). */
export interface FetchedFile {
  data: Buffer;
  name: string;
  mimeType: string;
}

/**
 * One item of a delivery, as `parseInbound` returns it. A webhook body can carry several (Meta
 * batches entries), or one that stores nothing but must still be acknowledged.
 */
export interface InboundItem {
  /**
   * The message to store, without the files of `files` (a connector that gets attachment URLs it
   * may link, like the API channel, puts them in `attachments`). Absent: nothing to store.
   */
  message?: InboundMessage;
  /** Files to fetch (`fetchFile`) and store before the message; added to its attachments. */
  files?: InboundFile[];
  /** The platform's handle for the sender's picture (`fetchAvatar`), fetched for a new client only. */
  avatar?: string;
  /** Handed to `acknowledge` once the item is stored, found stored, or ignored (a callback query id). */
  ack?: string;
  /** Why nothing is stored, for the debug log. */
  ignored?: string;
  /**
   * The client changed a message they sent before (Telegram's `edited_message`): the stored message
   * the channel knows by `externalId` takes `text` and is marked edited at `at` (ISO time; an older
   * or repeated edit changes nothing). When that message is not stored (it came before the channel
   * was connected), `message` is stored instead, as a new one.
   */
  edit?: { externalId: string; text: string | null; at: string };
  /**
   * A report on one of our outgoing messages (WhatsApp's `statuses`, Messenger's read receipts):
   * the message the channel knows by `externalId` (what `send` returned) moves forward to `state`
   * (core/delivery.ts); an unknown id or a report that would move it back is ignored.
   */
  delivery?: { externalId: string; state: import('../core/delivery').ReportedDelivery; error?: string };
  /**
   * A read receipt by watermark (Messenger): every outgoing message to the client `recipientId`
   * written up to `at` (ISO time) is read.
   */
  readUpTo?: { recipientId: string; at: string };
  /**
   * The client with this channel user id can no longer be written to (VK's `message_deny`): the
   * inbound path marks their dialogs on the channel unreachable, as a refused send does.
   */
  unreachable?: string;
  /**
   * What of the platform's payload could not be read (a part of the wrong shape, dropped; or why
   * the whole item is ignored): logged as a warning for an administrator, without the payload.
   */
  unreadable?: string[];
}

/** What the inbound path hands the connector's fetch hooks. */
export interface InboundIo {
  clock: Clock;
  /** Each request is aborted (→ ConnectorError 'temporary') after this long. */
  timeoutMs: number;
  /** The largest file the server stores (MAX_UPLOAD_BYTES): refuse larger ones before fetching. */
  maxBytes: number;
}

export interface SendResult {
  /** The channel's id for the delivered message, when it tells us one. */
  externalId?: string;
}

export interface ChannelConnector<S = Record<string, unknown>> {
  /** The registry key and channels.kind: a-z, 0-9, _ (matches line settings' per-kind texts). */
  readonly kind: string;
  readonly title: string;
  /** TypeBox schema of the settings an administrator sends on create/update. */
  readonly settingsSchema: TSchema;
  /**
   * The settings the admin app's form shows, as dotted paths into `settingsSchema`, in order;
   * what `prepare` fills in itself (a bot's name, a widget's key) is left out. The app draws the
   * form from these and the schema, never from the kind's name.
   */
  readonly formFields: readonly string[];
  /** Where an integrator posts this kind's inbound messages (shown with the channel), if anywhere. */
  readonly inboundPath?: string;
  /** The channel has an install snippet for a website (the widget). */
  readonly installSnippet?: boolean;
  /**
   * How a client answers the agreement and rating requests (AG-2, QR-1): `button` — the channel
   * has explicit buttons (the widget); `reply` (the default) — the client's next message is the
   * consent, and "1"/"0" is the rating.
   */
  readonly answersBy?: 'button' | 'reply';
  /**
   * The client gets our messages from a socket of ours (the widget): there is nothing to send, so
   * outgoing messages are stored as `sent` with no outbox round, and `send` is never called for them.
   */
  readonly deliversOverOwnSocket?: boolean;
  /**
   * A refusal of our credentials (ConnectorError auth_revoked: a revoked token) holds the
   * channel's outgoing messages in the outbox, marks the channel failing with the reason, and
   * sends them once the settings are saved with a working token, instead of failing each message.
   */
  readonly holdsOutboxOnAuthFailure?: boolean;
  /**
   * Channels of this kind are created by an integration (imconnector.activate of the
   * Bitrix24-compatible REST), never through the channels API: the admin app offers no form.
   */
  readonly createdByIntegration?: boolean;
  /** Checks beyond the schema (URL schemes, cross-field rules). */
  checkSettings?(settings: S): SettingsIssue[];
  /**
   * Connect hook, on creation, on settings change and on secret rotation: generates or keeps
   * secrets and may call the external service (register a webhook). It runs outside any database
   * transaction; throw a ConnectorError when the external side refuses.
   */
  prepare(input: PrepareInput<S>, io: ConnectorIo): Promise<PreparedChannel>;
  /**
   * Disconnect hook, once the channel (or its whole account) has been deleted: undoes what the
   * connection registered on the platform, so the platform stops calling an address that is gone
   * (Telegram's webhook). Runs after the deletion committed, outside any transaction, best effort:
   * the caller logs a failure and carries on. Kinds whose platform the administrator set up by
   * hand (VK's Callback API server, a Meta app's webhook) leave it out.
   */
  unregister?(channel: ChannelRuntime<S>, io: ConnectorIo): Promise<void>;
  /**
   * Webhook-style channels: is this request really from the channel? (A signature over
   * `rawBody`, a secret header, a verify token in the query of a handshake.) Pure. Only channels
   * that have it are reached through `POST /api/v1/channels/:id/webhook`; a false answer is a 401
   * and nothing is read further. Channels authenticated by their bearer token (the API channel)
   * leave it out.
   */
  verifyInbound?(request: InboundRequest, channel: ChannelRuntime<S>): boolean;
  /**
   * A verified request that is a platform handshake, not a delivery, answered as it is (VK's
   * `confirmation` event → the confirmation string; Meta's GET `hub.mode=subscribe` → the
   * challenge); null for a delivery. Pure.
   */
  answerHandshake?(request: InboundRequest, channel: ChannelRuntime<S>): InboundReply | null;
  /** The answer to a stored delivery, when the platform wants another than 200 `{"ok":true}`. */
  readonly acceptedReply?: InboundReply;
  /**
   * A delivery's payload (a webhook body, or one update a poller fetched) → its items. Pure; an
   * invalid payload throws an AppError (400). Zero items: nothing to store or acknowledge.
   */
  parseInbound?(payload: unknown, channel: ChannelRuntime<S>): InboundItem[];
  /** Fetches one file of an item from the platform; platform I/O only, throws ConnectorError. */
  fetchFile?(channel: ChannelRuntime<S>, file: InboundFile, io: InboundIo): Promise<FetchedFile>;
  /**
   * When a file can never be received (too large, gone), the note stored in its place in the
   * message's text; null when trying again later may help (the delivery is then refused as
   * temporary, and the platform delivers it again). Without this hook every failure is retried.
   */
  unreceivedNote?(file: InboundFile, error: ConnectorError): string | null;
  /** A new client's picture by the item's `avatar` handle (best effort; null when there is none). */
  fetchAvatar?(channel: ChannelRuntime<S>, ref: string, io: InboundIo): Promise<FetchedFile | null>;
  /** Tells the platform an item was handled (Telegram's answerCallbackQuery); best effort. */
  acknowledge?(channel: ChannelRuntime<S>, ack: string, io: InboundIo): Promise<void>;
  /**
   * Free-form replies are accepted only this long after the client last wrote (WhatsApp's
   * customer-service window); the web app tells the operator before sending.
   */
  readonly replyWindowHours?: number;
  /** The channel's approved message templates (WhatsApp), for sending outside the reply window. */
  listTemplates?(
    channel: ChannelRuntime<S>,
    io: ConnectorIo,
  ): Promise<import('@openlines/contract').ChannelTemplate[]>;
  /** Delivers one outbound message; throws ConnectorError on failure. */
  send(channel: ChannelRuntime<S>, outbound: OutboundMessage, io: ConnectorIo): Promise<SendResult>;
  /**
   * Changes the channel's copy of a message `send` delivered (known by the `externalId` it
   * returned) to `outbound`'s text (Telegram's editMessageText). Without it, an operator's edit
   * stays in Openlines and the client keeps the first version.
   */
  editSent?(
    channel: ChannelRuntime<S>,
    externalId: string,
    outbound: OutboundMessage,
    io: ConnectorIo,
  ): Promise<void>;
  /** Removes the channel's copy of a delivered message (Telegram's deleteMessage). */
  deleteSent?(
    channel: ChannelRuntime<S>,
    externalId: string,
    outbound: OutboundMessage,
    io: ConnectorIo,
  ): Promise<void>;
  /**
   * Tells the channel's other side that a session of a dialog started or ended (the
   * Bitrix24-compatible connector's OnImConnectorDialogStart / Finish). With it, starting and
   * closing a session on such a channel queues the event in the outbox (services/dialog-lifecycle).
   */
  sendDialogEvent?(channel: ChannelRuntime<S>, event: DialogLifecycleEvent, io: ConnectorIo): Promise<void>;
  /**
   * Tells the channel's other side that the channel stopped serving: an administrator disconnected
   * it, or deleted its line (the Bitrix24-compatible connector's OnImConnectorStatusDelete /
   * LineDelete). Queued in the outbox in that transaction, and sent although the channel is
   * disconnected by then.
   */
  sendChannelEvent?(channel: ChannelRuntime<S>, event: ChannelLifecycleEvent, io: ConnectorIo): Promise<void>;
}

export const CONNECTOR_ERROR_CODES = [
  'temporary',
  'rate_limited',
  'auth_revoked',
  'not_found',
  'invalid_payload',
  'recipient_unreachable',
] as const;
export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

/** Codes after which retrying cannot help: the outbox fails the message at once. */
export const PERMANENT_CONNECTOR_ERRORS: ReadonlySet<ConnectorErrorCode> = new Set([
  'auth_revoked',
  'not_found',
  'invalid_payload',
  'recipient_unreachable',
]);

/**
 * The one error connectors throw (STYLE convention 2). Retry and disable decisions read only
 * `code` (and `retryAfterMs`), never the message or the channel's native status.
 *   temporary       network error, timeout, 5xx: retry with backoff
 *   rate_limited    slow down: retry after retryAfterMs (or backoff)
 *   auth_revoked    the channel no longer accepts our credentials: fail, an admin must act
 *   not_found       the recipient or endpoint is gone: fail
 *   invalid_payload the channel refuses this message: fail
 *   recipient_unreachable  this one client cannot be reached (blocked the bot, deleted the account):
 *                   fail, and the outbox marks the dialog unreachable; the channel itself is fine
 */
export class ConnectorError extends Error {
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.retryAfterMs = options.retryAfterMs;
  }

  get permanent(): boolean {
    return PERMANENT_CONNECTOR_ERRORS.has(this.code);
  }
}

/** Anything a connector throws that is not a ConnectorError counts as temporary. */
/**
 * A file link a platform sent that can be fetched at all: an absolute http(s) URL. Parsers keep a
 * file only when its link passes (issue 20): anything else can never be fetched, and a delivery
 * that waits for it would be refused and redelivered for ever.
 */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 8192) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export function toConnectorError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('temporary', message, { cause: error });
}

/** Keeps the connector's settings type while registering it under the erased registry type. */
export function defineConnector<S>(connector: ChannelConnector<S>): ChannelConnector<S> {
  return connector;
}

/**
 * The generic per-channel webhook (POST, and GET for platforms' handshakes), as kinds that receive
 * through it declare it in `inboundPath`; `{channelId}` stands for the channel's id.
 */
export const CHANNEL_WEBHOOK_PATH = '/api/v1/channels/{channelId}/webhook';

/**
 * The secrets a connection needs when it is saved: each from the settings sent, else the one
 * stored (an admin leaves a secret empty to keep it); a missing one is a field error.
 */
export function requiredSecrets<K extends string>(
  settings: Partial<Record<K, string | undefined>>,
  current: { secrets: ChannelSecrets } | null | undefined,
  fields: readonly K[],
  what: Partial<Record<K, string>> = {},
): Record<K, string> {
  const secrets = {} as Record<K, string>;
  for (const field of fields) {
    const value = settings[field] ?? current?.secrets[field];
    if (!value) {
      throw invalidField(
        `body.settings.${field}`,
        what[field] ? `is required: ${what[field]}` : 'is required',
      );
    }
    secrets[field] = value;
  }
  return secrets;
}
