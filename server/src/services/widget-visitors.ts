import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Attachment,
  type Dialog,
  hasOperator,
  type VisitorMessage,
  type VisitorSession,
  WIDGET_LIMITS,
  WIDGET_UPLOAD_TYPES,
  type WidgetConfig,
  type WidgetContactFormBody,
  type WidgetConversation,
  type WidgetHistory,
  type WidgetIdentifyBody,
  type WidgetPageBody,
  type WidgetSendBody,
  type WidgetSendResult,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { InboundMessage, OutboundMessage, OutboxPayload } from '../channels/types';
import { verifyIdentityHash } from '../channels/widget/identity';
import { storedWidgetSettings } from '../channels/widget/settings';
import type { AppContext } from '../context';
import { automaticText } from '../core/automation';
import { AppError, notFound } from '../errors';
import type { Database } from '../store/database';
import { isUniqueViolation } from '../store/errors';
import type { ChannelRow, DialogRow, LineRow, MessageRow, WidgetVisitorRow } from '../store/schema';
import { decidedOnCurrentText, recordConsent, writeConsent } from './automation/consent';
import { submitContactForm } from './automation/contact-form';
import { rateByClient } from './automation/rating';
import { widgetAvailability } from './automation/schedule';
import { channelRuntime } from './channels';
import { dialogRecipients, emitMessage, touchDialog } from './dialog-events';
import { presentDialogs } from './dialogs';
import { fileIdFromUrl, fileUrl, storeFile } from './files';
import { receiveInbound } from './intake';
import { lineAsOf } from './line-rows';
import { presentMessage } from './message-presenter';
import { operatorShownToClient } from './messages';
import { hashToken } from './secrets';
import { runInTransaction } from './transaction';
import {
  type MessageLike,
  NO_SESSION,
  ourMessageIds,
  presentVisitorMessages,
  presentVisitorSession,
  rowAsMessageLike,
  visitorExternalId,
  visitorSessionStatus,
} from './widget-presenter';

// The widget's visitors (application service of the widget channel): who they are, what they may
// read and what they send. Every function takes the channel the public key named (its origin
// already checked by the route) and, past `startConversation`, the visitor its token named.

type Reader = Database;

/** Messages as the visitor sees them (widget-presenter), with the outbound payloads they need. */
async function visitorMessages(db: Reader, messages: MessageLike[]): Promise<VisitorMessage[]> {
  const ids = ourMessageIds(messages);
  const outbound = new Map<string, OutboundMessage>();
  if (ids.length > 0) {
    const rows = await db
      .selectFrom('outbox')
      .select(['message_id', 'payload'])
      .where('message_id', 'in', ids)
      .execute();
    for (const row of rows) {
      const payload = row.payload as OutboxPayload | null;
      if (row.message_id && payload?.kind === 'message' && payload.message)
        outbound.set(row.message_id, payload.message);
    }
  }
  return presentVisitorMessages(messages, outbound);
}

/** The session as the visitor sees it (widget-presenter), with the line's rating settings and operator. */
async function visitorSession(db: Reader, dialog: Dialog | null): Promise<VisitorSession> {
  const session = dialog?.session;
  if (!dialog || !session) return NO_SESSION;
  const line = await db
    .selectFrom('lines')
    .select('settings')
    .where('id', '=', session.lineId)
    .executeTakeFirst();
  const operator =
    visitorSessionStatus(dialog) === 'active' && session.operatorId
      ? await operatorShownToClient(db, line?.settings, session.operatorId)
      : null;
  return presentVisitorSession(dialog, { rating: line?.settings.rating, operator });
}

/** Visitor tokens: 256 random bits in the browser, their SHA-256 here. */
export const VISITOR_TOKEN_PREFIX = 'olv_';

const PUBLIC_KEY = /^[A-Za-z0-9_-]{10,64}$/;

