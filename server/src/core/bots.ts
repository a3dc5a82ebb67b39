import type { BotOption, BotStep, BuiltinBotDefinition, LineSettings } from '@openlines/contract';
import { stemmer as englishStem } from '@orama/stemmers/english';
import { stemmer as russianStem } from '@orama/stemmers/russian';
import { type ContactDetails, contactDetailsIn } from './contact-details';

/**
 * Chatbots (SPEC §7) as pure decisions: whether a bot answers a new session first (BOT-1), when it
 * leaves, whether the client asks for a person, and what the built-in no-code bot (BOT-3) says
 * to a message. The services apply them in the use case's transaction; nothing here reads or
 * writes, so every rule is tested with plain values.
 */

/** The built-in bot's place in its menu, kept on the session between messages. */
export interface BotState {
  step: string;
  /** Unmatched messages in a row. */
  misses: number;
  /** The bot asked for contact details: the next message gives them, then the operators take over. */
  awaiting?: 'contact';
}

export interface BotButton {
  title: string;
  reply: string;
}

/** One message of the bot: a text with buttons (quick replies). */
export interface BotTurn {
  text: string;
  buttons: BotButton[];
}

/** How a conversation leaves the bot. */
export type BotHandOver =
  | { type: 'queue' }
  | { type: 'operator'; userId: string }
  | { type: 'department'; departmentId: string };

export interface BotReply {
  turns: BotTurn[];
  state: BotState;
  handOver: BotHandOver | null;
  /**
   * Why it hands over: an option the client chose, the client asking for a person, too many
   * misses, or the client's answer to the contact-details request.
   */
  why?: 'chosen' | 'asked_for_operator' | 'too_many_misses' | 'contact_left';
  /** "Leave your contact details": ask for them now (the line's contact form text, the widget's form). */
  askContact?: true;
  /** What the client's answer to that request gives, for the client's card and the CRM. */
  contact?: ContactDetails;
}

/**
 * BOT-1: the bot that answers a new session first, or null. `join: first` takes only the dialog's
 * first session; `always` every session.
 */
export function welcomeBotFor(settings: LineSettings, firstSessionOfDialog: boolean): string | null {
  const bot = settings.bot.welcomeBot;
  if (!bot.enabled || bot.botId === null) return null;
  if (bot.join === 'first' && !firstSessionOfDialog) return null;
  return bot.botId;
}

/** What WELCOME_BOT_TIME does when it passes (WELCOME_BOT_LEFT); 0 seconds arms nothing. */
export function botTimeout(
  settings: LineSettings,
  startedAt: Date,
  how: 'welcome' | 'no_answer',
): { dueAt: Date; leave: 'queue' | 'close' } | null {
  const bot = settings.bot.welcomeBot;
  if (bot.timeSeconds === 0) return null;
  // A bot that took an unanswered session gives it back to the operators; it never closes it.
  const leave = how === 'no_answer' ? 'queue' : bot.whenLeaving;
  return { dueAt: new Date(startedAt.getTime() + bot.timeSeconds * 1000), leave };
}

/**
 * AA-3 "hand to a bot": the bot that takes an unanswered session, or null. Only a session no
 * operator has answered yet, and only once per session, so a bot that hands it back does not get
 * it again at the next no-answer.
 */
export function noAnswerBotFor(
  settings: LineSettings,
  session: { status: string; botStartedAt: Date | null; pinned: boolean },
): string | null {
  const rule = settings.automaticActions.noAnswer;
  if (rule.rule !== 'bot' || rule.botId === null) return null;
  if (session.botStartedAt !== null || session.pinned) return null;
  return session.status === 'queued' || session.status === 'assigned' ? rule.botId : null;
}

// ----- Words --------------------------------------------------------------------------------------

const CYRILLIC = /[\u0400-\u04ff]/;

/** Lower-cased word stems of a text (Russian and English snowball stemmers), `ё` read as `е`. */
export function wordStems(text: string): string[] {
  const words = text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return words.map((word) => (CYRILLIC.test(word) ? russianStem(word) : englishStem(word)));
}

/** Stems that mean "let me talk to a person", in both languages. */
const PERSON_STEMS = new Set(
  [
    'operator',
    'human',
    'person',
    'agent',
    'оператор',
    'человек',
    'менеджер',
    'специалист',
    'сотрудник',
  ].flatMap((word) => wordStems(word)),
);

/** The client asks for a person ("operator", "оператора", "живой человек"…): the bot hands over. */
export function asksForOperator(text: string | null | undefined): boolean {
  if (!text) return false;
  return wordStems(text).some((stem) => PERSON_STEMS.has(stem));
}

// ----- The built-in bot (BOT-3) -----------------------------------------------------------------

function stepOf(definition: BuiltinBotDefinition, id: string): BotStep {
  return definition.steps.find((step) => step.id === id) ?? definition.steps[0]!;
}

function startStep(definition: BuiltinBotDefinition): BotStep {
  return definition.start ? stepOf(definition, definition.start) : definition.steps[0]!;
}

function buttonsOf(step: BotStep): BotButton[] {
  return step.options.map((option) => ({ title: option.title, reply: option.title }));
}

function show(step: BotStep, text = step.text): BotTurn {
  return { text, buttons: buttonsOf(step) };
}

const folded = (text: string) => text.trim().toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ');

