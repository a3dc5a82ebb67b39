import { defaultLineSettings, type LineSettings } from '@openlines/contract';
import { describe, expect, it } from 'vitest';
import {
  automaticText,
  parseRatingReply,
  planNewSession,
  ratingAccepted,
  widgetSchedule,
} from './automation';

function settings(change: (s: LineSettings) => void = () => {}, language: 'en' | 'ru' = 'en'): LineSettings {
  const s = defaultLineSettings(language);
  change(s);
  return s;
}

describe('automaticText (LN-7)', () => {
  it('uses the channel kind’s override, else the line’s text, in the line’s language', () => {
    const s = settings((x) => {
      x.automaticActions.perChannelKind = { telegram: { welcome: 'Hi from Telegram' } };
    });
    expect(automaticText(s, 'telegram', 'welcome')).toBe('Hi from Telegram');
    expect(automaticText(s, 'widget', 'welcome')).toBe(s.automaticActions.welcome.text);
    expect(automaticText(s, 'telegram', 'close')).toBe(s.automaticActions.close.text);
    expect(
      automaticText(
        settings(() => {}, 'ru'),
        'api',
        'welcome',
      ),
    ).not.toBe(automaticText(s, 'api', 'welcome'));
  });
});

describe('planNewSession', () => {
  const form = 'Leave your contacts';
  it.each<
    [
      string,
      (s: LineSettings) => void,
      { offHours: boolean; firstSessionOfDialog: boolean; consentNeeded: boolean },
      string[],
    ]
  >([
    [
      'a first session gets the welcome',
      () => {},
      { offHours: false, firstSessionOfDialog: true, consentNeeded: false },
      ['welcome'],
    ],
    [
      'a later session does not, by default',
      () => {},
      { offHours: false, firstSessionOfDialog: false, consentNeeded: false },
      [],
    ],
    [
      'with eachSession every session is greeted',
      (s) => {
        s.automaticActions.welcome.eachSession = true;
      },
      { offHours: false, firstSessionOfDialog: false, consentNeeded: false },
      ['welcome'],
    ],
    [
      'off hours: the off-hours reply instead of the welcome',
      () => {},
      { offHours: true, firstSessionOfDialog: true, consentNeeded: false },
      ['off_hours'],
    ],
    [
      'off hours with the rule off: nothing',
      (s) => {
        s.workingHours.offHoursRule = 'none';
      },
      { offHours: true, firstSessionOfDialog: true, consentNeeded: false },
      [],
    ],
    [
      'consent first, then the welcome',
      () => {},
      { offHours: false, firstSessionOfDialog: true, consentNeeded: true },
      ['consent_request', 'welcome'],
    ],
    [
      'the contact form on the first message',
      (s) => {
        s.automaticActions.contactForm.enabled = true;
      },
      { offHours: false, firstSessionOfDialog: true, consentNeeded: false },
      ['welcome', 'contact_form_request'],
    ],
    [
      'the contact form off hours only',
      (s) => {
        s.automaticActions.contactForm.enabled = true;
        s.automaticActions.contactForm.when = 'off_hours';
      },
      { offHours: false, firstSessionOfDialog: true, consentNeeded: false },
      ['welcome'],
    ],
    [
      'welcome switched off',
      (s) => {
        s.automaticActions.welcome.enabled = false;
      },
      { offHours: false, firstSessionOfDialog: true, consentNeeded: false },
      [],
    ],
  ])('%s', (_name, change, facts, kinds) => {
    expect(planNewSession(settings(change), 'api', facts, form).map((p) => p.systemKind)).toEqual(kinds);
  });
});

describe('parseRatingReply', () => {
  it.each<[string, 'like' | 'dislike' | null]>([
    ['1', 'like'],
    [' 0 ', 'dislike'],
    ['👍', 'like'],
    ['10', null],
    ['one', null],
    ['', null],
  ])('%j', (text, expected) => {
    expect(parseRatingReply(text)).toBe(expected);
  });
});

describe('ratingAccepted (QR-2)', () => {
  const now = new Date('2026-03-02T10:00:00Z');
  const asked = new Date('2026-03-02T09:59:00Z');
  it.each<
    [
      string,
      (s: LineSettings) => void,
      { open: boolean; ratingRequestedAt: Date | null; rated: boolean },
      boolean,
    ]
  >([
    ['after a request', () => {}, { open: false, ratingRequestedAt: asked, rated: false }, true],
    ['twice', () => {}, { open: false, ratingRequestedAt: asked, rated: true }, false],
    ['closed without a request', () => {}, { open: false, ratingRequestedAt: null, rated: false }, false],
    ['before the end when allowed', () => {}, { open: true, ratingRequestedAt: null, rated: false }, true],
    [
      'before the end when not allowed',
      (s) => {
        s.rating.allowBeforeFinish = false;
      },
      { open: true, ratingRequestedAt: null, rated: false },
      false,
    ],
    [
      'within the time limit',
      (s) => {
        s.rating.timeLimitSeconds = 60;
      },
      { open: false, ratingRequestedAt: asked, rated: false },
      true,
    ],
    [
      'after the time limit',
      (s) => {
        s.rating.timeLimitSeconds = 30;
      },
      { open: false, ratingRequestedAt: asked, rated: false },
      false,
    ],
    [
      'rating switched off',
      (s) => {
        s.rating.enabled = false;
      },
      { open: false, ratingRequestedAt: asked, rated: false },
      false,
    ],
  ])('%s', (_name, change, session, ok) => {
    expect(ratingAccepted(settings(change), session, now).ok).toBe(ok);
  });
});

describe('widgetSchedule (WH-3)', () => {
  it('follows the line, never closes, or uses its own hours with the line’s zone and holidays', () => {
    expect(widgetSchedule(settings())).toBeNull();
    const enabled = settings((s) => {
      s.workingHours.enabled = true;
      s.workingHours.timeZone = 'Europe/Moscow';
      s.workingHours.holidays = ['01-01'];
    });
    expect(widgetSchedule(enabled)?.timeZone).toBe('Europe/Moscow');
    enabled.workingHours.widget.mode = 'always';
    expect(widgetSchedule(enabled)).toBeNull();
    enabled.workingHours.widget.mode = 'custom';
    enabled.workingHours.daysOff = ['mon'];
    expect(widgetSchedule(enabled)).toMatchObject({
      timeZone: 'Europe/Moscow',
      holidays: ['01-01'],
      daysOff: [],
    });
  });
});