/** The widget channel a snippet's public key names; 404 when unknown or disconnected (LN-5). */
/**
 * A widget channel as its public routes resolve it: with its line's version (`updated_at`), read in
 * the same statement, so what the routes need of the line's settings comes from the per-process
 * line cache (line-rows `lineAsOf`) instead of a read per request.
 */
export type WidgetChannel = ChannelRow & { line_updated_at: Date | null };

export async function resolveWidgetChannel(ctx: AppContext, key: string): Promise<WidgetChannel> {
  if (!PUBLIC_KEY.test(key)) throw notFound('The widget');
  const row = await ctx.store.db
    .selectFrom('channels')
    .leftJoin('lines', 'lines.id', 'channels.line_id')
    .selectAll('channels')
    .select('lines.updated_at as line_updated_at')
    .where('channels.kind', '=', 'widget')
    .where('channels.external_key', '=', key)
    .executeTakeFirst();
  if (!row) throw notFound('The widget');
  if (row.account_suspended) {
    throw new AppError('account_suspended', 'The account of this widget is suspended; it takes no messages');
  }
  if (row.status !== 'connected' || !row.line_id) {
    throw new AppError('not_found', 'The widget is disconnected', undefined, {
      reason: 'channel_disconnected',
    });
  }
  return row;
}

export function allowedDomainsOf(channel: ChannelRow): string[] {
  return storedWidgetSettings(channel.settings).allowedDomains;
}

/** The visitor a token names in this channel, or null. */
/** A widget visitor as the visitor socket holds it. */
export type WidgetVisitor = WidgetVisitorRow;

/** The dialog a visitor writes in, if they have written yet (for the visitor socket). */
export function visitorDialog(ctx: AppContext, channel: ChannelRow, externalId: string) {
  return dialogOfVisitor(ctx.store.db, channel, externalId);
}

/** One message event as the visitor sees it; none for what a visitor may not see (private notes). */
export async function visitorMessageOf(
  ctx: AppContext,
  message: MessageLike,
): Promise<VisitorMessage | null> {
  const [presented] = await visitorMessages(ctx.store.db, [message]);
  return presented ?? null;
}

/** The session as the visitor sees it, from the dialog of an event. */
export function visitorSessionOf(ctx: AppContext, dialog: Dialog | null): Promise<VisitorSession> {
  return visitorSession(ctx.store.db, dialog);
}

/** Whether the widget still serves its visitors: connected, and on the line their socket joined. */
export async function widgetStillServes(ctx: AppContext, channel: ChannelRow): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('channels')
    .select(['status', 'line_id', 'account_suspended'])
    .where('id', '=', channel.id)
    .executeTakeFirst();
  return row?.status === 'connected' && row.line_id === channel.line_id && !row.account_suspended;
}

export async function findVisitor(
  ctx: AppContext,
  channel: ChannelRow,
  token: string | null,
): Promise<WidgetVisitorRow | null> {
  if (!token?.startsWith(VISITOR_TOKEN_PREFIX) || token.length > 100) return null;
  const row = await ctx.store.db
    .selectFrom('widget_visitors')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('channel_id', '=', channel.id)
    .executeTakeFirst();
  return row ?? null;
}

/** Like findVisitor, but a missing or unknown token is 401: the widget starts a new conversation. */
export async function requireVisitor(
  ctx: AppContext,
  channel: ChannelRow,
  token: string | null,
): Promise<WidgetVisitorRow> {
  const visitor = await findVisitor(ctx, channel, token);
  if (!visitor) {
    throw new AppError('unauthenticated', 'The visitor token is missing or unknown; start a conversation');
  }
  return visitor;
}

// ----- Reading ----------------------------------------------------------------------------------

/** The dialog the visitor's messages go to: this channel, its current line, their identity. */
export async function dialogOfVisitor(
  db: Reader,
  channel: ChannelRow,
  externalId: string,
): Promise<DialogRow | null> {
  if (!channel.line_id) return null;
  const row = await db
    .selectFrom('dialogs')
    .innerJoin('client_identities', (join) =>
      join
        .onRef('client_identities.client_id', '=', 'dialogs.client_id')
        .onRef('client_identities.channel_id', '=', 'dialogs.channel_id'),
    )
    .selectAll('dialogs')
    .where('client_identities.channel_id', '=', channel.id)
    .where('client_identities.external_id', '=', externalId)
    .where('dialogs.line_id', '=', channel.line_id)
    .executeTakeFirst();
  return row ?? null;
}

