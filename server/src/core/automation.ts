import type { LineSettings, SystemKind } from '@openlines/contract';
import type { WorkSchedule } from './schedule';

/**
 * Line automation rules (SPEC §3–§6) as pure decisions: which automatic texts a new session gets,
 * which text applies on a channel kind, what a messenger reply means. The services apply them.
 */

export type AutomaticTextKey = 'welcome' | 'offHours' | 'noAnswer' | 'close' | 'autoClose';

/** LN-7: a channel kind's own text wins over the line's. */
export function automaticText(settings: LineSettings, channelKind: string, key: AutomaticTextKey): string {
  const override = settings.automaticActions.perChannelKind[channelKind]?.[key];
  if (override) return override;
  const actions = settings.automaticActions;
  switch (key) {
    case 'welcome':
      return actions.welcome.text;
    case 'offHours':
      return settings.workingHours.offHoursText;
    case 'noAnswer':
      return actions.noAnswer.text;
    case 'close':
      return actions.close.text;
    case 'autoClose':
      return actions.autoClose.text;
  }
}

/** The widget has like/dislike buttons; every other channel gets the "reply 1 or 0" texts (QR-1). */
export function ratingTexts(settings: LineSettings, consentBy: 'button' | 'reply') {
  return consentBy === 'button' ? settings.rating.widget : settings.rating.messenger;
}

/** A messenger client's reply to a rating request: 1 (good) or 0 (bad), or a thumbs emoji. */
export function parseRatingReply(text: string | undefined | null): 'like' | 'dislike' | null {
  const reply = (text ?? '').trim();
  if (reply === '1' || reply === '👍') return 'like';
  if (reply === '0' || reply === '👎') return 'dislike';
  return null;
}

export function lineSchedule(settings: LineSettings): WorkSchedule | null {
  const hours = settings.workingHours;
  if (!hours.enabled) return null;
  return { timeZone: hours.timeZone, weekly: hours.weekly, daysOff: hours.daysOff, holidays: hours.holidays };
}

/** WH-3: the widget's own schedule; null means always open. */
export function widgetSchedule(settings: LineSettings): WorkSchedule | null {
  const hours = settings.workingHours;
  switch (hours.widget.mode) {
    case 'always':
      return null;
    case 'same':
      return lineSchedule(settings);
    case 'custom':
      return { timeZone: hours.timeZone, weekly: hours.widget.custom, daysOff: [], holidays: hours.holidays };
  }
}

export interface NewSessionFacts {
  /** Working hours say the line is closed now (WH-2). */
  offHours: boolean;
  /** The dialog had no session before this one. */
  firstSessionOfDialog: boolean;
  /** The line requires consent and the client has not given it for the current text (AG-1). */
  consentNeeded: boolean;
  /** BOT-1: a bot answers this session first; it greets instead of the line's welcome (AA-1). */
  botAnswers?: boolean;
}

export interface PlannedText {
  systemKind: SystemKind;
  text: string;
}

/**
 * The automatic messages a new session starts with, in order: the agreement (AG-1), then the
 * off-hours reply outside working hours (WH-2) or else the welcome (AA-1) — a welcome promising a
 * quick answer would be wrong at night — then the contact form when the line asks for it (AA-2).
 * A session a bot answers first (BOT-1) gets no welcome: the bot greets.
 */
export function planNewSession(
  settings: LineSettings,
  channelKind: string,
  facts: NewSessionFacts,
  contactFormText: string,
): PlannedText[] {
  const planned: PlannedText[] = [];
  const actions = settings.automaticActions;
  if (facts.consentNeeded) planned.push({ systemKind: 'consent_request', text: settings.agreement.text });
  if (facts.offHours) {
    if (settings.workingHours.offHoursRule === 'text') {
      planned.push({ systemKind: 'off_hours', text: automaticText(settings, channelKind, 'offHours') });
    }
  } else if (
    !facts.botAnswers &&
    actions.welcome.enabled &&
    (actions.welcome.eachSession || facts.firstSessionOfDialog)
  ) {
    planned.push({ systemKind: 'welcome', text: automaticText(settings, channelKind, 'welcome') });
  }
  const form = actions.contactForm;
  const formNow =
    form.enabled &&
    ((form.when === 'first_message' && facts.firstSessionOfDialog) ||
      (form.when === 'off_hours' && facts.offHours));
  if (formNow) planned.push({ systemKind: 'contact_form_request', text: contactFormText });
  return planned;
}

/**
 * QR-2: whether a client's rating is accepted now. Before the end only when the line allows it;
 * after the end only once it was asked for, and within the time limit when there is one.
 */
export function ratingAccepted(
  settings: LineSettings,
  session: { open: boolean; ratingRequestedAt: Date | null; rated: boolean },
  now: Date,
): { ok: true } | { ok: false; reason: string } {
  const rating = settings.rating;
  if (!rating.enabled) return { ok: false, reason: 'This line does not ask for ratings' };
  if (session.rated) return { ok: false, reason: 'This session is already rated' };
  if (session.open && !rating.allowBeforeFinish && !session.ratingRequestedAt) {
    return { ok: false, reason: 'The session can be rated once it ends' };
  }
  if (!session.open && !session.ratingRequestedAt) return { ok: false, reason: 'No rating was asked for' };
  if (rating.timeLimitSeconds > 0 && session.ratingRequestedAt) {
    const deadline = session.ratingRequestedAt.getTime() + rating.timeLimitSeconds * 1000;
    if (now.getTime() > deadline) return { ok: false, reason: 'The time to rate this session is over' };
  }
  return { ok: true };
}
