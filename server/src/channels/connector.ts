import type { Attachment } from '@openlines/contract';
import type { TSchema } from '@sinclair/typebox';
import type { Clock } from '../core/clock';
import type { InboundMessage, OutboundMessage } from './types';

/**
 * The one interface every channel implements (ARCHITECTURE "channel connector"; STYLE conventions
 * 1–2). A connector lives in `channels/<kind>/` and is listed once in `registry.ts`; services and
 * workers reach it only through the registry, never with a `switch (kind)`.
 *
 * Connectors translate, they do not decide: they never touch the database. The channels service
 * stores what `prepare` returns, the outbox worker calls `send` and decides about retries from the
 * ConnectorError code alone.
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

/** An inbound HTTP request as a webhook-style connector needs it for verification and parsing. */
export interface InboundRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received (signatures are over these bytes). */
  rawBody: string;
  /** The parsed JSON body. */
  body: unknown;
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
  /** Checks beyond the schema (URL schemes, cross-field rules). */
  checkSettings?(settings: S): SettingsIssue[];
  /**
   * Connect hook, on creation, on settings change and on secret rotation: generates or keeps
   * secrets and may call the external service (register a webhook). It runs outside any database
   * transaction; throw a ConnectorError when the external side refuses.
   */
  prepare(input: PrepareInput<S>, io: ConnectorIo): Promise<PreparedChannel>;
  /**
   * Webhook-style channels: is this request really from the channel? (A signature or secret
   * token.) Channels whose inbound endpoint is authenticated by the channel's bearer token (the
   * API channel) need no extra check and leave this out.
   */
  verifyInbound?(request: InboundRequest, channel: ChannelRuntime<S>): boolean;
  /** Native inbound payload → internal messages (zero when it carries nothing to store). */
  parseInbound?(request: InboundRequest, channel: ChannelRuntime<S>): InboundMessage[];
  /** Delivers one outbound message; throws ConnectorError on failure. */
  send(channel: ChannelRuntime<S>, outbound: OutboundMessage, io: ConnectorIo): Promise<SendResult>;
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
export function toConnectorError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('temporary', message, { cause: error });
}

/** Keeps the connector's settings type while registering it under the erased registry type. */
export function defineConnector<S>(connector: ChannelConnector<S>): ChannelConnector<S> {
  return connector;
}
