import type { LineSettings, LineSettingsPatch, Weekday } from '@openlines/contract';
import { argumentError, BitrixError } from './errors';
import { asList, isObject } from './params';

/**
 * imopenlines.config.* `PARAMS` ⇄ our line (../shared/BITRIX24-REFERENCE.md §1). Pure.
 *
 * Unlike Bitrix24, which coerces (an unknown QUEUE_TYPE becomes `all`, a bad WORKTIME_FROM becomes
 * 9), a value we cannot take as it is is refused with ERROR_ARGUMENT naming `PARAMS[<FIELD>]`,
 * and so is a field we do not map (docs/bitrix24-compat.md lists the mapped ones). Values arrive as
 * JSON types or as form strings ("60", "Y"); `get` answers with strings, as Bitrix24 does.
 */

export interface LinePatch {
  name?: string;
  active?: boolean;
  settings: LineSettingsPatch;
  /** QUEUE as sent: numeric user (or department) ids, resolved by the caller. */
  queue?: { type: 'user' | 'department'; numericId: number }[];
  /** WELCOME_BOT_ID as sent: a numeric bot id (imbot.register's answer), 0 for none; resolved by the caller. */
  welcomeBot?: number;
}

type Reader = (value: unknown, param: string) => unknown;

const fail = (param: string, message: string) => argumentError(`PARAMS[${param}]: ${message}`);

const flag: Reader = (value, param) => {
  if (value === true || value === 'Y' || value === 'y') return true;
  if (value === false || value === 'N' || value === 'n') return false;
  throw fail(param, 'must be Y or N');
};

const integer: Reader = (value, param) => {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,9}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(number) || number < 0) throw fail(param, 'must be a non-negative integer');
  return number;
};

const string: Reader = (value, param) => {
  if (typeof value !== 'string') throw fail(param, 'must be a string');
  return value;
};

const oneOf =
  (values: readonly string[], aliases: Record<string, string> = {}): Reader =>
  (value, param) => {
    const text = typeof value === 'string' ? value.toLowerCase() : value;
    if (typeof text === 'string' && Object.hasOwn(aliases, text)) return aliases[text];
    if (typeof text !== 'string' || !values.includes(text))
      throw fail(param, `must be one of ${values.join(', ')}`);
    return text;
  };

/** One mapped field: where it lives in our settings, how it is read and shown. */
interface Field {
  path: readonly string[];
  read: Reader;
  show: (value: unknown) => string;
}

const yn = (value: unknown) => (value ? 'Y' : 'N');
const str = (value: unknown) => String(value ?? '');

