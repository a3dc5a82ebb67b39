import { type Static, Type } from '@sinclair/typebox';
import { Timestamp } from './common';
import { AttachmentSchema, MaxMessageText } from './conversations';

// The website widget's public API (SPEC LN-6, WH-3, AG-2, AA-2, QR-1, Q-8, AA-8): what a visitor's
// browser sends and receives under /api/v1/widget/<channel key>/…, and over the visitor WebSocket.
// Visitors never see operator ids, other dialogs, private messages or the line's settings: only
// these shapes.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** Limits of the public endpoints, shared by the server (validation) and the widget (messages). */
export const WIDGET_LIMITS = {
  textLength: MaxMessageText,
  /** Attachments per message. */
  attachments: 5,
  /** Largest upload from a visitor (the server's MAX_UPLOAD_BYTES applies too, whichever is lower). */
  uploadBytes: 10 * 1024 * 1024,
  commentLength: 1000,
  typingText: 2000,
  /** Messages returned per history page. */
  historyPage: 50,
} as const;

/** What a visitor may upload: images (shown inline), PDFs, office documents, text and archives. */
export const WIDGET_UPLOAD_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/zip',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
] as const;

export const WidgetLanguageSchema = Type.Union([Type.Literal('ru'), Type.Literal('en')]);
export type WidgetLanguage = Static<typeof WidgetLanguageSchema>;

export const WidgetAppearanceSchema = Type.Object(
  {
    color: Type.String({ description: 'Accent colour, #rrggbb' }),
    position: Type.Union([Type.Literal('right'), Type.Literal('left')]),
    title: Nullable(Type.String({ description: 'Header title; null = the default "Chat with us"' })),
  },
  { title: 'WidgetAppearance' },
);
export type WidgetAppearance = Static<typeof WidgetAppearanceSchema>;

export const WidgetConfigSchema = Type.Object(
  {
    /** The line's notification language, or the channel's choice; the page's language may win. */
    language: WidgetLanguageSchema,
    languageFixed: Type.Boolean({ description: 'True when the channel fixes the language (page ignored)' }),
    appearance: WidgetAppearanceSchema,
    availability: Type.Object({
      open: Type.Boolean(),
      nextOpenAt: Nullable(Timestamp),
      whenClosed: Type.Union([Type.Literal('hide'), Type.Literal('offline_form')]),
    }),
    /** AA-8: operators see the text being typed; the widget sends it only then. */
    watchTyping: Type.Boolean(),
    /**
     * AG-2: the line requires consent to process personal data; the widget shows this text with
     * "I agree" / "I do not agree" before the first message. null when the line does not ask.
     */
    agreement: Nullable(Type.Object({ text: Type.String() })),
    /** AA-1: the line's welcome text, shown before the first message; null when the line has none. */
    greeting: Nullable(Type.String()),
    /** AA-2: the fields the contact form asks for. */
    contactFormFields: Type.Array(
      Type.Union([Type.Literal('name'), Type.Literal('phone'), Type.Literal('email')]),
    ),
    limits: Type.Object({
      textLength: Type.Integer(),
      attachments: Type.Integer(),
      uploadBytes: Type.Integer(),
      uploadTypes: Type.Array(Type.String()),
    }),
  },
  { title: 'WidgetConfig' },
);
export type WidgetConfig = Static<typeof WidgetConfigSchema>;

/** A message as the visitor sees it: the operator as the line shows them, never their id. */
export const VisitorMessageSchema = Type.Object(
  {
    id: Type.String(),
    author: Type.Union([
      Type.Literal('visitor'),
      Type.Literal('operator'),
      Type.Literal('bot'),
      Type.Literal('system'),
    ]),
    /** Operator/bot name per the line's OPERATOR_DATA; null when hidden and for the visitor. */
    name: Nullable(Type.String()),
    avatarUrl: Nullable(Type.String()),
    /** null once erased (the line does not keep history) */
    text: Nullable(Type.String()),
    attachments: Type.Array(AttachmentSchema),
    createdAt: Timestamp,
    /** The visitor's own id for a message they sent (matches a message queued while offline). */
    clientMessageId: Nullable(Type.String()),
    /** What an automatic message is: `rating_request`, `consent_request`, `contact_form_request`, … */
    systemKind: Nullable(Type.String()),
    quickReplies: Type.Array(Type.Object({ title: Type.String(), reply: Type.String() })),
    /** The text was changed after it was written; the widget marks it "edited". */
    editedAt: Nullable(Timestamp),
    /** Withdrawn: the widget shows "Message deleted" in its place. */
    deleted: Type.Boolean(),
    /** Our side's message was seen by the visitor (a read receipt the widget sent). */
    seen: Type.Boolean(),
  },
  { title: 'VisitorMessage' },
);
export type VisitorMessage = Static<typeof VisitorMessageSchema>;

/** The visitor's current conversation episode, as much as they may know of it. */
export const VisitorSessionSchema = Type.Object(
  {
    status: Type.Union(
      [Type.Literal('none'), Type.Literal('waiting'), Type.Literal('active'), Type.Literal('closed')],
      { description: 'none: never wrote; waiting: no operator yet; active: an operator has it; closed' },
    ),
    operator: Nullable(Type.Object({ name: Nullable(Type.String()), avatarUrl: Nullable(Type.String()) })),
    /** AG-2: the agreement was sent and the visitor has not pressed "I agree" yet. */
    consentPending: Type.Boolean(),
    /** QR-1: the visitor was asked to rate and has not yet. */
    ratingPending: Type.Boolean(),
    /** QR-2: the line lets the visitor rate now without being asked (before the end). */
    ratingAllowed: Type.Boolean(),
  },
  { title: 'VisitorSession' },
);
export type VisitorSession = Static<typeof VisitorSessionSchema>;

