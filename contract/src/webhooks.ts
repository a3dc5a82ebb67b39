import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Timestamp } from './common';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/**
 * Event webhooks (SPEC PL-1, CRM-4): an integration subscribes a URL to the events it wants and
 * gets each one as a signed POST from the durable webhook outbox (docs/webhooks.md).
 */

/** Every event a subscription may ask for, in the order the admin screen lists them. */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'session.started',
  'session.assigned',
  'session.transferred',
  'session.closed',
  'rating.received',
  'kpi.breached',
  'channel.failing',
  'crm.record.created',
  'crm.record.updated',
  'crm.stage.changed',
  'crm.record.converted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Types that may be subscribed to but that this version does not produce (none today). */
export const RESERVED_WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [];

export const WebhookEventTypeSchema = Type.Union(
  WEBHOOK_EVENT_TYPES.map((type) => Type.Literal(type)),
  { description: 'An event type (docs/webhooks.md lists their payloads)' },
);

/** The longest URL a subscription takes (and the column accepts). */
export const MAX_WEBHOOK_URL = 2048;

export const WebhookStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('paused')], {
  description:
    'paused: deliveries kept failing, or an administrator paused it; events keep being queued and are sent, in order, after it is resumed',
});

export const WebhookSchema = Type.Object(
  {
    id: IdSchema,
    url: Type.String(),
    description: Type.String(),
    events: Type.Array(WebhookEventTypeSchema),
    lineIds: Type.Array(IdSchema, {
      description: 'Only events of these lines (events that belong to no line are always sent); empty: all',
    }),
    status: WebhookStatusSchema,
    pausedReason: Nullable(
      Type.String({
        description:
          'The last error of a webhook paused after `consecutiveFailures` failed attempts; null when an administrator paused it',
      }),
    ),
    pausedAt: Nullable(Timestamp),
    /** Failed attempts in a row; at the pause threshold the subscription is paused. */
    consecutiveFailures: Type.Integer(),
    pending: Type.Integer({ description: 'Deliveries waiting to be sent (or retried)' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Webhook' },
);
export type Webhook = Static<typeof WebhookSchema>;

/** A new subscription, with its signing secret: shown this once, never again. */
export const WebhookWithSecretSchema = Type.Object(
  { webhook: WebhookSchema, secret: Type.String({ description: 'whs_…: the HMAC-SHA256 signing key' }) },
  { title: 'WebhookWithSecret' },
);
export type WebhookWithSecret = Static<typeof WebhookWithSecretSchema>;

const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: MAX_WEBHOOK_URL,
  description:
    'http(s) URL; private, loopback and link-local addresses are refused unless the server allows them',
});
const WebhookDescription = Type.String({ maxLength: 200 });
const WebhookEvents = Type.Array(WebhookEventTypeSchema, {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  uniqueItems: true,
});
const WebhookLineIds = Type.Array(IdSchema, { maxItems: 100, uniqueItems: true });

export const CreateWebhookBody = Type.Object(
  {
    url: WebhookUrl,
    description: Type.Optional(WebhookDescription),
    events: WebhookEvents,
    lineIds: Type.Optional(WebhookLineIds),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    description: Type.Optional(WebhookDescription),
    events: Type.Optional(WebhookEvents),
    lineIds: Type.Optional(WebhookLineIds),
    status: Type.Optional(WebhookStatusSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'Sent as X-Openlines-Delivery' }),
    eventId: Type.String({ description: 'The event (`id` in the body); the same for a delivery sent again' }),
    eventType: Type.String({
      description: "One of the event types (or another producer's, sharing the outbox)",
    }),
    state: Type.Union([Type.Literal('pending'), Type.Literal('delivered')], {
      description: 'pending: waiting for its turn or for a retry; nothing is ever dropped',
    }),
    attempts: Type.Integer(),
    lastStatus: Nullable(Type.Integer({ description: 'HTTP status of the last answer' })),
    lastError: Nullable(Type.String()),
    lastAttemptAt: Nullable(Timestamp),
    nextAttemptAt: Nullable(Timestamp),
    deliveredAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  { title: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const WebhookDeliveryQuery = Type.Object(
  {
    before: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,18}$', description: 'Deliveries older than this id' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);

export const WebhookDeliveryParams = Type.Object(
  { id: IdSchema, deliveryId: Type.String({ pattern: '^[0-9]{1,18}$' }) },
  { additionalProperties: false },
);
