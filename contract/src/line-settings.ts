/**
 * Line settings: the whole configuration of one open line (SPEC sections 1–9) as one versioned
 * TypeBox schema, shared by the server (validation, OpenAPI), the web app (forms) and the SDK.
 *
 * Names are ours (camelCase, grouped by SPEC section); the Bitrix24 `PARAMS` field each one maps to
 * is named in the comment above it, for the later compatibility API. Unlike Bitrix24 we never
 * coerce: a wrong type, an unknown field or an out-of-range value is an error naming the field.
 *
 * The line's name and active flag (LN-2, OT-1) are columns of the line itself, not settings.
 * The agreement's text version (AG-2) is managed by the server, not here.
 */
import {
  KindGuard,
  type Static,
  type TLiteral,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';
import { Value, type ValueError, ValueErrorType } from '@sinclair/typebox/value';
import { UUID_PATTERN } from './common';

/** Bump when a stored settings document needs a migration; the server migrates old versions on read. */
export const LINE_SETTINGS_VERSION = 1 as const;

export const LINE_LANGUAGES = ['ru', 'en'] as const;
export type LineLanguage = (typeof LINE_LANGUAGES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Limits used by the schema; exported so forms can show counters and bounds. */
export const LINE_SETTINGS_LIMITS = {
  idLength: 64,
  queueMembers: 500,
  /** Bitrix24's global per-operator cap (`Queue::MAX_CHAT`). */
  maxChat: 1000,
  nameLength: 100,
  urlLength: 2048,
  /** Rating texts: Bitrix24 truncates them to 100 characters; we reject longer ones. */
  ratingText: 100,
  autoText: 2000,
  agreementText: 20000,
  kpiText: 1000,
  kpiRecipients: 100,
  intervalsPerDay: 8,
  holidays: 366,
  channelKindOverrides: 32,
  day: 86400,
  week: 604800,
  month: 2592000,
} as const;
const L = LINE_SETTINGS_LIMITS;

// ---------------------------------------------------------------------------------------------
// Default texts, per notification language (OT-1)
// ---------------------------------------------------------------------------------------------

export type LineTexts = {
  welcome: string;
  offHours: string;
  noAnswer: string;
  close: string;
  autoClose: string;
  agreement: string;
  operatorReplacementName: string;
  ratingWidget: { question: string; like: string; dislike: string };
  ratingMessenger: { question: string; like: string; dislike: string };
  kpiFirstAnswer: string;
  kpiFurtherAnswer: string;
};

const TEXTS: Record<LineLanguage, LineTexts> = {
  en: {
    welcome: 'Hello! Thank you for contacting us. An operator will answer you shortly.',
    offHours:
      'Hello! We are closed right now. Leave your question here and we will answer as soon as we are back.',
    noAnswer:
      'All our operators are busy at the moment. Please stay in the chat: we will answer you as soon as possible.',
    close: 'Thank you for contacting us! If you have more questions, just write to us here.',
    autoClose:
      'We have not heard from you for a while, so this conversation has been closed. Write to us any time and we will continue.',
    agreement:
      'I consent to the processing of my personal data (name, contact details and the content of this conversation) ' +
      'for the purpose of answering my request, in accordance with the privacy policy.',
    operatorReplacementName: 'Support team',
    ratingWidget: {
      question: 'Please rate the quality of our service',
      like: 'Thank you for your rating!',
      dislike: 'We are sorry we could not help. We will do better.',
    },
    ratingMessenger: {
      question: 'Please rate our service: reply 1 if you were satisfied or 0 if you were not.',
      like: 'Thank you for your rating!',
      dislike: 'We are sorry we could not help. We will do better.',
    },
    kpiFirstAnswer: '#OPERATOR# missed the first-answer time target in dialog #DIALOG#',
    kpiFurtherAnswer: '#OPERATOR# missed the answer time target in dialog #DIALOG#',
  },
  ru: {
    welcome: 'Здравствуйте! Спасибо, что обратились к нам. Оператор ответит вам в ближайшее время.',
    offHours:
      'Здравствуйте! Сейчас мы не работаем. Оставьте ваш вопрос здесь, и мы ответим, как только начнётся рабочее время.',
    noAnswer: 'Все операторы сейчас заняты. Пожалуйста, оставайтесь в чате: мы ответим вам как можно скорее.',
    close: 'Спасибо за обращение! Если у вас появятся вопросы, просто напишите нам здесь.',
    autoClose:
      'Мы давно не получали от вас сообщений, поэтому диалог закрыт. Напишите нам в любое время, и мы продолжим.',
    agreement:
      'Я даю согласие на обработку моих персональных данных (имя, контактные данные и содержание переписки) ' +
      'в целях ответа на моё обращение в соответствии с Федеральным законом № 152-ФЗ «О персональных данных» ' +
      'и политикой конфиденциальности.',
    operatorReplacementName: 'Служба поддержки',
    ratingWidget: {
      question: 'Пожалуйста, оцените качество обслуживания',
      like: 'Спасибо за оценку!',
      dislike: 'Жаль, что мы не смогли помочь. Мы постараемся стать лучше.',
    },
    ratingMessenger: {
      question: 'Пожалуйста, оцените наше обслуживание: ответьте 1, если всё понравилось, или 0, если нет.',
      like: 'Спасибо за оценку!',
      dislike: 'Жаль, что мы не смогли помочь. Мы постараемся стать лучше.',
    },
    kpiFirstAnswer: '#OPERATOR# не ответил(а) вовремя на первое сообщение в диалоге #DIALOG#',
    kpiFurtherAnswer: '#OPERATOR# не ответил(а) вовремя на сообщение клиента в диалоге #DIALOG#',
  },
};

/** The default client-facing and notification texts of a line in the given language (a fresh copy). */
export function defaultTexts(language: LineLanguage): LineTexts {
  return structuredClone(TEXTS[language]);
}

const EN = TEXTS.en;

// ---------------------------------------------------------------------------------------------
// Schema building blocks
// ---------------------------------------------------------------------------------------------

/** Human messages for `pattern` errors, keyed by the pattern (TypeBox's own message prints the regex). */
const patternMessages = new Map<string, string>();

function patterned(pattern: string, message: string): string {
  patternMessages.set(pattern, message);
  return pattern;
}

const ID_PATTERN = patterned('^\\S+$', 'Expected an id without spaces');
const RECORD_ID_PATTERN = patterned(UUID_PATTERN, 'Expected the id of a user or department (a UUID)');
const TIME_FROM_PATTERN = patterned(
  '^(?:[01]\\d|2[0-3]):[0-5]\\d$',
  'Expected a time HH:MM from 00:00 to 23:59',
);
const TIME_TO_PATTERN = patterned(
  '^(?:(?:[01]\\d|2[0-3]):[0-5]\\d|24:00)$',
  'Expected a time HH:MM from 00:00 to 24:00',
);
const HOLIDAY_PATTERN = patterned(
  '^(?:[12]\\d{3}-)?(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])$',
  "Expected a date 'YYYY-MM-DD' or a yearly date 'MM-DD'",
);
const TIME_ZONE_PATTERN = patterned(
  '^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$',
  "Expected an IANA time zone name such as 'Europe/Berlin'",
);
const URL_PATTERN = patterned('^https?://\\S+$', 'Expected an http(s) URL');
const CHANNEL_KIND_PATTERN = patterned(
  '^[a-z][a-z0-9_]{0,31}$',
  "Expected a channel kind such as 'telegram' (a-z, 0-9, _; at most 32 characters)",
);

/** Every object in the settings is closed: an unknown field is an error, never ignored. */
function strictObject<T extends TProperties>(properties: T, options: { description?: string } = {}) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** A closed set of strings; `defaultValue` is omitted for array items, whose array has the default. */
function literals<const T extends readonly string[]>(
  values: T,
  defaultValue?: T[number],
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  const options = defaultValue === undefined ? {} : { default: defaultValue };
  // The cast restores the literal types that `map` widens to `TLiteral<string>[]`.
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

function seconds(minimum: number, maximum: number, defaultValue: number) {
  return Type.Integer({ minimum, maximum, default: defaultValue });
}

/** A text that may be empty while its rule is off; the rules below require it when it is used. */
function text(maxLength: number, defaultValue: string) {
  return Type.String({ maxLength, default: defaultValue });
}

const Id = Type.String({ minLength: 1, maxLength: L.idLength, pattern: ID_PATTERN });
/** A user's or department's id: what the database keeps them by (another string was a 500 there). */
const RecordId = Type.String({ minLength: 1, maxLength: L.idLength, pattern: RECORD_ID_PATTERN });

/** A rule that either sends its text or does nothing (Bitrix24 `*_RULE`; legacy `form`/`queue` dropped). */
function textRule(defaultValue: 'text' | 'none') {
  return literals(['text', 'none'] as const, defaultValue);
}

// ---------------------------------------------------------------------------------------------
// Queue and routing (Q)
// ---------------------------------------------------------------------------------------------

/** an operator, or a department meaning its current members. */
export const QueueMemberSchema = strictObject({
  type: literals(['user', 'department'] as const),
  id: RecordId,
});

export const QueueSettingsSchema = strictObject({
  /**
   * `QUEUE`. May be empty (a new line has nobody yet; its sessions wait in the queue, Q-6).
   * Members are unique by (type, id).
   */
  members: Type.Array(QueueMemberSchema, { maxItems: L.queueMembers, default: [] }),
  /**
   * `QUEUE_TYPE`. Bitrix24 defaults to `all`; we default to `evenly` because `all` rings every
   * operator for every session (they race, the fastest takes everything, load is not balanced),
   * and the timeout, concurrency limit and counting mode below only apply to `evenly`/`strictly`
   * (Bitrix24 hides them for `all`). Bitrix24 itself falls back to `evenly` when `all` is not allowed.
   */
  distribution: literals(['evenly', 'strictly', 'all'] as const, 'evenly'),
  /** `QUEUE_TIME`: seconds before an unanswered session passes to the next operator. */
  queueTimeSeconds: seconds(1, L.day, 60),
  /** `NO_ANSWER_TIME` (AA-3): seconds without an operator reply before the no-answer rule runs. */
  noAnswerTimeSeconds: seconds(1, L.week, 60),
  /**
   * `CHECK_AVAILABLE`. Bitrix24 defaults to off; we default to on: otherwise a session is
   * handed to operators who are offline, on leave or dismissed, and the client waits a full
   * `queueTimeSeconds` per absent operator. With it on nothing is lost either: a session nobody can
   * take waits in the queue and is delegated the moment someone becomes available.
   */
  checkAvailable: Type.Boolean({ default: true }),
  /** `MAX_CHAT`: sessions an operator may hold on this line; 0 = unlimited. */
  maxChat: Type.Integer({ minimum: 0, maximum: L.maxChat, default: 0 }),
  /**
   * `TYPE_MAX_CHAT`: which of the operator's sessions count against `maxChat`:
   * `answered_new` — sessions the operator has not answered yet; `answered` — also sessions where
   * the client wrote again and waits for the operator; `closed` — every open session the operator
   * holds, answered ones included (core/session-machine countsTowardLimit).
   */
  typeMaxChat: literals(['answered_new', 'answered', 'closed'] as const, 'answered'),
  /** `WATCH_TYPING` (AA-8): operators see what the client is typing before it is sent. */
  watchTyping: Type.Boolean({ default: true }),
  /**
   * `OPERATOR_DATA` / `DEFAULT_OPERATOR_DATA`: what the client sees of the operator. Per-operator
   * replacements live on the operator's profile, not here.
   */
  operatorData: strictObject({
    mode: literals(['profile', 'replaced', 'hidden'] as const, 'profile'),
    /** Shown instead of the operator's name when `mode` is `replaced`; required then. */
    replacementName: text(L.nameLength, EN.operatorReplacementName),
    replacementAvatarUrl: Type.Union(
      [Type.String({ minLength: 1, maxLength: L.urlLength, pattern: URL_PATTERN }), Type.Null()],
      { default: null },
    ),
  }),
  /**
   * `SESSION_PRIORITY`: seconds added to the waiting time of this line's sessions when an operator's
   * queues from several lines are ordered (a higher value is served first).
   */
  sessionPriority: seconds(0, L.day, 0),
});

// ---------------------------------------------------------------------------------------------
// Working hours (WH)
// ---------------------------------------------------------------------------------------------

/**
 * One working interval of a day, local time of the line's time zone, half-open [from, to).
 *
 * Midnight rule: an interval never crosses midnight; `to` must be later than `from`, and `24:00`
 * means the end of the day. A night shift is written as two intervals, e.g. Monday 22:00–24:00 and
 * Tuesday 00:00–06:00. This gives one way to write each schedule, keeps the overlap check per day,
 * and lets the server compute each interval on its own local date across DST changes (WH-4).
 * Intervals of one day may touch (09:00–13:00, 13:00–18:00) but not overlap; order does not matter.
 */
export const WorkIntervalSchema = strictObject({
  from: Type.String({ pattern: TIME_FROM_PATTERN }),
  to: Type.String({ pattern: TIME_TO_PATTERN }),
});

function weeklyScheduleSchema() {
  const workday = () => [{ from: '09:00', to: '18:00' }];
  const defaults: Record<Weekday, { from: string; to: string }[]> = {
    mon: workday(),
    tue: workday(),
    wed: workday(),
    thu: workday(),
    fri: workday(),
    sat: [],
    sun: [],
  };
  const day = (weekday: Weekday) =>
    Type.Array(WorkIntervalSchema, { maxItems: L.intervalsPerDay, default: defaults[weekday] });
  return strictObject({
    mon: day('mon'),
    tue: day('tue'),
    wed: day('wed'),
    thu: day('thu'),
    fri: day('fri'),
    sat: day('sat'),
    sun: day('sun'),
  });
}

/** Working intervals per weekday; an empty day is closed. */
export const WeeklyScheduleSchema = weeklyScheduleSchema();

export const WorkingHoursSettingsSchema = strictObject({
  /** `WORKTIME_ENABLE`: off = the line is always open. */
  enabled: Type.Boolean({ default: false }),
  /** `WORKTIME_TIMEZONE`: an IANA zone name known to `Intl` (checked), e.g. `Europe/Moscow`. */
  timeZone: Type.String({ minLength: 1, maxLength: 64, pattern: TIME_ZONE_PATTERN, default: 'UTC' }),
  /** `WORKTIME_FROM`/`_TO`, generalised: several intervals per day, different per weekday. */
  weekly: WeeklyScheduleSchema,
  /**
   * `WORKTIME_DAYOFF`: weekdays that are closed whatever their intervals say. Keeping a day's
   * intervals while it is off lets an admin switch the day back on without retyping its hours.
   */
  daysOff: Type.Array(literals(WEEKDAYS), { maxItems: 7, uniqueItems: true, default: [] }),
  /** `WORKTIME_HOLIDAYS`: closed dates, `YYYY-MM-DD` once or `MM-DD` every year (`02-29` in leap years). */
  holidays: Type.Array(Type.String({ pattern: HOLIDAY_PATTERN }), {
    maxItems: L.holidays,
    uniqueItems: true,
    default: [],
  }),
  /**
   * `WORKTIME_DAYOFF_RULE` (WH-2). Bitrix24 defaults to `none`; we default to `text` because WH-2
   * says the client gets the off-hours reply, and working hours are off until an admin enables them.
   */
  offHoursRule: textRule('text'),
  /** `WORKTIME_DAYOFF_TEXT`. */
  offHoursText: text(L.autoText, EN.offHours),
  /**
   * WH-3: the website widget's own schedule. `same` follows this line's hours (always open while
   * they are disabled); `always` never closes; `custom` uses `custom` with this line's time zone and
   * holidays (not its `daysOff`), even while the line's own hours are disabled.
   */
  widget: strictObject({
    mode: literals(['same', 'always', 'custom'] as const, 'same'),
    custom: WeeklyScheduleSchema,
    /** Outside the widget's hours: hide it, or show a form whose messages are stored and queued. */
    whenClosed: literals(['hide', 'offline_form'] as const, 'offline_form'),
  }),
});

// ---------------------------------------------------------------------------------------------
// Agreement (AG)
// ---------------------------------------------------------------------------------------------

export const AgreementSettingsSchema = strictObject({
  /** `AGREEMENT_MESSAGE` (AG-1): ask for consent to process personal data on the first message. */
  required: Type.Boolean({ default: false }),
  /** The consent text; required when `required` is on. The server versions it on every change. */
  text: text(L.agreementText, EN.agreement),
});

// ---------------------------------------------------------------------------------------------
// Automatic actions (AA)
// ---------------------------------------------------------------------------------------------

/** LN-7: texts that replace the line's texts for one channel kind; an absent text uses the line's. */
export const ChannelTextOverridesSchema = strictObject({
  welcome: Type.Optional(Type.String({ minLength: 1, maxLength: L.autoText })),
  offHours: Type.Optional(Type.String({ minLength: 1, maxLength: L.autoText })),
  noAnswer: Type.Optional(Type.String({ minLength: 1, maxLength: L.autoText })),
  close: Type.Optional(Type.String({ minLength: 1, maxLength: L.autoText })),
  autoClose: Type.Optional(Type.String({ minLength: 1, maxLength: L.autoText })),
});

export const AutomaticActionsSettingsSchema = strictObject({
  /** `WELCOME_MESSAGE`, `_TEXT`, `SEND_WELCOME_EACH_SESSION` (AA-1). Texts may use BB-code. */
  welcome: strictObject({
    enabled: Type.Boolean({ default: true }),
    text: text(L.autoText, EN.welcome),
    /** Off: only the dialog's first session is greeted; on: every new session. */
    eachSession: Type.Boolean({ default: false }),
  }),
  /**
   * `USE_WELCOME_FORM` & co. (AA-2): a contact form offered to the client. Consent is asked by the
   * agreement, not by this form.
   */
  contactForm: strictObject({
    enabled: Type.Boolean({ default: false }),
    /** On the client's first message, when the no-answer rule fires, or outside working hours. */
    when: literals(['first_message', 'no_answer', 'off_hours'] as const, 'first_message'),
    fields: Type.Array(literals(['name', 'phone', 'email'] as const), {
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      default: ['name', 'phone', 'email'],
    }),
  }),
  /** `NO_ANSWER_RULE`, `_TEXT` (AA-3); runs after `queue.noAnswerTimeSeconds`. */
  noAnswer: strictObject({
    /** `text`: send `text`; `bot`: hand the session to the bot `botId` (once per session); `none`. */
    rule: literals(['text', 'none', 'bot'] as const, 'none'),
    text: text(L.autoText, EN.noAnswer),
    /** The account's bot (GET /bots) that takes the unanswered session when `rule` is `bot`. */
    botId: Type.Union([Id, Type.Null()], { default: null }),
    /** Also notify the line's operators that the session is unanswered. */
    notifyOperators: Type.Boolean({ default: false }),
  }),
  /** `CLOSE_RULE`, `_TEXT` (AA-4): sent when an operator closes the session. */
  close: strictObject({
    rule: textRule('text'),
    text: text(L.autoText, EN.close),
  }),
  /**
   * `AUTO_CLOSE_RULE`, `_TIME`, `_TEXT` (AA-6): the session always closes after `timeSeconds`
   * without a client reply to the operator's answer; the rule only decides whether a text is sent.
   */
  autoClose: strictObject({
    rule: textRule('none'),
    timeSeconds: seconds(60, L.month, 14400),
    text: text(L.autoText, EN.autoClose),
  }),
  /**
   * LN-7: per channel kind (`telegram`, `widget`, `api`, `vk`, `whatsapp`, `facebook`, `instagram`,
   * `email`, or any kind a connector registers), texts that replace the ones above. Replaced
   * wholesale by a patch.
   */
  perChannelKind: Type.Record(Type.String({ pattern: CHANNEL_KIND_PATTERN }), ChannelTextOverridesSchema, {
    additionalProperties: false,
    maxProperties: L.channelKindOverrides,
    default: {},
  }),
});

// ---------------------------------------------------------------------------------------------
// Quality rating (QR)
// ---------------------------------------------------------------------------------------------

function ratingTextsSchema(defaults: LineTexts['ratingWidget']) {
  const ratingText = (value: string) =>
    Type.String({ minLength: 1, maxLength: L.ratingText, default: value });
  return strictObject({
    /** The request to rate. */
    question: ratingText(defaults.question),
    /** The reply after a positive rating. */
    like: ratingText(defaults.like),
    /** The reply after a negative rating. */
    dislike: ratingText(defaults.dislike),
  });
}

export const RatingSettingsSchema = strictObject({
  /** `VOTE_MESSAGE` (QR-1, AA-5). */
  enabled: Type.Boolean({ default: true }),
  /** Ask when the session is closed, or `delaySeconds` after it is closed. */
  when: literals(['on_close', 'after_delay'] as const, 'on_close'),
  /** Used with `after_delay`; must then be at least 1. */
  delaySeconds: seconds(0, L.day, 300),
  /** `VOTE_BEFORE_FINISH` (QR-2): the client may rate before the session ends. */
  allowBeforeFinish: Type.Boolean({ default: true }),
  /** `VOTE_CLOSING_DELAY` (QR-2): close the session as soon as the client rates. */
  closeAfterRating: Type.Boolean({ default: false }),
  /** `VOTE_TIME_LIMIT` (QR-2): seconds after the request during which a rating is accepted; 0 = no limit. */
  timeLimitSeconds: seconds(0, L.month, 0),
  /** `VOTE_MESSAGE_1_*`: the widget, with like/dislike buttons. */
  widget: ratingTextsSchema(EN.ratingWidget),
  /** `VOTE_MESSAGE_2_*`: messengers, where the client replies 1 (good) or 0 (bad). */
  messenger: ratingTextsSchema(EN.ratingMessenger),
});

// ---------------------------------------------------------------------------------------------
// Chatbots (BOT)
// ---------------------------------------------------------------------------------------------

export const BotSettingsSchema = strictObject({
  /** `WELCOME_BOT_*` (BOT-1): a bot answers first, then hands the session to the operators. */
  welcomeBot: strictObject({
    enabled: Type.Boolean({ default: false }),
    /** The account's bot (GET /bots); required when enabled. */
    botId: Type.Union([Id, Type.Null()], { default: null }),
    /** `first`: only the dialog's first session; `always`: every session. Bitrix24 `add` default. */
    join: literals(['first', 'always'] as const, 'always'),
    /**
     * `WELCOME_BOT_TIME`: seconds a bot may hold a session on this line before the session leaves it
     * (per `whenLeaving`); 0 = only when the bot or the client asks for an operator.
     */
    timeSeconds: seconds(0, L.day, 600),
    /**
     * `WELCOME_BOT_LEFT`: what happens when `timeSeconds` pass: `queue` hands the session to the
     * operators' queue, `close` closes it. A hand-over the bot or the client asks for always goes
     * to the queue.
     */
    whenLeaving: literals(['queue', 'close'] as const, 'queue'),
  }),
});

// ---------------------------------------------------------------------------------------------
// KPI (KPI)
// ---------------------------------------------------------------------------------------------

export const KPI_PLACEHOLDERS = ['#OPERATOR#', '#DIALOG#'] as const;

function kpiTargetSchema(defaultText: string) {
  return strictObject({
    /** Target answer time in seconds; 0 = no target. */
    targetSeconds: seconds(0, L.day, 0),
    /** Notify the operator and `recipients` when the target is missed (KPI-2); needs a target. */
    alert: Type.Boolean({ default: false }),
    /** Supervisors' user ids notified besides the operator. */
    recipients: Type.Array(RecordId, { maxItems: L.kpiRecipients, uniqueItems: true, default: [] }),
    /** Optional message text; placeholders `#OPERATOR#` and `#DIALOG#`. Empty = in-app alert only. */
    messageText: text(L.kpiText, defaultText),
  });
}

export const KpiSettingsSchema = strictObject({
  /** `KPI_FIRST_ANSWER_*`. */
  firstAnswer: kpiTargetSchema(EN.kpiFirstAnswer),
  /** `KPI_FURTHER_ANSWER_*`. */
  furtherAnswer: kpiTargetSchema(EN.kpiFurtherAnswer),
});

// ---------------------------------------------------------------------------------------------
// CRM and other settings
// ---------------------------------------------------------------------------------------------

export const CrmSettingsSchema = strictObject({
  /** `CRM`: look the client up in the CRM. */
  enabled: Type.Boolean({ default: true }),
  /** `CRM_CREATE`: what is created for a new client (`none`: created by hand from the chat). */
  create: literals(['none', 'lead', 'deal'] as const, 'lead'),
  /** `CRM_FORWARD`: a known client goes first to their CRM-responsible operator. */
  forwardToResponsible: Type.Boolean({ default: true }),
  /** `CRM_SOURCE`: `create` = a source named after the line, created automatically; else a source id. */
  source: Type.String({ minLength: 1, maxLength: L.idLength, pattern: ID_PATTERN, default: 'create' }),
  /** `CRM_TRANSFER_CHANGE`: a transfer also changes the CRM-responsible person. */
  changeResponsibleOnTransfer: Type.Boolean({ default: true }),
  /**
   * A set person (a user of the account) made responsible for the records a session creates,
   * instead of the operator who takes it; transfers then leave them. Null: the operator.
   */
  responsibleUserId: Type.Union([RecordId, Type.Null()], { default: null }),
});

export const OtherSettingsSchema = strictObject({
  /** OT-1: off = message texts are not kept after the session closes. */
  saveHistory: Type.Boolean({ default: true }),
  /** `CONFIRM_CLOSE`: ask the operator to confirm before closing a dialog. */
  confirmClose: Type.Boolean({ default: false }),
  /** `LANGUAGE_ID`: the language of every system message the client sees. */
  language: literals(LINE_LANGUAGES, 'en'),
  /**
   * Retention (docs/privacy.md): this line's messages and attachments older than this many days are
   * erased by the server; 0 = the account's retention applies (by default: kept).
   */
  retentionDays: Type.Integer({ minimum: 0, maximum: 36500, default: 0 }),
});

// ---------------------------------------------------------------------------------------------
// The whole settings document
// ---------------------------------------------------------------------------------------------

export const LineSettingsSchema = Type.Object(
  {
    version: Type.Literal(LINE_SETTINGS_VERSION, { default: LINE_SETTINGS_VERSION }),
    queue: QueueSettingsSchema,
    workingHours: WorkingHoursSettingsSchema,
    agreement: AgreementSettingsSchema,
    automaticActions: AutomaticActionsSettingsSchema,
    rating: RatingSettingsSchema,
    bot: BotSettingsSchema,
    kpi: KpiSettingsSchema,
    crm: CrmSettingsSchema,
    other: OtherSettingsSchema,
  },
  { additionalProperties: false, title: 'LineSettings' },
);
export type LineSettings = Static<typeof LineSettingsSchema>;
export type QueueMember = Static<typeof QueueMemberSchema>;
export type WorkInterval = Static<typeof WorkIntervalSchema>;
export type WeeklySchedule = Static<typeof WeeklyScheduleSchema>;
export type ChannelTextOverrides = Static<typeof ChannelTextOverridesSchema>;

/** Every object made optional, recursively; arrays, maps and scalars stay whole. */
type TDeepPartial<T extends TSchema> =
  T extends TObject<infer P> ? TObject<{ [K in keyof P]: TOptional<TDeepPartial<P[K]>> }> : T;

function deepPartial<T extends TSchema>(schema: T): TDeepPartial<T> {
  const { default: _default, ...rest } = schema as TSchema & { default?: unknown };
  if (!KindGuard.IsObject(schema)) return rest as TDeepPartial<T>;
  const properties: TProperties = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    properties[key] = Type.Optional(deepPartial(property));
  }
  const options = schema.title ? { title: `${schema.title}Patch` } : {};
  return Type.Object(properties, { ...options, additionalProperties: false }) as unknown as TDeepPartial<T>;
}

/**
 * The body of PATCH: every section and every field optional, recursively; unknown fields are
 * still rejected. Objects are merged, arrays and maps (`perChannelKind`) are replaced wholesale.
 * It carries no `default`s, so a validator that fills defaults cannot invent changes. `version`, when
 * sent, must be the current version (a client written against another version is refused).
 */
export const LineSettingsPatchSchema = deepPartial(LineSettingsSchema);
export type LineSettingsPatch = Static<typeof LineSettingsPatchSchema>;

// ---------------------------------------------------------------------------------------------
// Defaults, merging, validation
// ---------------------------------------------------------------------------------------------

/** A complete, valid settings document with the defaults declared in the schema and texts in `language`. */
export function defaultLineSettings(language: LineLanguage = 'en'): LineSettings {
  const settings = Value.Create(LineSettingsSchema);
  const texts = TEXTS[language];
  settings.other.language = language;
  settings.queue.operatorData.replacementName = texts.operatorReplacementName;
  settings.workingHours.offHoursText = texts.offHours;
  settings.agreement.text = texts.agreement;
  settings.automaticActions.welcome.text = texts.welcome;
  settings.automaticActions.noAnswer.text = texts.noAnswer;
  settings.automaticActions.close.text = texts.close;
  settings.automaticActions.autoClose.text = texts.autoClose;
  settings.rating.widget = { ...texts.ratingWidget };
  settings.rating.messenger = { ...texts.ratingMessenger };
  settings.kpi.firstAnswer.messageText = texts.kpiFirstAnswer;
  settings.kpi.furtherAnswer.messageText = texts.kpiFurtherAnswer;
  return settings;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property even for keys such as `__proto__`, which plain assignment would not. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function mergeBySchema(schema: TSchema, current: unknown, patch: unknown): unknown {
  if (!(KindGuard.IsObject(schema) && isPlainObject(current) && isPlainObject(patch))) {
    return structuredClone(patch);
  }
  const properties: Record<string, TSchema> = schema.properties;
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(current), ...Object.keys(patch)])) {
    const patched = Object.hasOwn(patch, key) && patch[key] !== undefined;
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (!patched) setOwn(merged, key, structuredClone(current[key]));
    else if (property && Object.hasOwn(current, key))
      setOwn(merged, key, mergeBySchema(property, current[key], patch[key]));
    else setOwn(merged, key, structuredClone(patch[key]));
  }
  return merged;
}