async function presentedDialog(ctx: AppContext, row: DialogRow | null): Promise<Dialog | null> {
  if (!row) return null;
  const [dialog] = await presentDialogs(ctx.store.db, [row], ctx.clock.now());
  return dialog ?? null;
}

/** The last event cursor of the account: reading it before the history means nothing is missed. */
export async function currentCursor(db: Reader, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('accounts')
    .select('event_seq')
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.event_seq);
}

async function historyOf(
  db: Reader,
  dialogId: string,
  options: { before?: string; limit?: number },
): Promise<WidgetHistory> {
  const limit = options.limit ?? WIDGET_LIMITS.historyPage;
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('dialog_id', '=', dialogId)
    .where('private', '=', false)
    // Erased by the line's history setting (OT-1): nothing left to show.
    .where(sql<boolean>`(text is not null or attachments <> '[]'::jsonb or deleted_at is not null)`);
  if (options.before) {
    const anchor = await db
      .selectFrom('messages')
      .select(['created_at', 'seq'])
      .where('id', '=', options.before)
      .where('dialog_id', '=', dialogId)
      .executeTakeFirst();
    if (!anchor) throw notFound('The message');
    query = query.where(sql<boolean>`(created_at, seq) < (${anchor.created_at}, ${anchor.seq})`);
  }
  const rows: MessageRow[] = await query
    .orderBy('created_at', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit).reverse();
  return {
    items: await visitorMessages(db, page.map(rowAsMessageLike)),
    hasMore: rows.length > limit,
  };
}

export function presentVisitor(row: WidgetVisitorRow) {
  return { id: row.id, name: row.name, email: row.email, identified: row.user_id !== null };
}

/** The visitor's conversation: the cursor first, then the history and the session, so none is missed. */
export async function conversationOf(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
): Promise<WidgetConversation> {
  const db = ctx.store.db;
  const cursor = await currentCursor(db, channel.account_id);
  const dialog = await dialogOfVisitor(db, channel, visitor.external_id);
  const history = dialog ? await historyOf(db, dialog.id, {}) : { items: [], hasMore: false };
  const session = dialog ? await visitorSession(db, await presentedDialog(ctx, dialog)) : NO_SESSION;
  return {
    visitor: presentVisitor(visitor),
    cursor,
    messages: history.items,
    hasMore: history.hasMore,
    session,
    consentNeeded: await consentStillNeeded(ctx, channel, visitor, dialog),
  };
}

/**
 * AG-2, consent first: the line requires consent and the visitor has taken no decision, neither
 * here before writing nor (a visitor from before, or on another device) as their client.
 */
async function consentStillNeeded(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  dialog: DialogRow | null,
  line?: Pick<LineRow, 'id' | 'settings'>,
): Promise<boolean> {
  if (visitor.consent_decision !== null || !channel.line_id) return false;
  const settingsOf =
    line ??
    (await ctx.store.db
      .selectFrom('lines')
      .select(['id', 'settings'])
      .where('id', '=', channel.line_id)
      .executeTakeFirstOrThrow());
  if (!settingsOf.settings.agreement.required) return false;
  return !(dialog && (await decidedOnCurrentText(ctx.store.db, settingsOf, dialog.client_id)));
}

export async function visitorHistory(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  query: { before?: string; limit?: number },
): Promise<WidgetHistory> {
  const dialog = await dialogOfVisitor(ctx.store.db, channel, visitor.external_id);
  return dialog ? historyOf(ctx.store.db, dialog.id, query) : { items: [], hasMore: false };
}

