/**
 * Chatbots (SPEC §7): the account's bots, the built-in no-code bot's definition, and the bodies of
 * the bot API an external bot acts with. Managed with the `manageIntegrations` permission.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { IdSchema, Timestamp } from './common';
import { AttachmentSchema } from './conversations';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const BOT_LIMITS = {
  name: 100,
  url: 2048,
  steps: 50,
  options: 12,
  /** Telegram's callback data is 64 bytes: a button's title is what the client's tap sends back. */
  buttonTitle: 30,
  keywords: 20,
  keyword: 50,
  text: 2000,
  stepId: 40,
} as const;
const B = BOT_LIMITS;

export const BOT_KINDS = ['external', 'builtin'] as const;
export type BotKind = (typeof BOT_KINDS)[number];

/** A step's id: letters, digits, `_` and `-`, so it reads well in a definition and in a URL. */
const StepId = Type.String({ minLength: 1, maxLength: B.stepId, pattern: '^[A-Za-z0-9_-]+$' });
const BotText = Type.String({ minLength: 1, maxLength: B.text });

/** What choosing an option does (BOT-3). */
export const BotActionSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('step'), step: StepId }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('answer'), text: BotText }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('queue') }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('operator'), userId: IdSchema }, { additionalProperties: false }),
    Type.Object(
      { type: Type.Literal('department'), departmentId: IdSchema },
      { additionalProperties: false },
    ),
    Type.Object({ type: Type.Literal('contact_form') }, { additionalProperties: false }),
  ],
  {
    description:
      'step: go to another step; answer: reply with a text and stay; queue: hand to the operators; ' +
      'operator / department: hand to that operator, or to a free member of that department; ' +
      'contact_form: ask for the client’s contact details; the next message (or the widget’s form) ' +
      'gives them, for the client card and the CRM contact, then the operators take over',
  },
);
export type BotAction = Static<typeof BotActionSchema>;

export const BotOptionSchema = Type.Object(
  {
    /** Shown as a button (widget, Telegram inline keyboard); tapping it sends the title back. */
    title: Type.String({ minLength: 1, maxLength: B.buttonTitle }),
    /** Words that choose this option when the client types instead; matched on word stems (ru, en). */
    keywords: Type.Array(Type.String({ minLength: 1, maxLength: B.keyword }), {
      maxItems: B.keywords,
      default: [],
    }),
    action: BotActionSchema,
  },
  { additionalProperties: false },
);
export type BotOption = Static<typeof BotOptionSchema>;

export const BotStepSchema = Type.Object(
  {
    id: StepId,
    text: BotText,
    options: Type.Array(BotOptionSchema, { maxItems: B.options, default: [] }),
  },
  { additionalProperties: false },
);
export type BotStep = Static<typeof BotStepSchema>;

/** A menu/FAQ bot: the first step greets; every client message is matched against the step's options. */
export const BuiltinBotDefinitionSchema = Type.Object(
  {
    steps: Type.Array(BotStepSchema, { minItems: 1, maxItems: B.steps }),
    /** The step the bot starts with; the first step when absent. */
    start: Type.Optional(StepId),
    /** Said when a message matches no option; the step's options are shown again. */
    fallbackText: BotText,
    /** After this many unmatched messages in a row the session goes to the operators; 0 = never. */
    handOverAfterMisses: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  },
  { additionalProperties: false, title: 'BuiltinBotDefinition' },
);
export type BuiltinBotDefinition = Static<typeof BuiltinBotDefinitionSchema>;

const WebhookUrl = Type.String({
  format: 'uri',
  minLength: 1,
  maxLength: B.url,
  description: 'http(s) URL that receives the bot’s events as signed JSON POSTs (X-Openlines-Signature)',
});
const AvatarUrl = Nullable(Type.String({ format: 'uri', maxLength: B.url }));
const BotName = Type.String({ minLength: 1, maxLength: B.name });