/**
 * Applies a PATCH body: objects are merged field by field, arrays and maps are replaced wholesale,
 * untouched fields are kept. Pure: neither argument is modified. It does not validate; use
 * `validateLineSettingsPatch` for a request body, or validate the result with `validateLineSettings`.
 */
export function applyLineSettingsPatch(current: LineSettings, patch: LineSettingsPatch): LineSettings {
  return mergeBySchema(LineSettingsSchema, current, patch) as LineSettings;
}

export type LineSettingsError = {
  /** Dotted path of the field, array indices included: `workingHours.weekly.mon.1.to`. */
  field: string;
  message: string;
};

export type LineSettingsValidation =
  | { ok: true; value: LineSettings }
  | { ok: false; errors: LineSettingsError[] };

function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function describe(schema: TSchema): string {
  if (KindGuard.IsLiteral(schema)) return JSON.stringify(schema.const);
  if (KindGuard.IsNull(schema)) return 'null';
  if (KindGuard.IsString(schema)) {
    const shape =
      (schema.pattern && patternMessages.get(schema.pattern)?.replace(/^Expected /, '')) || 'a string';
    return schema.maxLength === undefined ? shape : `${shape} of at most ${schema.maxLength} characters`;
  }
  if (KindGuard.IsInteger(schema)) return 'an integer';
  if (KindGuard.IsBoolean(schema)) return 'a boolean';
  return 'a value of another type';
}

