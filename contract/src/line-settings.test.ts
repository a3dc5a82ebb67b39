import { Value } from '@sinclair/typebox/value';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  applyLineSettingsPatch,
  defaultLineSettings,
  defaultTexts,
  LINE_LANGUAGES,
  LINE_SETTINGS_VERSION,
  type LineSettings,
  type LineSettingsPatch,
  LineSettingsPatchSchema,
  LineSettingsSchema,
  timeZoneProblem,
  validateLineSettings,
  validateLineSettingsPatch,
} from './line-settings';

function fieldsOf(result: ReturnType<typeof validateLineSettings>): string[] {
  return result.ok ? [] : result.errors.map((error) => error.field);
}

describe('defaults', () => {
  it.each(LINE_LANGUAGES)('are complete and valid in %s', (language) => {
    const settings = defaultLineSettings(language);
    expect(validateLineSettings(settings)).toEqual({ ok: true, value: settings });
    expect(settings.version).toBe(LINE_SETTINGS_VERSION);
    expect(settings.other.language).toBe(language);
    expect(settings.automaticActions.welcome.text).toBe(defaultTexts(language).welcome);
    expect(settings.rating.messenger).toEqual(defaultTexts(language).ratingMessenger);
  });

  it('default to English and to the product choices', () => {
    const settings = defaultLineSettings();
    expect(settings.other.language).toBe('en');
    expect(settings.queue).toMatchObject({
      distribution: 'evenly',
      queueTimeSeconds: 60,
      noAnswerTimeSeconds: 60,
      checkAvailable: true,
      maxChat: 0,
      typeMaxChat: 'answered',
    });
    expect(settings.automaticActions.autoClose.timeSeconds).toBe(14400);
    expect(settings.bot.welcomeBot.timeSeconds).toBe(600);
    expect(settings.other).toEqual({
      saveHistory: true,
      confirmClose: false,
      language: 'en',
      retentionDays: 0,
    });
  });

  it('are the schema defaults, with the texts of the language', () => {
    expect(Value.Create(LineSettingsSchema)).toEqual(defaultLineSettings('en'));
    expect(defaultLineSettings('ru').automaticActions.close.text).toMatch(/Спасибо/);
  });

  it('are fresh copies every time', () => {
    const first = defaultLineSettings();
    first.workingHours.weekly.mon.push({ from: '20:00', to: '21:00' });
    defaultTexts('en').ratingWidget.like = 'changed';
    expect(defaultLineSettings().workingHours.weekly.mon).toEqual([{ from: '09:00', to: '18:00' }]);
    expect(defaultTexts('en').ratingWidget.like).not.toBe('changed');
  });
});