export const BotSchema = Type.Object(
  {
    id: IdSchema,
    kind: Type.Union([Type.Literal('external'), Type.Literal('builtin')]),
    name: Type.String(),
    avatarUrl: Nullable(Type.String()),
    /** External bots only. */
    webhookUrl: Nullable(Type.String()),
    /** The first characters of the bot's token, to tell tokens apart (external bots). */
    tokenPrefix: Nullable(Type.String()),
    /** Built-in bots only: the current definition; sessions keep the version they started with. */
    definition: Nullable(BuiltinBotDefinitionSchema),
    version: Type.Integer(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Bot' },
);
export type Bot = Static<typeof BotSchema>;

export const CreateBotBody = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('external'),
      name: BotName,
      avatarUrl: Type.Optional(AvatarUrl),
      webhookUrl: WebhookUrl,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('builtin'),
      name: BotName,
      avatarUrl: Type.Optional(AvatarUrl),
      definition: BuiltinBotDefinitionSchema,
    },
    { additionalProperties: false },
  ),
]);
export type CreateBotInput = Static<typeof CreateBotBody>;

export const UpdateBotBody = Type.Object(
  {
    name: Type.Optional(BotName),
    avatarUrl: Type.Optional(AvatarUrl),
    webhookUrl: Type.Optional(WebhookUrl),
    definition: Type.Optional(BuiltinBotDefinitionSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateBotInput = Static<typeof UpdateBotBody>;

/** An external bot's secrets, shown once when it is created or its secrets are rotated. */
export const BotSecretsSchema = Type.Object(
  {
    /** `Authorization: Bearer olb_…` on the bot API. */
    token: Type.String(),
    /** Signs the events (X-Openlines-Signature); verify it with HMAC-SHA256. */
    webhookSecret: Type.String(),
  },
  { title: 'BotSecrets' },
);
export const CreatedBotSchema = Type.Object(
  { bot: BotSchema, secrets: Nullable(BotSecretsSchema) },
  { title: 'CreatedBot' },
);

/** Try a built-in definition before saving it: the bot's replies to a conversation, in order. */
export const BotPreviewBody = Type.Object(
  {
    definition: BuiltinBotDefinitionSchema,
    /** The client's messages, in order. */
    messages: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 50 }),
  },
  { additionalProperties: false },
);
export const BotPreviewSchema = Type.Object(
  {
    turns: Type.Array(
      Type.Object({
        author: Type.Union([Type.Literal('client'), Type.Literal('bot'), Type.Literal('system')]),
        text: Type.String(),
        buttons: Type.Array(Type.String()),
      }),
    ),
    /** How the conversation left the bot, if it did: `queue`, `operator`, `department`, `contact_form`. */
    handedOver: Nullable(Type.String()),
  },
  { title: 'BotPreview' },
);
export type BotPreview = Static<typeof BotPreviewSchema>;

// ----- The bot API (an external bot acting with its token) ------------------------------------

export const BotButtonSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: B.buttonTitle }),
    /** What a tap sends back as the client's message; the title when absent. */
    reply: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const BotSendBody = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: 10 })),
    /** Quick replies: buttons in the widget, an inline keyboard in Telegram. */
    buttons: Type.Optional(Type.Array(BotButtonSchema, { maxItems: B.options })),
  },
  { additionalProperties: false },
);
export type BotSendInput = Static<typeof BotSendBody>;

export const BotTransferBody = Type.Union([
  Type.Object({ to: Type.Literal('queue') }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('operator'), operatorId: IdSchema }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('line'), lineId: IdSchema }, { additionalProperties: false }),
]);
export type BotTransferInput = Static<typeof BotTransferBody>;

export const BotSessionParams = Type.Object({ sessionId: IdSchema }, { additionalProperties: false });

/** The events a bot receives (signed POSTs to its webhook URL). */
export const BOT_EVENT_TYPES = ['session.started', 'message.created', 'session.left'] as const;
export type BotEventType = (typeof BOT_EVENT_TYPES)[number];