/** What the widget needs before it draws anything: language, looks, schedule, limits. */
export async function widgetConfigOf(ctx: AppContext, channel: ChannelRow): Promise<WidgetConfig> {
  const settings = storedWidgetSettings(channel.settings);
  const line = await ctx.store.db
    .selectFrom('lines')
    .select('settings')
    .where('id', '=', channel.line_id!)
    .executeTakeFirstOrThrow();
  const availability = await widgetAvailability(ctx, channel);
  return {
    language: settings.language === 'auto' ? line.settings.other.language : settings.language,
    languageFixed: settings.language !== 'auto',
    appearance: settings.appearance,
    availability: {
      open: availability.open,
      nextOpenAt: availability.nextOpenAt,
      whenClosed: availability.whenClosed,
    },
    watchTyping: line.settings.queue.watchTyping,
    agreement: line.settings.agreement.required ? { text: line.settings.agreement.text } : null,
    greeting: line.settings.automaticActions.welcome.enabled
      ? automaticText(line.settings, 'widget', 'welcome')
      : null,
    contactFormFields: line.settings.automaticActions.contactForm.fields,
    limits: {
      textLength: WIDGET_LIMITS.textLength,
      attachments: WIDGET_LIMITS.attachments,
      uploadBytes: uploadLimit(ctx),
      uploadTypes: [...WIDGET_UPLOAD_TYPES],
    },
  };
}

// ----- Starting and identifying -----------------------------------------------------------------

/**
 * Starts or resumes a conversation. A known token resumes it; no token or an unknown one (cleared
 * storage, a rotated database) makes a new anonymous visitor, whose token is in this answer only.
 */