describe('validateLineSettingsPatch', () => {
  const current = defaultLineSettings();
  const interval = (from: string, to: string) => ({ from, to });

  it.each<[string, unknown, string]>([
    ['queue time below 1', { queue: { queueTimeSeconds: 0 } }, 'queue.queueTimeSeconds'],
    ['queue time as a string', { queue: { queueTimeSeconds: '60' } }, 'queue.queueTimeSeconds'],
    ['queue time fractional', { queue: { queueTimeSeconds: 1.5 } }, 'queue.queueTimeSeconds'],
    ['unknown distribution', { queue: { distribution: 'random' } }, 'queue.distribution'],
    ['negative max chat', { queue: { maxChat: -1 } }, 'queue.maxChat'],
    ['boolean as a string', { queue: { checkAvailable: 'true' } }, 'queue.checkAvailable'],
    [
      'unknown member type',
      { queue: { members: [{ type: 'team', id: '00000000-0000-4000-8000-000000000001' }] } },
      'queue.members.0.type',
    ],
    ['empty member id', { queue: { members: [{ type: 'user', id: '' }] } }, 'queue.members.0.id'],
    [
      'member id that is not a UUID',
      { queue: { members: [{ type: 'user', id: 'sales' }] } },
      'queue.members.0.id',
    ],
    [
      'KPI recipient that is not a UUID',
      { kpi: { firstAnswer: { recipients: ['boss'] } } },
      'kpi.firstAnswer.recipients.0',
    ],
    [
      'duplicate member',
      {
        queue: {
          members: [
            { type: 'user', id: '00000000-0000-4000-8000-000000000007' },
            { type: 'department', id: '00000000-0000-4000-8000-000000000007' },
            { type: 'user', id: '00000000-0000-4000-8000-000000000007' },
          ],
        },
      },
      'queue.members.2',
    ],
    [
      'replaced operator without a name',
      { queue: { operatorData: { mode: 'replaced', replacementName: ' ' } } },
      'queue.operatorData.replacementName',
    ],
    [
      'avatar that is not http(s)',
      { queue: { operatorData: { replacementAvatarUrl: 'ftp://example.com/a.png' } } },
      'queue.operatorData.replacementAvatarUrl',
    ],
    ['unknown time zone', { workingHours: { timeZone: 'Mars/Olympus_Mons' } }, 'workingHours.timeZone'],
    ['offset instead of a zone', { workingHours: { timeZone: '+03:00' } }, 'workingHours.timeZone'],
    ['zone in the wrong case', { workingHours: { timeZone: 'europe/moscow' } }, 'workingHours.timeZone'],
    [
      'time without a leading zero',
      { workingHours: { weekly: { mon: [interval('9:00', '18:00')] } } },
      'workingHours.weekly.mon.0.from',
    ],
    [
      'end after 24:00',
      { workingHours: { weekly: { fri: [interval('10:00', '24:01')] } } },
      'workingHours.weekly.fri.0.to',
    ],
    [
      'interval crossing midnight',
      { workingHours: { weekly: { tue: [interval('22:00', '06:00')] } } },
      'workingHours.weekly.tue.0.to',
    ],
    [
      'empty interval',
      { workingHours: { weekly: { tue: [interval('10:00', '10:00')] } } },
      'workingHours.weekly.tue.0.to',
    ],
    [
      'overlapping intervals',
      { workingHours: { weekly: { wed: [interval('12:00', '18:00'), interval('09:00', '13:00')] } } },
      'workingHours.weekly.wed.0',
    ],
    [
      'interval inside another',
      {
        workingHours: {
          weekly: {
            thu: [interval('08:00', '20:00'), interval('09:00', '10:00'), interval('19:00', '21:00')],
          },
        },
      },
      'workingHours.weekly.thu.1',
    ],
    [
      'overlap in the widget schedule',
      {
        workingHours: {
          widget: { custom: { sat: [interval('10:00', '14:00'), interval('13:59', '15:00')] } },
        },
      },
      'workingHours.widget.custom.sat.1',
    ],
    ['unknown widget mode', { workingHours: { widget: { mode: 'never' } } }, 'workingHours.widget.mode'],
    ['duplicate day off', { workingHours: { daysOff: ['sat', 'sat'] } }, 'workingHours.daysOff'],
    ['unknown day off', { workingHours: { daysOff: ['saturday'] } }, 'workingHours.daysOff.0'],
    ['no such date', { workingHours: { holidays: ['2024-01-01', '2025-02-29'] } }, 'workingHours.holidays.1'],
    ['no such yearly date', { workingHours: { holidays: ['04-31'] } }, 'workingHours.holidays.0'],
    ['holiday in another format', { workingHours: { holidays: ['01.05'] } }, 'workingHours.holidays.0'],
    [
      'off-hours text required',
      { workingHours: { offHoursRule: 'text', offHoursText: '' } },
      'workingHours.offHoursText',
    ],
    ['agreement text required', { agreement: { required: true, text: '  ' } }, 'agreement.text'],
    [
      'welcome text required',
      { automaticActions: { welcome: { enabled: true, text: '' } } },
      'automaticActions.welcome.text',
    ],
    [
      'unknown contact form moment',
      { automaticActions: { contactForm: { when: 'always' } } },
      'automaticActions.contactForm.when',
    ],
    [
      'close text required',
      { automaticActions: { close: { rule: 'text', text: '' } } },
      'automaticActions.close.text',
    ],
    [
      'legacy rule value',
      { automaticActions: { noAnswer: { rule: 'form' } } },
      'automaticActions.noAnswer.rule',
    ],
    [
      'auto-close too soon',
      { automaticActions: { autoClose: { timeSeconds: 30 } } },
      'automaticActions.autoClose.timeSeconds',
    ],
    [
      'channel kind in capitals',
      { automaticActions: { perChannelKind: { Telegram: { welcome: 'Hi' } } } },
      'automaticActions.perChannelKind.Telegram',
    ],
    [
      'unknown text in a channel override',
      { automaticActions: { perChannelKind: { telegram: { greeting: 'Hi' } } } },
      'automaticActions.perChannelKind.telegram.greeting',
    ],
    [
      'empty channel override',
      { automaticActions: { perChannelKind: { vk: { close: '' } } } },
      'automaticActions.perChannelKind.vk.close',
    ],
    [
      'rating text over 100 characters',
      { rating: { widget: { like: 'x'.repeat(101) } } },
      'rating.widget.like',
    ],
    ['empty rating question', { rating: { messenger: { question: '' } } }, 'rating.messenger.question'],
    [
      'delayed rating without a delay',
      { rating: { when: 'after_delay', delaySeconds: 0 } },
      'rating.delaySeconds',
    ],
    ['negative rating time limit', { rating: { timeLimitSeconds: -5 } }, 'rating.timeLimitSeconds'],
    ['welcome bot without a bot', { bot: { welcomeBot: { enabled: true } } }, 'bot.welcomeBot.botId'],
    ['unknown bot join', { bot: { welcomeBot: { join: 'sometimes' } } }, 'bot.welcomeBot.join'],
    [
      'KPI alert without a target',
      { kpi: { firstAnswer: { alert: true } } },
      'kpi.firstAnswer.targetSeconds',
    ],
    [
      'unknown KPI placeholder',
      { kpi: { furtherAnswer: { messageText: '#USER# is late in #DIALOG#' } } },
      'kpi.furtherAnswer.messageText',
    ],
    [
      'duplicate KPI recipient',
      {
        kpi: {
          firstAnswer: {
            recipients: ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001'],
          },
        },
      },
      'kpi.firstAnswer.recipients',
    ],
    ['unknown CRM entity', { crm: { create: 'contact' } }, 'crm.create'],
    ['unknown language', { other: { language: 'de' } }, 'other.language'],
    ['another version', { version: 2 }, 'version'],
    ['unknown field in a section', { queue: { queueTime: 60 } }, 'queue.queueTime'],
    ['unknown section', { widget: {} }, 'widget'],
    ['section that is not an object', { queue: null }, 'queue'],
  ])('rejects %s', (_name, patch, field) => {
    const result = validateLineSettingsPatch(current, patch);
    expect(result.ok).toBe(false);
    expect(fieldsOf(result)).toContain(field);
    if (!result.ok) for (const error of result.errors) expect(error.message).not.toBe('');
  });

  it('names the allowed values of a closed set', () => {
    const result = validateLineSettingsPatch(current, { queue: { distribution: 'random' } });
    expect(result).toEqual({
      ok: false,
      errors: [{ field: 'queue.distribution', message: 'Expected one of "evenly", "strictly", "all"' }],
    });
  });

  it('accepts an empty patch and returns the current settings', () => {
    expect(validateLineSettingsPatch(current, {})).toEqual({ ok: true, value: current });
  });

  it('accepts a valid patch and returns the merged settings', () => {
    const result = validateLineSettingsPatch(current, {
      version: LINE_SETTINGS_VERSION,
      queue: {
        distribution: 'all',
        members: [{ type: 'department', id: '00000000-0000-4000-8000-000000000005' }],
      },
      workingHours: { enabled: true, timeZone: 'Europe/Moscow' },
    });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.queue.distribution).toBe('all');
      expect(result.value.workingHours.timeZone).toBe('Europe/Moscow');
    }
  });

  it('refuses a __proto__ key instead of touching the prototype', () => {
    const result = validateLineSettingsPatch(current, JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(fieldsOf(result)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('applyLineSettingsPatch', () => {
  it('merges objects and keeps untouched fields', () => {
    const current = defaultLineSettings('ru');
    const merged = applyLineSettingsPatch(current, {
      queue: { maxChat: 5, operatorData: { mode: 'hidden' } },
      workingHours: { weekly: { sat: [{ from: '10:00', to: '14:00' }] } },
    });
    expect(merged.queue.maxChat).toBe(5);
    expect(merged.queue.operatorData).toEqual({ ...current.queue.operatorData, mode: 'hidden' });
    expect(merged.queue.queueTimeSeconds).toBe(current.queue.queueTimeSeconds);
    expect(merged.workingHours.weekly).toEqual({
      ...current.workingHours.weekly,
      sat: [{ from: '10:00', to: '14:00' }],
    });
    expect({ ...merged, queue: current.queue, workingHours: current.workingHours }).toEqual(current);
    expect(validateLineSettings(merged).ok).toBe(true);
  });

  it('replaces arrays and maps wholesale', () => {
    const current = applyLineSettingsPatch(defaultLineSettings(), {
      queue: {
        members: [
          { type: 'user', id: '00000000-0000-4000-8000-000000000001' },
          { type: 'user', id: '00000000-0000-4000-8000-000000000002' },
        ],
      },
      automaticActions: { perChannelKind: { telegram: { welcome: 'Hi!' }, email: { close: 'Bye.' } } },
    });
    const merged = applyLineSettingsPatch(current, {
      queue: { members: [{ type: 'department', id: '00000000-0000-4000-8000-000000000009' }] },
      automaticActions: { perChannelKind: { telegram: { close: 'See you' } } },
    });
    expect(merged.queue.members).toEqual([
      { type: 'department', id: '00000000-0000-4000-8000-000000000009' },
    ]);
    expect(merged.automaticActions.perChannelKind).toEqual({ telegram: { close: 'See you' } });
  });

  it('modifies neither argument and shares no objects with them', () => {
    const current = defaultLineSettings();
    const before = structuredClone(current);
    const patch: LineSettingsPatch = { workingHours: { holidays: ['01-01'] } };
    const merged = applyLineSettingsPatch(current, patch);
    merged.workingHours.holidays.push('12-25');
    merged.workingHours.weekly.mon.push({ from: '20:00', to: '21:00' });
    expect(current).toEqual(before);
    expect(patch).toEqual({ workingHours: { holidays: ['01-01'] } });
  });
});

describe('validateLineSettings', () => {
  it('rejects an unknown field anywhere', () => {
    const settings = { ...defaultLineSettings(), extra: true };
    expect(fieldsOf(validateLineSettings(settings))).toEqual(['extra']);
    const nested = defaultLineSettings() as LineSettings & { rating: { emoji?: boolean } };
    nested.rating.emoji = true;
    expect(fieldsOf(validateLineSettings(nested))).toEqual(['rating.emoji']);
  });

  it('rejects a missing field', () => {
    const settings: Partial<LineSettings['crm']> = { ...defaultLineSettings().crm };
    delete settings.source;
    const result = validateLineSettings({ ...defaultLineSettings(), crm: settings });
    expect(result).toEqual({
      ok: false,
      errors: [{ field: 'crm.source', message: 'Required field is missing' }],
    });
  });

  it('never coerces a wrong type', () => {
    const settings = defaultLineSettings() as unknown as { queue: { maxChat: unknown } };
    settings.queue.maxChat = '3';
    expect(fieldsOf(validateLineSettings(settings))).toEqual(['queue.maxChat']);
    expect(settings.queue.maxChat).toBe('3');
    expect(fieldsOf(validateLineSettings(null))).toEqual(['']);
  });

  it.each(['UTC', 'Europe/Moscow', 'America/Argentina/Buenos_Aires', 'Etc/GMT+3', 'Asia/Kolkata'])(
    'accepts the time zone %s',
    (timeZone) => {
      expect(timeZoneProblem(timeZone)).toBeNull();
      const settings = applyLineSettingsPatch(defaultLineSettings(), { workingHours: { timeZone } });
      expect(validateLineSettings(settings).ok).toBe(true);
    },
  );

  it.each(['Europe/Atlantis', 'Moscow', 'GMT+3:00', '', 'europe/berlin'])(
    'rejects the time zone %j',
    (timeZone) => {
      const settings = applyLineSettingsPatch(defaultLineSettings(), { workingHours: { timeZone } });
      expect(fieldsOf(validateLineSettings(settings))).toContain('workingHours.timeZone');
    },
  );

  it('suggests the right spelling of a zone written in the wrong case', () => {
    expect(timeZoneProblem('europe/berlin')).toMatch(/'Europe\/Berlin'/);
  });

  it('rejects overlapping intervals and accepts touching, unordered and end-of-day ones', () => {
    const withMonday = (mon: { from: string; to: string }[]) =>
      validateLineSettings(
        applyLineSettingsPatch(defaultLineSettings(), { workingHours: { weekly: { mon } } }),
      );
    expect(
      withMonday([
        { from: '14:00', to: '24:00' },
        { from: '00:00', to: '09:00' },
        { from: '09:00', to: '14:00' },
      ]).ok,
    ).toBe(true);
    const overlapping = withMonday([
      { from: '09:00', to: '12:00' },
      { from: '11:30', to: '18:00' },
    ]);
    expect(overlapping).toEqual({
      ok: false,
      errors: [{ field: 'workingHours.weekly.mon.1', message: 'Overlaps the interval 09:00–12:00' }],
    });
  });

  it('accepts yearly and leap-day holidays', () => {
    const settings = applyLineSettingsPatch(defaultLineSettings(), {
      workingHours: { holidays: ['01-01', '02-29', '2024-02-29', '2025-05-09'] },
    });
    expect(validateLineSettings(settings).ok).toBe(true);
  });

  it('accepts per-channel overrides of any registered kind', () => {
    const settings = applyLineSettingsPatch(defaultLineSettings(), {
      automaticActions: { perChannelKind: { telegram: { welcome: 'Hi!' }, my_crm_2: { autoClose: 'Bye' } } },
    });
    expect(validateLineSettings(settings).ok).toBe(true);
  });
});

describe('static types', () => {
  it('keep closed sets, nullability and deep optionality', () => {
    expectTypeOf<LineSettings['queue']['distribution']>().toEqualTypeOf<'evenly' | 'strictly' | 'all'>();
    expectTypeOf<LineSettings['workingHours']['daysOff']>().toEqualTypeOf<
      ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[]
    >();
    expectTypeOf<LineSettings['bot']['welcomeBot']['botId']>().toEqualTypeOf<string | null>();
    expectTypeOf<LineSettings['version']>().toEqualTypeOf<1>();
    expectTypeOf<NonNullable<NonNullable<LineSettingsPatch['rating']>['widget']>>().toEqualTypeOf<{
      question?: string;
      like?: string;
      dislike?: string;
    }>();
    expectTypeOf<NonNullable<LineSettingsPatch['queue']>['members']>().toEqualTypeOf<
      { type: 'user' | 'department'; id: string }[] | undefined
    >();
  });
});

describe('LineSettingsPatchSchema', () => {
  it('has no defaults, so a validator that fills defaults cannot invent changes', () => {
    expect(JSON.stringify(LineSettingsPatchSchema)).not.toContain('"default"');
    expect(Value.Check(LineSettingsPatchSchema, {})).toBe(true);
    expect(Value.Check(LineSettingsPatchSchema, { rating: { widget: {} } })).toBe(true);
  });

  it('is closed at every level', () => {
    expect(Value.Check(LineSettingsPatchSchema, { rating: { widget: { emoji: 'x' } } })).toBe(false);
  });
});
