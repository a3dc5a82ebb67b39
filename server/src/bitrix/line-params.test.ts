import { defaultLineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import { BitrixError } from './errors';
import { bitrixTime, linePatchOf, paramOfField, paramsOf, timeOf } from './line-params';

const refused = (params: unknown) => {
  try {
    linePatchOf(params, null);
  } catch (error) {
    if (error instanceof BitrixError) return `${error.code}: ${error.description}`;
    throw error;
  }
  return 'accepted';
};

describe('imopenlines.config PARAMS → our line settings', () => {
  it.each([
    [{ QUEUE_TYPE: 'evenly' }, { queue: { distribution: 'evenly' } }],
    [{ QUEUE_TYPE: 'ALL' }, { queue: { distribution: 'all' } }],
    [{ QUEUE_TIME: '90', MAX_CHAT: 5 }, { queue: { queueTimeSeconds: 90, maxChat: 5 } }],
    [{ CHECK_AVAILABLE: 'N', WATCH_TYPING: true }, { queue: { checkAvailable: false, watchTyping: true } }],
    [{ CLOSE_RULE: 'quality' }, { automaticActions: { close: { rule: 'text' } } }],
    [
      { WELCOME_MESSAGE: 'Y', WELCOME_MESSAGE_TEXT: '[b]Hi[/b]' },
      { automaticActions: { welcome: { enabled: true, text: '[b]Hi[/b]' } } },
    ],
    [{ CRM_CREATE: 'deal', CRM: 'N' }, { crm: { create: 'deal', enabled: false } }],
    [{ LANGUAGE_ID: 'ru' }, { other: { language: 'ru' } }],
    [{ WORKTIME_DAYOFF: ['SA', 'SU'] }, { workingHours: { daysOff: ['sat', 'sun'] } }],
    [{ WORKTIME_DAYOFF: 'MO,SU' }, { workingHours: { daysOff: ['mon', 'sun'] } }],
    [{ WORKTIME_HOLIDAYS: '01.01,08.03' }, { workingHours: { holidays: ['01-01', '03-08'] } }],
    [
      { KPI_FIRST_ANSWER_TIME: '60', KPI_FIRST_ANSWER_ALERT: 'Y' },
      { kpi: { firstAnswer: { targetSeconds: 60, alert: true } } },
    ],
  ])('%j', (params, settings) => {
    expect(linePatchOf(params, null).settings).toEqual(settings);
  });

  it('takes LINE_NAME, ACTIVE and QUEUE (plain ids and entity objects) apart from the settings', () => {
    expect(
      linePatchOf(
        { LINE_NAME: 'Sales', ACTIVE: 'N', QUEUE: ['5', { ENTITY_TYPE: 'department', ENTITY_ID: 3 }] },
        null,
      ),
    ).toEqual({
      name: 'Sales',
      active: false,
      settings: {},
      queue: [
        { type: 'user', numericId: 5 },
        { type: 'department', numericId: 3 },
      ],
    });
  });

  it('sets one interval for every day from WORKTIME_FROM/TO, keeping closed days closed', () => {
    const patch = linePatchOf({ WORKTIME_FROM: '8.30', WORKTIME_TO: '17' }, defaultLineSettings());
    expect(patch.settings.workingHours?.weekly?.mon).toEqual([{ from: '08:30', to: '17:00' }]);
    expect(patch.settings.workingHours?.weekly?.sun).toEqual([{ from: '08:30', to: '17:00' }]);
    expect(patch.settings.workingHours?.daysOff).toEqual(['sat', 'sun']);
  });

  it.each([
    [{ QUEUE_TYPE: 'random' }, 'PARAMS[QUEUE_TYPE]: must be one of evenly, strictly, all'],
    [{ QUEUE_TIME: '-1' }, 'PARAMS[QUEUE_TIME]: must be a non-negative integer'],
    [{ QUEUE_TIME: 1.5 }, 'PARAMS[QUEUE_TIME]'],
    [{ ACTIVE: 'yes' }, 'PARAMS[ACTIVE]: must be Y or N'],
    [{ LINE_NAME: '' }, 'PARAMS[LINE_NAME]'],
    [{ LINE_NAME: 'x'.repeat(201) }, 'PARAMS[LINE_NAME]'],
    [{ WORKTIME_FROM: '9' }, 'PARAMS[WORKTIME_TO]: is required with the other'],
    [{ WORKTIME_FROM: '18', WORKTIME_TO: '9' }, 'PARAMS[WORKTIME_TO]: must be later'],
    [{ WORKTIME_FROM: '9am', WORKTIME_TO: '18' }, 'PARAMS[WORKTIME_FROM]'],
    [{ WORKTIME_DAYOFF: ['XX'] }, 'PARAMS[WORKTIME_DAYOFF]'],
    [{ WORKTIME_HOLIDAYS: ['2026-01-01'] }, 'PARAMS[WORKTIME_HOLIDAYS]'],
    [{ QUEUE: [{ ENTITY_TYPE: 'group', ENTITY_ID: 1 }] }, 'PARAMS[QUEUE]'],
    [{ QUEUE: 'everyone' }, 'PARAMS[QUEUE]'],
    [{ OPERATOR_DATA: 'profile' }, 'PARAMS[OPERATOR_DATA] is not supported'],
    [{ WELCOME_BOT_JOIN: 'sometimes' }, 'PARAMS[WELCOME_BOT_JOIN]: must be one of first, always'],
    [{ WELCOME_BOT_LEFT: 'never' }, 'PARAMS[WELCOME_BOT_LEFT]'],
    [{ WELCOME_BOT_ID: 'bot' }, 'PARAMS[WELCOME_BOT_ID]'],
    ['not an object', 'PARAMS must be an object'],
  ])('refuses %j', (params, message) => {
    const answer = refused(params);
    expect(answer).toMatch(/^ERROR_ARGUMENT: /);
    expect(answer).toContain(message);
  });

  it('maps the welcome bot (WELCOME_BOT_*), leaving its id to the caller to resolve', () => {
    const patch = linePatchOf(
      {
        WELCOME_BOT_ENABLE: 'Y',
        WELCOME_BOT_ID: '12',
        WELCOME_BOT_JOIN: 'first',
        WELCOME_BOT_TIME: '300',
        WELCOME_BOT_LEFT: 'close',
      },
      null,
    );
    expect(patch.welcomeBot).toBe(12);
    expect(patch.settings.bot?.welcomeBot).toEqual({
      enabled: true,
      join: 'first',
      timeSeconds: 300,
      whenLeaving: 'close',
    });
    expect(paramOfField('body.settings.bot.welcomeBot.botId')).toBe('WELCOME_BOT_ID');
    expect(paramOfField('body.settings.bot.welcomeBot.timeSeconds')).toBe('WELCOME_BOT_TIME');
  });

  it('names the PARAMS field of our validation errors', () => {
    expect(paramOfField('body.settings.queue.queueTimeSeconds')).toBe('QUEUE_TIME');
    expect(paramOfField('body.settings.workingHours.weekly.mon.0.to')).toBe('WORKTIME_FROM');
    expect(paramOfField('body.settings.queue.members.0.id')).toBe('QUEUE');
    expect(paramOfField('body.settings.unknown')).toBeNull();
  });

  it('answers config.get with strings and Bitrix24 times, as Bitrix24 does', () => {
    const settings = defaultLineSettings();
    settings.workingHours.weekly.mon = [{ from: '08:30', to: '17:00' }];
    const params = paramsOf({ name: 'Sales', active: true, settings }, { line: 7, queueUsers: [3] });
    expect(params).toMatchObject({
      ID: '7',
      LINE_NAME: 'Sales',
      ACTIVE: 'Y',
      QUEUE: ['3'],
      QUEUE_TIME: '60',
      CHECK_AVAILABLE: 'Y',
      WORKTIME_FROM: '8.30',
      WORKTIME_TO: '17',
      WORKTIME_DAYOFF: ['SA', 'SU'],
    });
    // What get answers, add takes back unchanged (the round trip of every mapped field).
    const { ID: _id, QUEUE: _queue, ...writable } = params;
    const again = linePatchOf(writable, settings);
    expect(again.name).toBe('Sales');
    expect(again.settings.queue?.queueTimeSeconds).toBe(60);
  });

  it.each([
    ['9', '09:00'],
    ['18.30', '18:30'],
    ['18.3', '18:30'],
    ['18:30', '18:30'],
    [9, '09:00'],
    ['24', '24:00'],
  ])('time %j → %s', (value, time) => {
    expect(timeOf(value, 'WORKTIME_FROM')).toBe(time);
  });

  it.each([
    ['09:00', '9'],
    ['18:30', '18.30'],
  ])('%s → Bitrix24 %s', (time, bitrix) => expect(bitrixTime(time)).toBe(bitrix));
});
