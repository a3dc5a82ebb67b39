import { type BuiltinBotDefinition, defaultLineSettings, type LineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  answerBuiltinBot,
  asksForOperator,
  botTimeout,
  definitionErrors,
  matchOption,
  noAnswerBotFor,
  startBuiltinBot,
  welcomeBotFor,
  wordStems,
} from './bots';
import { planSessionStart } from './new-session';
import type { OperatorState } from './routing';
import { transition } from './session-machine';

const now = new Date('2026-03-02T10:00:00Z');
const after = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const BOT = '11111111-1111-4111-8111-111111111111';
const OPERATOR = '22222222-2222-4222-8222-222222222222';

function withBot(
  patch: Partial<LineSettings['bot']['welcomeBot']>,
  base = defaultLineSettings('en'),
): LineSettings {
  return { ...base, bot: { welcomeBot: { ...base.bot.welcomeBot, enabled: true, botId: BOT, ...patch } } };
}

/** A two-step menu in Russian and English, as an admin would build it. */
const MENU: BuiltinBotDefinition = {
  steps: [
    {
      id: 'start',
      text: 'Здравствуйте! Что вас интересует?',
      options: [
        { title: 'Доставка', keywords: ['доставка', 'delivery'], action: { type: 'step', step: 'delivery' } },
        {
          title: 'Цены',
          keywords: ['цена', 'стоимость', 'price'],
          action: { type: 'answer', text: 'Цены на сайте.' },
        },
        { title: 'Оператор', keywords: [], action: { type: 'queue' } },
        { title: 'Sales', keywords: ['buy a car'], action: { type: 'operator', userId: OPERATOR } },
        { title: 'Contacts', keywords: ['call me'], action: { type: 'contact_form' } },
      ],
    },
    {
      id: 'delivery',
      text: 'Доставка 1–3 дня. Ещё вопросы?',
      options: [{ title: 'Назад', keywords: ['назад', 'back'], action: { type: 'step', step: 'start' } }],
    },
  ],
  fallbackText: 'Не понял. Выберите вариант.',
  handOverAfterMisses: 2,
};

describe('welcome bot (BOT-1)', () => {
  it.each([
    ['disabled', { enabled: false }, true, null],
    ['always, first session', { join: 'always' as const }, true, BOT],
    ['always, a later session', { join: 'always' as const }, false, BOT],
    ['first only, first session', { join: 'first' as const }, true, BOT],
    ['first only, a later session', { join: 'first' as const }, false, null],
    ['enabled without a bot', { botId: null }, true, null],
  ])('%s', (_name, patch, first, expected) => {
    expect(welcomeBotFor(withBot(patch), first)).toBe(expected);
  });

  it.each([
    [
      'queue after the time',
      { timeSeconds: 120, whenLeaving: 'queue' as const },
      'welcome',
      { dueAt: after(120), leave: 'queue' },
    ],
    [
      'close after the time (WELCOME_BOT_LEFT)',
      { timeSeconds: 60, whenLeaving: 'close' as const },
      'welcome',
      { dueAt: after(60), leave: 'close' },
    ],
    [
      'a no-answer bot never closes',
      { timeSeconds: 60, whenLeaving: 'close' as const },
      'no_answer',
      { dueAt: after(60), leave: 'queue' },
    ],
    ['0 = only when asked', { timeSeconds: 0 }, 'welcome', null],
  ] as const)('timeout: %s', (_name, patch, how, expected) => {
    expect(botTimeout(withBot(patch), now, how)).toEqual(expected);
  });
});

describe('no-answer → bot (AA-3)', () => {
  const settings = (() => {
    const base = defaultLineSettings('en');
    return {
      ...base,
      automaticActions: {
        ...base.automaticActions,
        noAnswer: { ...base.automaticActions.noAnswer, rule: 'bot' as const, botId: BOT },
      },
    };
  })();
  it.each([
    ['a queued session', { status: 'queued', botStartedAt: null, pinned: false }, BOT],
    ['an assigned session nobody answered', { status: 'assigned', botStartedAt: null, pinned: false }, BOT],
    [
      'an answered session stays with its operator',
      { status: 'client_waiting', botStartedAt: null, pinned: false },
      null,
    ],
    ['once per session', { status: 'queued', botStartedAt: now, pinned: false }, null],
    ['a pinned session', { status: 'assigned', botStartedAt: null, pinned: true }, null],
  ])('%s', (_name, session, expected) => {
    expect(noAnswerBotFor(settings, session)).toBe(expected);
  });
  it('rule text: no bot', () => {
    expect(
      noAnswerBotFor(defaultLineSettings('en'), { status: 'queued', botStartedAt: null, pinned: false }),
    ).toBeNull();
  });
  it('the machine takes a queued or assigned session to the bot, dropping the operator', () => {
    const result = transition(
      { status: 'assigned', lineId: 'l', operatorId: 'op', passedBy: [], offeredTo: [], pinned: false },
      { type: 'bot_takeover' },
    );
    expect(result).toMatchObject({ ok: true, status: 'bot', patch: { operatorId: null } });
  });
});