/**
 * The option a message chooses: its number ("2", as channels without buttons list them), its
 * title (a tapped button sends the title), either alone on a line of the message,
 * or a keyword whose every word stem is among the message's stems (so "доставкой" matches the
 * keyword "доставка", and "delivery times" matches "deliveries").
 */
export function matchOption(step: BotStep, text: string): BotOption | null {
  // The whole text, then each line alone: a mail's reply is stored under its subject line
  // ("Re: …\n\n2"), and a channel without buttons shows the options as numbered lines.
  const candidates = [text, ...text.split('\n')].map(folded).filter(Boolean);
  for (const typed of candidates) {
    const number = /^\d{1,2}\.?$/.test(typed) ? Number.parseInt(typed, 10) : 0;
    if (number >= 1 && number <= step.options.length) return step.options[number - 1]!;
    // A line copied from the numbered list ("2. Доставка") chooses by its title.
    const title = typed.replace(/^\d{1,2}[.)]\s+/, '');
    const byTitle = step.options.find((option) => folded(option.title) === title);
    if (byTitle) return byTitle;
  }
  const stems = new Set(wordStems(text));
  for (const option of step.options) {
    for (const keyword of option.keywords) {
      const wanted = wordStems(keyword);
      if (wanted.length > 0 && wanted.every((stem) => stems.has(stem))) return option;
    }
  }
  return null;
}

/** The bot's first words: the start step. */
export function startBuiltinBot(definition: BuiltinBotDefinition): BotReply {
  const step = startStep(definition);
  return { turns: [show(step)], state: { step: step.id, misses: 0 }, handOver: null };
}

/**
 * The bot's answer to one client message in the step the session is at: after a request for
 * contact details, the hand-over with the details the message gives; else the option it chooses;
 * else, when the client asks for a person, the hand-over to the queue; else the fallback text (and
 * after `handOverAfterMisses` misses in a row, the hand-over).
 */
export function answerBuiltinBot(
  definition: BuiltinBotDefinition,
  state: BotState | null,
  text: string | null,
): BotReply {
  const step = state ? stepOf(definition, state.step) : startStep(definition);
  // The answer to "leave your contact details": whatever it says, the operators take over, with
  // the details it gives on the client's card and in the CRM.
  if (state?.awaiting === 'contact') {
    return {
      turns: [],
      state: { step: step.id, misses: 0 },
      handOver: { type: 'queue' },
      why: asksForOperator(text) ? 'asked_for_operator' : 'contact_left',
      contact: text ? contactDetailsIn(text) : {},
    };
  }
  const option = text ? matchOption(step, text) : null;
  if (!option) {
    // Not one of the step's options, and the client asks for a person: the operators take over.
    if (asksForOperator(text)) {
      return {
        turns: [],
        state: { step: step.id, misses: 0 },
        handOver: { type: 'queue' },
        why: 'asked_for_operator',
      };
    }
    const misses = (state?.misses ?? 0) + 1;
    const limit = definition.handOverAfterMisses;
    if (limit > 0 && misses >= limit) {
      return {
        turns: [],
        state: { step: step.id, misses },
        handOver: { type: 'queue' },
        why: 'too_many_misses',
      };
    }
    return { turns: [show(step, definition.fallbackText)], state: { step: step.id, misses }, handOver: null };
  }
  const stay = { step: step.id, misses: 0 };
  const action = option.action;
  switch (action.type) {
    case 'step': {
      const next = stepOf(definition, action.step);
      return { turns: [show(next)], state: { step: next.id, misses: 0 }, handOver: null };
    }
    case 'answer':
      return { turns: [show(step, action.text)], state: stay, handOver: null };
    case 'queue':
      return { turns: [], state: stay, handOver: { type: 'queue' }, why: 'chosen' };
    case 'operator':
      return { turns: [], state: stay, handOver: { type: 'operator', userId: action.userId }, why: 'chosen' };
    case 'department':
      return {
        turns: [],
        state: stay,
        handOver: { type: 'department', departmentId: action.departmentId },
        why: 'chosen',
      };
    case 'contact_form':
      return { turns: [], state: { ...stay, awaiting: 'contact' }, handOver: null, askContact: true };
  }
}

/** Definition problems JSON Schema cannot see: duplicate step ids and options leading nowhere. */
export function definitionErrors(definition: BuiltinBotDefinition): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const ids = new Set<string>();
  definition.steps.forEach((step, index) => {
    if (ids.has(step.id))
      errors.push({ field: `steps.${index}.id`, message: `Duplicate step id '${step.id}'` });
    ids.add(step.id);
  });
  if (definition.start !== undefined && !ids.has(definition.start)) {
    errors.push({ field: 'start', message: `No step '${definition.start}'` });
  }
  definition.steps.forEach((step, index) => {
    const titles = new Set<string>();
    step.options.forEach((option, optionIndex) => {
      const field = `steps.${index}.options.${optionIndex}`;
      if (option.action.type === 'step' && !ids.has(option.action.step)) {
        errors.push({ field: `${field}.action.step`, message: `No step '${option.action.step}'` });
      }
      if (titles.has(folded(option.title))) {
        errors.push({ field: `${field}.title`, message: 'Two options of a step have this title' });
      }
      titles.add(folded(option.title));
      if (!option.title.trim()) errors.push({ field: `${field}.title`, message: 'Must not be empty' });
    });
    if (!step.text.trim()) errors.push({ field: `steps.${index}.text`, message: 'Must not be empty' });
  });
  return errors;
}