const FIELDS: Readonly<Record<string, Field>> = {
  QUEUE_TYPE: { path: ['queue', 'distribution'], read: oneOf(['evenly', 'strictly', 'all']), show: str },
  QUEUE_TIME: { path: ['queue', 'queueTimeSeconds'], read: integer, show: str },
  NO_ANSWER_TIME: { path: ['queue', 'noAnswerTimeSeconds'], read: integer, show: str },
  CHECK_AVAILABLE: { path: ['queue', 'checkAvailable'], read: flag, show: yn },
  MAX_CHAT: { path: ['queue', 'maxChat'], read: integer, show: str },
  TYPE_MAX_CHAT: {
    path: ['queue', 'typeMaxChat'],
    read: oneOf(['answered', 'answered_new', 'closed']),
    show: str,
  },
  WATCH_TYPING: { path: ['queue', 'watchTyping'], read: flag, show: yn },
  SESSION_PRIORITY: { path: ['queue', 'sessionPriority'], read: integer, show: str },
  LANGUAGE_ID: { path: ['other', 'language'], read: oneOf(['ru', 'en']), show: str },
  CONFIRM_CLOSE: { path: ['other', 'confirmClose'], read: flag, show: yn },
  WELCOME_MESSAGE: { path: ['automaticActions', 'welcome', 'enabled'], read: flag, show: yn },
  WELCOME_MESSAGE_TEXT: { path: ['automaticActions', 'welcome', 'text'], read: string, show: str },
  SEND_WELCOME_EACH_SESSION: { path: ['automaticActions', 'welcome', 'eachSession'], read: flag, show: yn },
  NO_ANSWER_RULE: {
    path: ['automaticActions', 'noAnswer', 'rule'],
    read: oneOf(['text', 'none']),
    show: str,
  },
  NO_ANSWER_TEXT: { path: ['automaticActions', 'noAnswer', 'text'], read: string, show: str },
  CLOSE_RULE: {
    path: ['automaticActions', 'close', 'rule'],
    read: oneOf(['text', 'none'], { quality: 'text' }),
    show: str,
  },
  CLOSE_TEXT: { path: ['automaticActions', 'close', 'text'], read: string, show: str },
  AUTO_CLOSE_RULE: {
    path: ['automaticActions', 'autoClose', 'rule'],
    read: oneOf(['text', 'none']),
    show: str,
  },
  AUTO_CLOSE_TIME: { path: ['automaticActions', 'autoClose', 'timeSeconds'], read: integer, show: str },
  AUTO_CLOSE_TEXT: { path: ['automaticActions', 'autoClose', 'text'], read: string, show: str },
  WORKTIME_ENABLE: { path: ['workingHours', 'enabled'], read: flag, show: yn },
  WORKTIME_TIMEZONE: { path: ['workingHours', 'timeZone'], read: string, show: str },
  WORKTIME_DAYOFF_RULE: { path: ['workingHours', 'offHoursRule'], read: oneOf(['text', 'none']), show: str },
  WORKTIME_DAYOFF_TEXT: { path: ['workingHours', 'offHoursText'], read: string, show: str },
  VOTE_MESSAGE: { path: ['rating', 'enabled'], read: flag, show: yn },
  VOTE_TIME_LIMIT: { path: ['rating', 'timeLimitSeconds'], read: integer, show: str },
  VOTE_CLOSING_DELAY: { path: ['rating', 'closeAfterRating'], read: flag, show: yn },
  VOTE_BEFORE_FINISH: { path: ['rating', 'allowBeforeFinish'], read: flag, show: yn },
  VOTE_MESSAGE_1_TEXT: { path: ['rating', 'widget', 'question'], read: string, show: str },
  VOTE_MESSAGE_1_LIKE: { path: ['rating', 'widget', 'like'], read: string, show: str },
  VOTE_MESSAGE_1_DISLIKE: { path: ['rating', 'widget', 'dislike'], read: string, show: str },
  VOTE_MESSAGE_2_TEXT: { path: ['rating', 'messenger', 'question'], read: string, show: str },
  VOTE_MESSAGE_2_LIKE: { path: ['rating', 'messenger', 'like'], read: string, show: str },
  VOTE_MESSAGE_2_DISLIKE: { path: ['rating', 'messenger', 'dislike'], read: string, show: str },
  AGREEMENT_MESSAGE: { path: ['agreement', 'required'], read: flag, show: yn },
  CRM: { path: ['crm', 'enabled'], read: flag, show: yn },
  CRM_CREATE: { path: ['crm', 'create'], read: oneOf(['none', 'lead', 'deal']), show: str },
  CRM_FORWARD: { path: ['crm', 'forwardToResponsible'], read: flag, show: yn },
  CRM_SOURCE: { path: ['crm', 'source'], read: string, show: str },
  CRM_TRANSFER_CHANGE: { path: ['crm', 'changeResponsibleOnTransfer'], read: flag, show: yn },
  KPI_FIRST_ANSWER_TIME: { path: ['kpi', 'firstAnswer', 'targetSeconds'], read: integer, show: str },
  KPI_FIRST_ANSWER_ALERT: { path: ['kpi', 'firstAnswer', 'alert'], read: flag, show: yn },
  KPI_FURTHER_ANSWER_TIME: { path: ['kpi', 'furtherAnswer', 'targetSeconds'], read: integer, show: str },
  KPI_FURTHER_ANSWER_ALERT: { path: ['kpi', 'furtherAnswer', 'alert'], read: flag, show: yn },
  WELCOME_BOT_ENABLE: { path: ['bot', 'welcomeBot', 'enabled'], read: flag, show: yn },
  WELCOME_BOT_JOIN: { path: ['bot', 'welcomeBot', 'join'], read: oneOf(['first', 'always']), show: str },
  WELCOME_BOT_TIME: { path: ['bot', 'welcomeBot', 'timeSeconds'], read: integer, show: str },
  WELCOME_BOT_LEFT: {
    path: ['bot', 'welcomeBot', 'whenLeaving'],
    read: oneOf(['queue', 'close']),
    show: str,
  },
};

/** PARAMS this module maps (besides LINE_NAME, ACTIVE, QUEUE and the WORKTIME_FROM/TO/DAYOFF/HOLIDAYS group). */
export const MAPPED_PARAMS = [
  'LINE_NAME',
  'ACTIVE',
  'QUEUE',
  'WORKTIME_FROM',
  'WORKTIME_TO',
  'WORKTIME_DAYOFF',
  'WORKTIME_HOLIDAYS',
  'WELCOME_BOT_ID',
  ...Object.keys(FIELDS),
];