describe('words', () => {
  it.each([
    ['Доставкой', ['доставк']],
    ['ДОСТАВКА ёлок', ['доставк', 'елок']],
    ['deliveries, price!', ['deliveri', 'price']],
  ])('%s', (text, stems) => {
    expect(wordStems(text)).toEqual(stems);
  });

  it.each([
    ['позовите оператора', true],
    ['Хочу поговорить с живым человеком', true],
    ['can I talk to a human?', true],
    ['operator please', true],
    ['Где мой заказ?', false],
    ['delivery times', false],
    ['', false],
  ])('asks for a person: %s → %s', (text, expected) => {
    expect(asksForOperator(text)).toBe(expected);
  });
});

/** Why a row of the table below hands over, by its name. */
function whyOf(name: string): 'chosen' | 'asked' | 'misses' {
  if (name.includes('asks for a person')) return 'asked';
  if (name.includes('misses')) return 'misses';
  return 'chosen';
}

describe('built-in bot (BOT-3)', () => {
  it('greets with the start step and its buttons', () => {
    expect(startBuiltinBot(MENU)).toEqual({
      turns: [
        {
          text: 'Здравствуйте! Что вас интересует?',
          buttons: ['Доставка', 'Цены', 'Оператор', 'Sales', 'Contacts'].map((t) => ({ title: t, reply: t })),
        },
      ],
      state: { step: 'start', misses: 0 },
      handOver: null,
    });
  });

  const start = { step: 'start', misses: 0 };
  it.each([
    ['a tapped button (the title)', 'Доставка', 'Доставка'],
    ['the option number', '2', 'Цены'],
    ['a keyword in another form (ru)', 'а сколько стоит доставкой?', 'Доставка'],
    ['a keyword in another form (en)', 'what about deliveries', 'Доставка'],
    ['a keyword with several words, any order', 'please call me back', 'Contacts'],
    ['case and ё do not matter', 'ЦЕНА', 'Цены'],
    ['no match', 'привет', null],
    ['a number out of range', '9', null],
    ['a number on a line of a mail, under its subject', 'Re: Message from Shop\n\n2', 'Цены'],
    ['a number as it is listed', '2.', 'Цены'],
    ['a line copied from the numbered list', '1. Доставка', 'Доставка'],
    ['a title on a line of its own (en)', 'Re: hello\n\nsales', 'Sales'],
  ])('matches %s', (_name, text, title) => {
    expect(matchOption(MENU.steps[0]!, text)?.title ?? null).toBe(title);
  });

  it.each([
    [
      'goes to a step',
      start,
      'доставка',
      { step: 'delivery', texts: ['Доставка 1–3 дня. Ещё вопросы?'], handOver: null },
    ],
    ['answers and stays', start, 'цена', { step: 'start', texts: ['Цены на сайте.'], handOver: null }],
    [
      'back to the start',
      { step: 'delivery', misses: 0 },
      'назад',
      { step: 'start', texts: ['Здравствуйте! Что вас интересует?'], handOver: null },
    ],
    ['hands to the queue', start, 'Оператор', { step: 'start', texts: [], handOver: { type: 'queue' } }],
    [
      'hands to an operator',
      start,
      'Sales',
      { step: 'start', texts: [], handOver: { type: 'operator', userId: OPERATOR } },
    ],
    [
      'the client asks for a person',
      { step: 'delivery', misses: 1 },
      'позовите специалиста',
      { step: 'delivery', texts: [], handOver: { type: 'queue' } },
    ],
    [
      'fallback on a miss',
      start,
      'привет',
      { step: 'start', texts: ['Не понял. Выберите вариант.'], handOver: null },
    ],
    [
      'hands over after too many misses',
      { step: 'start', misses: 1 },
      'абракадабра',
      { step: 'start', texts: [], handOver: { type: 'queue' } },
    ],
    [
      'a session of an older version whose step is gone restarts at the first step',
      { step: 'gone', misses: 0 },
      'доставка',
      { step: 'delivery', texts: ['Доставка 1–3 дня. Ещё вопросы?'], handOver: null },
    ],
  ])('%s', (_name, state, text, expected) => {
    const reply = answerBuiltinBot(MENU, state, text);
    const why = { chosen: 'chosen', asked: 'asked_for_operator', misses: 'too_many_misses' } as const;
    expect({
      step: reply.state.step,
      texts: reply.turns.map((t) => t.text),
      handOver: reply.handOver,
      why: reply.why ?? null,
    }).toEqual({ ...expected, why: expected.handOver ? why[whyOf(_name)] : null });
  });

  it('asks for contact details, then hands over with what the next message gives (ru, en)', () => {
    const asked = answerBuiltinBot(MENU, start, 'call me');
    expect(asked).toMatchObject({
      turns: [],
      handOver: null,
      askContact: true,
      state: { step: 'start', misses: 0, awaiting: 'contact' },
    });
    expect(answerBuiltinBot(MENU, asked.state, 'Анна Петрова, +7 900 123-45-67')).toEqual({
      turns: [],
      state: { step: 'start', misses: 0 },
      handOver: { type: 'queue' },
      why: 'contact_left',
      contact: { name: 'Анна Петрова', phone: '+7 900 123-45-67' },
    });
    expect(answerBuiltinBot(MENU, asked.state, 'John, john@example.com').contact).toEqual({
      name: 'John',
      email: 'john@example.com',
    });
    // Nothing usable: the operators take over all the same, and nothing is stored.
    expect(answerBuiltinBot(MENU, asked.state, 'не хочу')).toMatchObject({
      handOver: { type: 'queue' },
      contact: {},
    });
    expect(answerBuiltinBot(MENU, asked.state, 'дайте оператора').why).toBe('asked_for_operator');
  });

  it('never hands over on misses when the limit is 0', () => {
    const patient = { ...MENU, handOverAfterMisses: 0 };
    expect(answerBuiltinBot(patient, { step: 'start', misses: 9 }, 'что?').handOver).toBeNull();
  });

  it('finds what JSON Schema cannot see', () => {
    const broken: BuiltinBotDefinition = {
      start: 'nowhere',
      steps: [
        {
          id: 'a',
          text: 'A',
          options: [
            { title: 'X', keywords: [], action: { type: 'step', step: 'b' } },
            { title: 'x', keywords: [], action: { type: 'queue' } },
          ],
        },
        { id: 'a', text: ' ', options: [] },
      ],
      fallbackText: '?',
      handOverAfterMisses: 1,
    };
    expect(definitionErrors(broken).map((e) => e.field)).toEqual([
      'steps.1.id',
      'start',
      'steps.0.options.0.action.step',
      'steps.0.options.1.title',
      'steps.1.text',
    ]);
    expect(definitionErrors(MENU)).toEqual([]);
  });
});