export async function startConversation(
  ctx: AppContext,
  channel: ChannelRow,
  token: string | null,
): Promise<WidgetConversation & { visitorRow: WidgetVisitorRow }> {
  const now = ctx.clock.now();
  const known = await findVisitor(ctx, channel, token);
  if (known) {
    const visitor = await ctx.store.db
      .updateTable('widget_visitors')
      .set({ last_seen_at: now })
      .where('id', '=', known.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...(await conversationOf(ctx, channel, visitor)), visitorRow: visitor };
  }
  const id = randomUUID();
  const newToken = VISITOR_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const visitor = await ctx.store.db
    .insertInto('widget_visitors')
    .values({
      id,
      account_id: channel.account_id,
      channel_id: channel.id,
      token_hash: hashToken(newToken),
      external_id: `v:${id}`,
      created_at: now,
      last_seen_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token: newToken, ...(await conversationOf(ctx, channel, visitor)), visitorRow: visitor };
}

/**
 * The site vouches for the visitor: `hash` is HMAC-SHA256 of `id` with the channel's identity
 * secret. A wrong hash is 403 and changes nothing. An anonymous visitor's conversation moves to the
 * identified client when that client has none in this channel yet; otherwise the visitor continues
 * the identified client's conversation (the anonymous one stays in the operators' history).
 */
export async function identifyVisitor(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  body: WidgetIdentifyBody,
): Promise<WidgetVisitorRow> {
  const secret = channelRuntime(ctx, channel).secrets.identitySecret;
  if (!secret) {
    throw new AppError('invalid_state', 'The widget has no identity secret; rotate its secrets');
  }
  if (!verifyIdentityHash(secret, body.id, body.hash)) {
    throw new AppError(
      'forbidden',
      'The identity hash does not match the id; compute it on your server with the identity secret',
      [{ field: 'body.hash', message: 'does not match body.id' }],
      { reason: 'identity_hash_invalid' },
    );
  }
  const target = `u:${body.id}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await runInTransaction(ctx, async (uow) => {
        const { tx } = uow;
        const current = await tx
          .selectFrom('widget_visitors')
          .selectAll()
          .where('id', '=', visitor.id)
          .forUpdate()
          .executeTakeFirstOrThrow();
        const switching = current.external_id !== target;
        if (switching && current.user_id === null) {
          const taken = await tx
            .selectFrom('client_identities')
            .select('client_id')
            .where('channel_id', '=', channel.id)
            .where('external_id', '=', target)
            .executeTakeFirst();
          if (!taken) {
            // The anonymous conversation becomes the identified client's.
            await tx
              .updateTable('client_identities')
              .set({ external_id: target })
              .where('channel_id', '=', channel.id)
              .where('external_id', '=', current.external_id)
              .execute();
          }
        }
        const updated = await tx
          .updateTable('widget_visitors')
          .set({
            external_id: target,
            user_id: body.id,
            name: body.name ?? (current.user_id === body.id ? current.name : null),
            email: body.email ?? (current.user_id === body.id ? current.email : null),
            last_seen_at: ctx.clock.now(),
          })
          .where('id', '=', visitor.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        const identity = await tx
          .selectFrom('client_identities')
          .select('client_id')
          .where('channel_id', '=', channel.id)
          .where('external_id', '=', target)
          .executeTakeFirst();
        let renamed = false;
        if (identity && (body.name || body.email)) {
          const client = await tx
            .selectFrom('clients')
            .select(['name', 'email'])
            .where('id', '=', identity.client_id)
            .executeTakeFirstOrThrow();
          renamed = Boolean(
            (body.name && body.name !== client.name) || (body.email && body.email !== client.email),
          );
          if (renamed) {
            await tx
              .updateTable('clients')
              .set({
                ...(body.name ? { name: body.name } : {}),
                ...(body.email ? { email: body.email } : {}),
              })
              .where('id', '=', identity.client_id)
              .execute();
          }
        }
        // Operators see the new identity or name; a site repeating identify on every page changes nothing.
        const dialog = switching || renamed ? await dialogOfVisitor(tx, channel, target) : null;
        if (dialog) touchDialog(ctx, uow, channel.account_id, dialog.id);
        // AG-2: a decision taken here before writing joins the identified client's conversation,
        // which the visitor's first message would otherwise no longer carry it to.
        if (dialog && switching && current.consent_decision && current.consent_at) {
          const line = await tx
            .selectFrom('lines')
            .selectAll()
            .where('id', '=', dialog.line_id)
            .executeTakeFirstOrThrow();
          if (line.settings.agreement.required) {
            await writeConsent(ctx, uow, {
              line,
              clientId: dialog.client_id,
              channelId: channel.id,
              sessionId: null,
              dialogId: dialog.id,
              how: 'button',
              decision: current.consent_decision,
              at: new Date(current.consent_at),
            });
          }
        }
        return updated;
      });
    } catch (error) {
      // Two anonymous visitors identified as the same new user at once: the second one joins.
      if (attempt < 2 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

// ----- Sending ----------------------------------------------------------------------------------

function uploadLimit(ctx: AppContext): number {
  return Math.min(WIDGET_LIMITS.uploadBytes, ctx.config.maxUploadBytes);
}

/**
 * Attachments of a visitor's message must be files this visitor uploaded here: the widget never
 * forwards a link of the page's choosing to the operators. Name, type and size come from our rows.
 */
async function ownAttachments(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  attachments: Attachment[],
): Promise<Attachment[]> {
  if (attachments.length === 0) return [];
  const ids = attachments.map((attachment) => fileIdFromUrl(attachment.url));
  const rows =
    ids.every((id) => id !== null) && ids.length > 0
      ? await ctx.store.db
          .selectFrom('files')
          .select(['id', 'name', 'mime_type', 'size'])
          .where('account_id', '=', channel.account_id)
          .where('uploaded_by_kind', '=', 'client')
          .where('uploaded_by_id', '=', visitor.id)
          .where('id', 'in', ids as string[])
          .execute()
      : [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id, index) => {
    const row = byId.get(id ?? '');
    if (!row) {
      throw new AppError('validation_failed', 'Attach files uploaded through the widget only', [
        { field: `body.attachments.${index}.url`, message: 'is not a file uploaded by this visitor' },
      ]);
    }
    return {
      name: row.name,
      mimeType: row.mime_type,
      size: Number(row.size),
      url: fileUrl(ctx, row.id, row.name, ctx.publicUrl.value),
    };
  });
}

/** Visitors whose reported page this process has copied to their identity (sendVisitorMessage). */
const pageCopied = new Set<string>();
const MAX_PAGE_COPIED = 100_000;

/** Stores a visitor's message once per clientMessageId: a retry returns the stored message. */
export async function sendVisitorMessage(
  ctx: AppContext,
  channel: WidgetChannel,
  visitor: WidgetVisitorRow,
  body: WidgetSendBody,
): Promise<WidgetSendResult> {
  const attachments = await ownAttachments(ctx, channel, visitor, body.attachments ?? []);
  const text = body.text?.trim() ? body.text : undefined;
  if (!text && attachments.length === 0) {
    throw new AppError('validation_failed', 'A message needs text or an attachment', [
      { field: 'body.text', message: 'is required when there are no attachments' },
    ]);
  }
  const consent = await consentOfFirstMessage(ctx, channel, visitor);
  const result = await receiveInbound(ctx, channel, {
    ...consent,
    externalId: visitorExternalId(visitor.id, body.clientMessageId),
    user: {
      id: visitor.external_id,
      ...(visitor.name ? { name: visitor.name } : {}),
      ...(visitor.email ? { email: visitor.email } : {}),
    },
    ...(text ? { text } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  });
  if (visitor.page_url && !result.duplicate && !pageCopied.has(visitor.id)) {
    // The page reported before the first message: the identity exists now, so the card shows it.
    // Once copied, later reports go to the identity directly (visitorPage), so each visitor's
    // copy is tried once per process, not on every message.
    if (pageCopied.size >= MAX_PAGE_COPIED) pageCopied.clear();
    pageCopied.add(visitor.id);
    await ctx.store.db
      .updateTable('client_identities')
      .set({ page_url: visitor.page_url, page_referrer: visitor.page_referrer, page_at: visitor.page_at })
      .where('channel_id', '=', channel.id)
      .where('external_id', '=', visitor.external_id)
      .where('page_at', 'is', null)
      .execute();
  }
  const row = await ctx.store.db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', result.messageId)
    .executeTakeFirstOrThrow();
  const [message] = await visitorMessages(ctx.store.db, [rowAsMessageLike(row)]);
  return { message: message as VisitorMessage, duplicate: result.duplicate };
}

/**
 * AG-2 on a line that requires consent: a visitor who has neither agreed nor declined may not
 * write yet (409 consent_required; the widget shows the agreement first). A decision taken before
 * the first message goes with that message into `consents`, as pressed and when. Lines without the
 * agreement pay nothing: the line's settings come from the line cache (see WidgetChannel).
 */
async function consentOfFirstMessage(
  ctx: AppContext,
  channel: WidgetChannel,
  visitor: WidgetVisitorRow,
): Promise<Pick<InboundMessage, 'consent' | 'consentTaken'>> {
  if (!channel.line_id || !channel.line_updated_at) return {};
  const line = await lineAsOf(ctx.store.db, channel.line_id, channel.line_updated_at);
  if (!line.settings.agreement.required) return {};
  const dialog = await dialogOfVisitor(ctx.store.db, channel, visitor.external_id);
  if (await consentStillNeeded(ctx, channel, visitor, dialog, line)) {
    throw new AppError(
      'consent_required',
      'Agree or decline the processing of personal data first: POST consent or consent/refuse',
      undefined,
      { reason: 'consent_first' },
    );
  }
  if (dialog || !visitor.consent_decision || !visitor.consent_at) return {};
  return {
    consent: visitor.consent_decision,
    consentTaken: { how: 'button', at: new Date(visitor.consent_at) },
  };
}

const IMAGE_SIGNATURES: Record<string, (data: Buffer) => boolean> = {
  'image/png': (data) =>
    data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (data) => data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff,
  'image/gif': (data) => data.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (data) =>
    data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP',
};

export function uploadLimitBytes(ctx: AppContext): number {
  return uploadLimit(ctx);
}

/** A visitor's upload: allowed types only, images must really be images, size within the limit. */
export async function storeVisitorFile(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  file: { filename: string; mimetype: string; data: Buffer },
): Promise<Attachment> {
  const type = file.mimetype.toLowerCase();
  if (!(WIDGET_UPLOAD_TYPES as readonly string[]).includes(type)) {
    throw new AppError(
      'unsupported_media_type',
      'This type of file cannot be sent: send images (PNG, JPEG, GIF, WebP), PDF, text, office documents or ZIP',
      [{ field: 'file', message: `type ${type || 'unknown'} is not allowed` }],
      { allowedTypes: [...WIDGET_UPLOAD_TYPES] },
    );
  }
  const limit = uploadLimit(ctx);
  if (file.data.length > limit) {
    throw new AppError('payload_too_large', `Files may be at most ${Math.floor(limit / 1024 / 1024)} MB`, [
      { field: 'file', message: `is larger than ${limit} bytes` },
    ]);
  }
  const signature = IMAGE_SIGNATURES[type];
  if (signature && !signature(file.data)) {
    throw new AppError('unsupported_media_type', `The file is not a ${type.slice(6).toUpperCase()} image`, [
      { field: 'file', message: 'content does not match its type' },
    ]);
  }
  const stored = await storeFile(
    ctx,
    {
      accountId: channel.account_id,
      name: file.filename,
      mimeType: type,
      data: file.data,
      uploadedBy: { kind: 'client', id: visitor.id },
    },
    ctx.publicUrl.value,
  );
  return stored.attachment;
}

/**
 * The visitor is typing: a transient signal to the operators of the dialog; with the text only
 * when the line lets operators watch typing (AA-8). Nothing is stored.
 */
export async function visitorTyping(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  text: string | null,
): Promise<void> {
  const row = await dialogOfVisitor(ctx.store.db, channel, visitor.external_id);
  const dialog = await presentedDialog(ctx, row);
  const session = dialog?.session;
  if (!dialog || !session || dialog.spam || !(session.status === 'queued' || hasOperator(session.status))) {
    return;
  }
  const line = await ctx.store.db
    .selectFrom('lines')
    .select('settings')
    .where('id', '=', session.lineId)
    .executeTakeFirst();
  const watch = line?.settings.queue.watchTyping === true;
  const users = await dialogRecipients(ctx.store.db, dialog);
  await ctx.bus.publish([
    {
      accountId: channel.account_id,
      audience: { users, lineId: session.lineId, dialogId: dialog.id },
      transient: {
        type: 'typing',
        data: {
          dialogId: dialog.id,
          lineId: session.lineId,
          author: 'client',
          userId: null,
          text: watch ? (text ?? '').slice(0, WIDGET_LIMITS.typingText) || null : null,
        },
      },
    },
  ]);
}

/**
 * A read receipt from the widget (issue 19): the visitor has seen our side's messages up to
 * `messageId` (the panel was open and the page visible). They move to `read`, forward only, with a
 * 'message.updated' event each, so the operator sees "Read". A message of another dialog, a
 * visitor's own message or an unknown id changes nothing.
 */
export async function visitorSeen(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  messageId: string,
): Promise<number> {
  if (!/^[0-9a-f-]{36}$/i.test(messageId)) return 0;
  const dialog = await dialogOfVisitor(ctx.store.db, channel, visitor.external_id);
  if (!dialog) return 0;
  return runInTransaction(ctx, async (uow) => {
    const rows = await uow.tx
      .updateTable('messages')
      .set({ delivery_state: 'read', delivery_error: null })
      .where('dialog_id', '=', dialog.id)
      .where('author_kind', '!=', 'client')
      .where('private', '=', false)
      .where('delivery_state', 'in', ['sent', 'delivered'])
      // Insertion order, so messages written in the same millisecond are told apart.
      .where('seq', '<=', (eb) =>
        eb
          .selectFrom('messages as seen')
          .select('seen.seq')
          .where('seen.id', '=', messageId)
          .where('seen.dialog_id', '=', dialog.id),
      )
      .returningAll()
      .execute();
    for (const row of rows) emitMessage(ctx, uow, 'message.updated', presentMessage(row), channel.account_id);
    return rows.length;
  });
}

/** Only absolute http(s) addresses: anything else could run script as a link in the card. */
function pageUrlOf(value: string, field: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AppError('validation_failed', 'The page address must be an absolute http or https URL', [
      { field, message: 'must be an absolute http or https URL' },
    ]);
  }
  return value;
}

/**
 * The page the visitor is on and where they came from (issue 19), reported by the widget on start
 * and when the page changes. Kept on the visitor; once they have written, on their client identity
 * too, and the dialog is touched so the operator's client card shows the new page.
 */
export async function visitorPage(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  page: WidgetPageBody,
): Promise<void> {
  const url = pageUrlOf(page.url, 'body.url');
  const referrer = page.referrer ? pageUrlOf(page.referrer, 'body.referrer') : null;
  if (visitor.page_url === url && visitor.page_referrer === referrer) return;
  const now = ctx.clock.now();
  const values = { page_url: url, page_referrer: referrer, page_at: now };
  await runInTransaction(ctx, async (uow) => {
    await uow.tx.updateTable('widget_visitors').set(values).where('id', '=', visitor.id).execute();
    const identity = await uow.tx
      .updateTable('client_identities')
      .set(values)
      .where('channel_id', '=', channel.id)
      .where('external_id', '=', visitor.external_id)
      .returning('client_id')
      .executeTakeFirst();
    if (!identity) return;
    const dialog = await dialogOfVisitor(uow.tx, channel, visitor.external_id);
    if (dialog) touchDialog(ctx, uow, channel.account_id, dialog.id);
  });
}

// ----- Consent, contact form, rating (line automation) -------------------------------------------

/** AG-2: the visitor pressed "I agree" (or "I do not agree") under the agreement text. */
export async function visitorConsents(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  decision: 'given' | 'refused' = 'given',
) {
  const dialog = await dialogOfVisitor(ctx.store.db, channel, visitor.external_id);
  // Before the first message there is no client yet: the decision waits on the visitor's row and
  // goes into `consents` with that message (sendVisitorMessage).
  if (dialog) {
    await recordConsent(ctx, { channel, clientExternalId: visitor.external_id, how: 'button', decision });
  }
  // Given wins: a visitor who agreed and then pressed "I do not agree" keeps the consent on record.
  await ctx.store.db
    .updateTable('widget_visitors')
    .set({ consent_decision: decision, consent_at: ctx.clock.now() })
    .where('id', '=', visitor.id)
    .where((eb) => eb.or([eb('consent_decision', 'is', null), eb('consent_decision', '=', 'refused')]))
    .execute();
}

/** AA-2: the contact form; the visitor's name and e-mail also go with their later messages. */
export async function visitorContactForm(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  fields: WidgetContactFormBody,
) {
  await submitContactForm(ctx, { channel, clientExternalId: visitor.external_id, fields });
  if (fields.name || fields.email) {
    await ctx.store.db
      .updateTable('widget_visitors')
      .set({
        ...(fields.name ? { name: fields.name } : {}),
        ...(fields.email ? { email: fields.email } : {}),
      })
      .where('id', '=', visitor.id)
      .execute();
  }
}

/** QR-1: like or dislike, with an optional comment; 409 when the line is not asking for one. */
export async function visitorRates(
  ctx: AppContext,
  channel: ChannelRow,
  visitor: WidgetVisitorRow,
  rating: { value: 'like' | 'dislike'; comment?: string },
) {
  await rateByClient(ctx, {
    channel,
    clientExternalId: visitor.external_id,
    value: rating.value,
    ...(rating.comment ? { comment: rating.comment } : {}),
  });
}