const BITRIX_DAYS: Record<string, Weekday> = {
  MO: 'mon',
  TU: 'tue',
  WE: 'wed',
  TH: 'thu',
  FR: 'fri',
  SA: 'sat',
  SU: 'sun',
};
const DAY_NAMES = Object.fromEntries(Object.entries(BITRIX_DAYS).map(([bitrix, ours]) => [ours, bitrix]));
const WEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Bitrix24's `9` / `18.30` (hours[.minutes]) → `09:00` / `18:30`; `HH:MM` (as [D] documents) too. */
export function timeOf(value: unknown, param: string): string {
  const text = typeof value === 'number' ? String(value) : value;
  const match = typeof text === 'string' ? /^(\d{1,2})(?:[.:](\d{1,2}))?$/.exec(text) : null;
  if (!match) throw fail(param, 'must be a time such as 9, 18.30 or 18:30');
  const hours = Number(match[1]);
  const minutes = match[2] === undefined ? 0 : Number(match[2].length === 1 ? `${match[2]}0` : match[2]);
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) throw fail(param, 'is not a time of day');
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

/** `09:00` → `9`, `18:30` → `18.30`, as Bitrix24 stores them. */
export function bitrixTime(time: string): string {
  const [hours = '0', minutes = '00'] = time.split(':');
  return minutes === '00' ? String(Number(hours)) : `${Number(hours)}.${minutes}`;
}