export const VisitorSchema = Type.Object(
  {
    id: Type.String(),
    name: Nullable(Type.String()),
    email: Nullable(Type.String()),
    identified: Type.Boolean({ description: 'The site vouched for this visitor with an identity hash' }),
  },
  { title: 'Visitor' },
);
export type Visitor = Static<typeof VisitorSchema>;

export const WidgetConversationSchema = Type.Object(
  {
    /** Present only when a new visitor was created: keep it, send it as `Authorization: Bearer`. */
    token: Type.Optional(Type.String()),
    visitor: VisitorSchema,
    /** Resume the visitor socket with `after=<cursor>`: nothing after the history below is missed. */
    cursor: Type.Integer(),
    messages: Type.Array(VisitorMessageSchema),
    hasMore: Type.Boolean({ description: 'Older messages exist: page with GET messages?before=<id>' }),
    session: VisitorSessionSchema,
    /**
     * AG-2, consent first: the line requires consent and this visitor has neither agreed nor
     * declined, so POST …/messages answers 409 \`consent_required\` until they press a button.
     */
    consentNeeded: Type.Boolean(),
  },
  { title: 'WidgetConversation' },
);
export type WidgetConversation = Static<typeof WidgetConversationSchema>;

export const WidgetIdentifyBody = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, description: "The visitor's id on the site" }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    hash: Type.String({
      minLength: 64,
      maxLength: 64,
      description: 'hex HMAC-SHA256 of `id` with the channel identity secret, computed on the site server',
    }),
  },
  { additionalProperties: false },
);
export type WidgetIdentifyBody = Static<typeof WidgetIdentifyBody>;

export const WidgetSendBody = Type.Object(
  {
    clientMessageId: Type.String({
      minLength: 8,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Idempotency key made by the widget: a retry is stored once',
    }),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: WIDGET_LIMITS.textLength })),
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: WIDGET_LIMITS.attachments })),
  },
  { additionalProperties: false },
);
export type WidgetSendBody = Static<typeof WidgetSendBody>;

export const WidgetSendResultSchema = Type.Object({
  message: VisitorMessageSchema,
  duplicate: Type.Boolean({ description: 'This clientMessageId was stored before' }),
});
export type WidgetSendResult = Static<typeof WidgetSendResultSchema>;

export const WidgetHistoryQuery = Type.Object(
  {
    before: Type.Optional(Type.String({ format: 'uuid', description: 'A message id: older messages' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: WIDGET_LIMITS.historyPage })),
  },
  { additionalProperties: false },
);

export const WidgetHistorySchema = Type.Object({
  items: Type.Array(VisitorMessageSchema),
  hasMore: Type.Boolean(),
});
export type WidgetHistory = Static<typeof WidgetHistorySchema>;

export const WidgetTypingBody = Type.Object(
  { text: Type.Optional(Nullable(Type.String({ maxLength: WIDGET_LIMITS.typingText }))) },
  { additionalProperties: false },
);

/** A page address the widget reports: absolute http(s), at most this long (longer ones are cut by the widget). */
export const WIDGET_PAGE_URL_LENGTH = 2048;
const PageUrl = Type.String({
  minLength: 1,
  maxLength: WIDGET_PAGE_URL_LENGTH,
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$',
  description: 'An absolute http or https URL',
});

/** The page the visitor is on and the page they came from (the client card shows both). */
export const WidgetPageBody = Type.Object(
  { url: PageUrl, referrer: Type.Optional(Nullable(PageUrl)) },
  { additionalProperties: false },
);
export type WidgetPageBody = Static<typeof WidgetPageBody>;

export const WidgetContactFormBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(Type.String({ minLength: 3, maxLength: 50, pattern: '^[0-9+()\\-. ]+$' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type WidgetContactFormBody = Static<typeof WidgetContactFormBody>;

export const WidgetRatingBody = Type.Object(
  {
    value: Type.Union([Type.Literal('like'), Type.Literal('dislike')]),
    comment: Type.Optional(Type.String({ minLength: 1, maxLength: WIDGET_LIMITS.commentLength })),
  },
  { additionalProperties: false },
);
export type WidgetRatingBody = Static<typeof WidgetRatingBody>;

/** The install snippet of a widget channel, for the administrator. */
export const WidgetSnippetSchema = Type.Object(
  {
    publicKey: Type.String(),
    loaderUrl: Type.String(),
    snippet: Type.String({ description: 'Paste before </body> on every page of the site' }),
  },
  { title: 'WidgetSnippet' },
);
export type WidgetSnippet = Static<typeof WidgetSnippetSchema>;

/** Frames the server sends on the visitor socket. Every frame with a cursor may be resumed after. */
export type VisitorServerFrame =
  | { kind: 'hello'; cursor: number }
  | { kind: 'message'; cursor: number; message: VisitorMessage }
  | { kind: 'session'; cursor: number; session: VisitorSession }
  | { kind: 'replayed'; cursor: number }
  /** The events after the asked cursor are no longer kept: reload the conversation; live after `cursor`. */
  | { kind: 'resync'; cursor: number }
  | { kind: 'typing'; typing: boolean }
  | { kind: 'error'; code: string; message: string };

/** Frames the widget sends: `auth` first (the token never goes in the URL), then typing or pings. */
export type VisitorClientFrame =
  | { kind: 'auth'; token: string }
  | { kind: 'typing'; text?: string | null }
  /** A read receipt: the visitor has seen our messages up to this one (the panel open, the page visible). */
  | { kind: 'seen'; messageId: string }
  | { kind: 'ping' };