describe('a new session with a welcome bot (plan)', () => {
  function plan(
    settings: LineSettings,
    bot: Parameters<typeof planSessionStart>[0]['bot'],
    lineActive = true,
  ) {
    const online: OperatorState = {
      userId: 'a',
      presence: 'online',
      active: true,
      absences: [],
      openSessions: {},
      handling: [],
      lastAssignedAt: null,
    };
    return planSessionStart({
      settings: {
        ...settings,
        kpi: { ...settings.kpi, firstAnswer: { ...settings.kpi.firstAnswer, targetSeconds: 60 } },
      },
      routingSettings: {
        queueType: 'evenly',
        checkAvailable: true,
        maxChat: 0,
        typeMaxChat: 'answered',
        crmForward: false,
      },
      lineId: 'line',
      lineActive,
      offHours: false,
      channelKind: 'widget',
      firstSessionOfDialog: true,
      consentNeeded: false,
      pinnedOperatorId: null,
      contactFormText: 'form',
      queue: ['a'],
      operators: [online],
      strictCursor: null,
      bot,
      now,
    });
  }
  const builtin = {
    id: BOT,
    version: 3,
    kind: 'builtin' as const,
    name: 'Menu',
    avatarUrl: null,
    definition: MENU,
  };

  it('the bot holds it: not routed, no welcome, no operator timers; the bot timer and greeting', () => {
    const p = plan(withBot({ timeSeconds: 300 }), builtin);
    expect(p.status).toBe('bot');
    expect(p.operatorId).toBeNull();
    expect(p.decision).toBeNull();
    expect(p.transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
      [null, 'new', 'client_message'],
      ['new', 'bot', 'bot_started'],
    ]);
    expect(p.texts).toEqual([]);
    expect(p.timers).toEqual([{ kind: 'bot_timeout', dueAt: after(300), payload: { leave: 'queue' } }]);
    expect(p.waitingSince).toBeNull();
    expect(p.bot).toMatchObject({ id: BOT, version: 3, state: { step: 'start', misses: 0 } });
    expect(p.bot?.turns[0]?.text).toBe('Здравствуйте! Что вас интересует?');
  });

  it('an external bot: no greeting of ours, the bot answers', () => {
    const p = plan(withBot({ timeSeconds: 0 }), {
      id: BOT,
      version: 1,
      kind: 'external',
      name: 'Ext',
      avatarUrl: null,
      definition: null,
    });
    expect(p.status).toBe('bot');
    expect(p.bot).toEqual({ id: BOT, version: 1, kind: 'external', state: null, turns: [] });
    expect(p.timers).toEqual([]);
  });

  it('without a bot the session is routed and the operators’ timers start at once', () => {
    const p = plan(defaultLineSettings('en'), null);
    expect(p.status).toBe('assigned');
    expect(p.timers.map((t) => t.kind)).toEqual(['kpi_first_answer', 'no_answer', 'queue_timeout']);
    expect(p.bot).toBeNull();
    expect(p.waitingSince).toEqual(now);
  });

  it('an inactive line stores the session; its bot does not take it', () => {
    const p = plan(withBot({}), builtin, false);
    expect(p.status).toBe('new');
    expect(p.bot).toBeNull();
  });
});