function listOf(value: unknown, param: string): unknown[] {
  if (typeof value === 'string') return value === '' ? [] : value.split(',').map((part) => part.trim());
  const list = asList(value);
  if (!list) throw fail(param, 'must be a list');
  return list;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function getPath(source: unknown, path: readonly string[]): unknown {
  let node = source;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return node;
}

/** PARAMS → a patch of our line. `current` is the stored line's settings on update (for WORKTIME_*). */
export function linePatchOf(params: unknown, current: LineSettings | null): LinePatch {
  if (params === undefined || params === null || params === '') return { settings: {} };
  if (!isObject(params)) throw argumentError('PARAMS must be an object');
  const patch: LinePatch = { settings: {} };
  const settings = patch.settings as Record<string, unknown>;
  for (const [param, value] of Object.entries(params)) {
    const field = Object.hasOwn(FIELDS, param) ? FIELDS[param] : undefined;
    if (field) {
      setPath(settings, field.path, field.read(value, param));
      continue;
    }
    if (param === 'LINE_NAME') {
      const name = string(value, param) as string;
      if (name.trim() === '' || name.length > 200) throw fail(param, 'must be 1 to 200 characters');
      patch.name = name;
    } else if (param === 'ACTIVE') {
      patch.active = flag(value, param) as boolean;
    } else if (param === 'QUEUE') {
      patch.queue = queueOf(value);
    } else if (param === 'WELCOME_BOT_ID') {
      patch.welcomeBot = integer(value, param) as number;
    } else if (!['WORKTIME_FROM', 'WORKTIME_TO', 'WORKTIME_DAYOFF', 'WORKTIME_HOLIDAYS'].includes(param)) {
      throw new BitrixError(
        'ERROR_ARGUMENT',
        `PARAMS[${param}] is not supported by this server (docs/bitrix24-compat.md lists the supported fields)`,
      );
    }
  }
  const hasFrom = Object.hasOwn(params, 'WORKTIME_FROM');
  const hasTo = Object.hasOwn(params, 'WORKTIME_TO');
  if (hasFrom !== hasTo) throw fail(hasFrom ? 'WORKTIME_TO' : 'WORKTIME_FROM', 'is required with the other');
  if (hasFrom) {
    const from = timeOf(params.WORKTIME_FROM, 'WORKTIME_FROM');
    const to = timeOf(params.WORKTIME_TO, 'WORKTIME_TO');
    if (to <= from) throw fail('WORKTIME_TO', 'must be later than WORKTIME_FROM');
    // One interval for every day, as Bitrix24 has; the days off say which days are closed.
    setPath(
      settings,
      ['workingHours', 'weekly'],
      Object.fromEntries(WEEK.map((day) => [day, [{ from, to }]])),
    );
    if (!Object.hasOwn(params, 'WORKTIME_DAYOFF')) {
      // Days that had no hours stay closed, rather than opening every day of the week.
      const closed = current
        ? WEEK.filter((day) => current.workingHours.weekly[day].length === 0)
        : ['sat', 'sun'];
      const daysOff = new Set([...(current?.workingHours.daysOff ?? []), ...closed]);
      setPath(
        settings,
        ['workingHours', 'daysOff'],
        WEEK.filter((day) => daysOff.has(day)),
      );
    }
  }
  if (Object.hasOwn(params, 'WORKTIME_DAYOFF')) {
    const days = listOf(params.WORKTIME_DAYOFF, 'WORKTIME_DAYOFF').map((day) => {
      const ours = typeof day === 'string' ? BITRIX_DAYS[day.toUpperCase()] : undefined;
      if (!ours) throw fail('WORKTIME_DAYOFF', 'must list days as MO, TU, WE, TH, FR, SA, SU');
      return ours;
    });
    setPath(
      settings,
      ['workingHours', 'daysOff'],
      WEEK.filter((day) => days.includes(day)),
    );
  }
  if (Object.hasOwn(params, 'WORKTIME_HOLIDAYS')) {
    const holidays = listOf(params.WORKTIME_HOLIDAYS, 'WORKTIME_HOLIDAYS').map((day) => {
      const match = typeof day === 'string' ? /^(\d{2})\.(\d{2})$/.exec(day) : null;
      if (!match) throw fail('WORKTIME_HOLIDAYS', 'must list dates as DD.MM');
      return `${match[2]}-${match[1]}`;
    });
    setPath(settings, ['workingHours', 'holidays'], [...new Set(holidays)]);
  }
  return patch;
}

function queueOf(value: unknown): NonNullable<LinePatch['queue']> {
  const list = asList(value);
  if (!list) throw fail('QUEUE', 'must be a list of user ids or {ENTITY_TYPE, ENTITY_ID}');
  return list.map((item) => {
    const entry = isObject(item) ? item : { ENTITY_TYPE: 'user', ENTITY_ID: item };
    const type = entry.ENTITY_TYPE;
    if (type !== 'user' && type !== 'department')
      throw fail('QUEUE', 'ENTITY_TYPE must be user or department');
    const id = integer(entry.ENTITY_ID, 'QUEUE') as number;
    if (id === 0) throw fail('QUEUE', 'ENTITY_ID must be a positive id');
    return { type, numericId: id };
  });
}

/** Our validation's field (`body.settings.queue.maxChat`) → the PARAMS name it came from. */
export function paramOfField(field: string): string | null {
  const path = field.replace(/^body\.settings\./, '').split('.');
  for (const [param, mapped] of Object.entries(FIELDS)) {
    if (mapped.path.every((key, index) => path[index] === key)) return param;
  }
  if (path[0] === 'workingHours' && (path[1] === 'weekly' || path[1] === 'daysOff')) return 'WORKTIME_FROM';
  if (path[0] === 'workingHours' && path[1] === 'holidays') return 'WORKTIME_HOLIDAYS';
  if (path[0] === 'queue' && path[1] === 'members') return 'QUEUE';
  if (path[0] === 'bot' && path[1] === 'welcomeBot' && path[2] === 'botId') return 'WELCOME_BOT_ID';
  return null;
}

/** Our line → `config.get`'s fields (numbers as strings); QUEUE as numeric user ids, given. */
export function paramsOf(
  line: { name: string; active: boolean; settings: LineSettings },
  ids: { line: number; queueUsers: number[]; welcomeBot?: number },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ID: String(ids.line),
    LINE_NAME: line.name,
    ACTIVE: line.active ? 'Y' : 'N',
    QUEUE: ids.queueUsers.map(String),
    WELCOME_BOT_ID: String(ids.welcomeBot ?? 0),
  };
  for (const [param, field] of Object.entries(FIELDS))
    out[param] = field.show(getPath(line.settings, field.path));
  const hours = line.settings.workingHours;
  const first = WEEK.map((day) => hours.weekly[day][0]).find((interval) => interval !== undefined);
  out.WORKTIME_FROM = first ? bitrixTime(first.from) : '9';
  out.WORKTIME_TO = first ? bitrixTime(first.to) : '18.30';
  const closed = WEEK.filter((day) => hours.daysOff.includes(day) || hours.weekly[day].length === 0);
  out.WORKTIME_DAYOFF = closed.map((day) => DAY_NAMES[day]);
  out.WORKTIME_HOLIDAYS = hours.holidays.flatMap((date) => {
    const match = /^(?:\d{4}-)?(\d{2})-(\d{2})$/.exec(date);
    return match ? [`${match[2]}.${match[1]}`] : [];
  });
  return out;
}