function messageOf(error: ValueError): string {
  const schema = error.schema;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      if (KindGuard.IsRecord(schema)) {
        const [keyPattern] = Object.keys(schema.patternProperties);
        return (keyPattern && patternMessages.get(keyPattern)) || 'Unknown key';
      }
      return 'Unknown field';
    }
    case ValueErrorType.ObjectRequiredProperty:
      return 'Required field is missing';
    case ValueErrorType.Union: {
      const branches: TSchema[] = KindGuard.IsUnion(schema) ? schema.anyOf : [];
      if (branches.length > 0 && branches.every((branch) => KindGuard.IsLiteral(branch))) {
        return `Expected one of ${branches.map(describe).join(', ')}`;
      }
      return `Expected ${branches.map(describe).join(' or ')}`;
    }
    case ValueErrorType.Literal:
      return `Expected ${describe(schema)}`;
    case ValueErrorType.StringPattern:
      return (typeof schema.pattern === 'string' && patternMessages.get(schema.pattern)) || error.message;
    default:
      return error.message;
  }
}

function schemaErrors(schema: TSchema, value: unknown): LineSettingsError[] {
  const all = [...Value.Errors(schema, value)];
  // TypeBox also checks a missing field's value (undefined) against its type; one error is enough.
  const missing = new Set(
    all.filter((error) => error.type === ValueErrorType.ObjectRequiredProperty).map((error) => error.path),
  );
  const seen = new Set<string>();
  const errors: LineSettingsError[] = [];
  for (const error of all) {
    if (missing.has(error.path) && error.type !== ValueErrorType.ObjectRequiredProperty) continue;
    const item = { field: fieldOf(error.path), message: messageOf(error) };
    const key = `${item.field}\u0000${item.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(item);
  }
  return errors;
}

const timeZoneCache = new Map<string, string | null>();

/**
 * Why `name` is not a usable IANA time zone, or null when it is. `Intl` decides what exists;
 * a known zone in the wrong case (`europe/berlin`) is refused rather than silently corrected.
 */
export function timeZoneProblem(name: string): string | null {
  const cached = timeZoneCache.get(name);
  if (cached !== undefined) return cached;
  let problem: string | null = null;
  if (!new RegExp(TIME_ZONE_PATTERN).test(name)) {
    problem = patternMessages.get(TIME_ZONE_PATTERN) ?? 'Invalid time zone';
  } else {
    try {
      const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
      if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
        problem = `Unknown time zone '${name}'; did you mean '${resolved}'?`;
      }
    } catch {
      problem = `Unknown time zone '${name}'`;
    }
  }
  timeZoneCache.set(name, problem);
  return problem;
}

function minutesOf(time: string): number {
  const [hours = 0, minutes = 0] = time.split(':').map(Number);
  return hours * 60 + minutes;
}

function checkSchedule(path: string, schedule: WeeklySchedule, errors: LineSettingsError[]): void {
  for (const weekday of WEEKDAYS) {
    const intervals = schedule[weekday].map((interval, index) => ({
      ...interval,
      index,
      start: minutesOf(interval.from),
      end: minutesOf(interval.to),
    }));
    for (const interval of intervals) {
      if (interval.start >= interval.end) {
        errors.push({
          field: `${path}.${weekday}.${interval.index}.to`,
          message:
            `Must be later than 'from' (${interval.from}); to work past midnight, ` +
            `end the day at 24:00 and continue the next day from 00:00`,
        });
      }
    }
    const ordered = intervals
      .filter((interval) => interval.start < interval.end)
      .sort((a, b) => a.start - b.start || a.end - b.end);
    let latest: (typeof ordered)[number] | undefined;
    for (const interval of ordered) {
      if (latest && interval.start < latest.end) {
        errors.push({
          field: `${path}.${weekday}.${interval.index}`,
          message: `Overlaps the interval ${latest.from}–${latest.to}`,
        });
      }
      if (!latest || interval.end > latest.end) latest = interval;
    }
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isRealDate(date: string): boolean {
  const parts = date.split('-').map(Number);
  const [year, month, day] = parts.length === 3 ? parts : [undefined, ...parts];
  if (month === undefined || day === undefined) return false;
  const leap = year === undefined || (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const limit = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day >= 1 && day <= limit;
}

function isBlank(value: string): boolean {
  return value.trim() === '';
}

/** Rules across fields, or beyond what JSON Schema says; run on a value that matches the schema. */
function semanticErrors(settings: LineSettings): LineSettingsError[] {
  const errors: LineSettingsError[] = [];
  const requireText = (field: string, value: string, reason?: string) => {
    if (isBlank(value))
      errors.push({ field, message: reason ? `Must not be empty ${reason}` : 'Must not be empty' });
  };

  const { queue, workingHours, agreement, automaticActions: actions, rating, bot, kpi } = settings;

  const members = new Set<string>();
  queue.members.forEach((member, index) => {
    const key = `${member.type}:${member.id}`;
    if (members.has(key)) {
      errors.push({ field: `queue.members.${index}`, message: `Duplicate queue member ${key}` });
    }
    members.add(key);
  });
  if (queue.operatorData.mode === 'replaced') {
    requireText(
      'queue.operatorData.replacementName',
      queue.operatorData.replacementName,
      "when mode is 'replaced'",
    );
  }
  const avatar = queue.operatorData.replacementAvatarUrl;
  if (avatar !== null && !URL.canParse(avatar)) {
    errors.push({ field: 'queue.operatorData.replacementAvatarUrl', message: 'Expected an http(s) URL' });
  }

  const zoneProblem = timeZoneProblem(workingHours.timeZone);
  if (zoneProblem) errors.push({ field: 'workingHours.timeZone', message: zoneProblem });
  checkSchedule('workingHours.weekly', workingHours.weekly, errors);
  checkSchedule('workingHours.widget.custom', workingHours.widget.custom, errors);
  workingHours.holidays.forEach((holiday, index) => {
    if (!isRealDate(holiday)) {
      errors.push({ field: `workingHours.holidays.${index}`, message: `No such date: '${holiday}'` });
    }
  });
  if (workingHours.offHoursRule === 'text') {
    requireText('workingHours.offHoursText', workingHours.offHoursText, "when offHoursRule is 'text'");
  }

  if (agreement.required) requireText('agreement.text', agreement.text, 'when the agreement is required');

  if (actions.welcome.enabled) {
    requireText('automaticActions.welcome.text', actions.welcome.text, 'when the welcome message is on');
  }
  for (const name of ['noAnswer', 'close', 'autoClose'] as const) {
    if (actions[name].rule === 'text') {
      requireText(`automaticActions.${name}.text`, actions[name].text, "when rule is 'text'");
    }
  }
  for (const [kind, overrides] of Object.entries(actions.perChannelKind)) {
    for (const [name, value] of Object.entries(overrides)) {
      if (typeof value === 'string') requireText(`automaticActions.perChannelKind.${kind}.${name}`, value);
    }
  }

  if (rating.when === 'after_delay' && rating.delaySeconds < 1) {
    errors.push({ field: 'rating.delaySeconds', message: "Must be at least 1 when 'when' is 'after_delay'" });
  }
  for (const channel of ['widget', 'messenger'] as const) {
    for (const name of ['question', 'like', 'dislike'] as const) {
      // The 100-character limit itself is the schema's maxLength.
      requireText(`rating.${channel}.${name}`, rating[channel][name]);
    }
  }

  if (bot.welcomeBot.enabled && bot.welcomeBot.botId === null) {
    errors.push({ field: 'bot.welcomeBot.botId', message: 'Required when the welcome bot is enabled' });
  }
  if (actions.noAnswer.rule === 'bot' && actions.noAnswer.botId === null) {
    errors.push({ field: 'automaticActions.noAnswer.botId', message: "Required when rule is 'bot'" });
  }

  for (const target of ['firstAnswer', 'furtherAnswer'] as const) {
    const settingsOfTarget = kpi[target];
    if (settingsOfTarget.alert && settingsOfTarget.targetSeconds === 0) {
      errors.push({
        field: `kpi.${target}.targetSeconds`,
        message: 'Must be set (above 0) when the alert is on',
      });
    }
    for (const placeholder of settingsOfTarget.messageText.match(/#[A-Z_]+#/g) ?? []) {
      if (!(KPI_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
        errors.push({
          field: `kpi.${target}.messageText`,
          message: `Unknown placeholder ${placeholder}; use ${KPI_PLACEHOLDERS.join(' or ')}`,
        });
      }
    }
  }

  return errors;
}

/**
 * Checks a whole settings document: the schema first (types, ranges, unknown fields — nothing is
 * coerced), then, if it matches, the rules across fields (time zone exists, intervals ordered and
 * not overlapping, unique queue members, required texts…). Every error names its field.
 */
export function validateLineSettings(value: unknown): LineSettingsValidation {
  if (!Value.Check(LineSettingsSchema, value)) {
    return { ok: false, errors: schemaErrors(LineSettingsSchema, value) };
  }
  const errors = semanticErrors(value);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

/**
 * Checks a PATCH body against the patch schema, applies it to `current` and checks the result;
 * `value` is the new settings document. Error fields are the same paths as in the patch.
 */
export function validateLineSettingsPatch(current: LineSettings, patch: unknown): LineSettingsValidation {
  if (!Value.Check(LineSettingsPatchSchema, patch)) {
    return { ok: false, errors: schemaErrors(LineSettingsPatchSchema, patch) };
  }
  return validateLineSettings(applyLineSettingsPatch(current, patch));
}
