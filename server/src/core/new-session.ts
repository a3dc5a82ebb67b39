import type { BuiltinBotDefinition, LineSettings } from '@openlines/contract';
import { type PlannedText, planNewSession } from './automation';
import { type BotState, type BotTurn, botTimeout, startBuiltinBot } from './bots';
import type { TimerKind } from './held-message';
import { chooseRoute, type OperatorState, type RoutingDecision, type RoutingSettings } from './routing';
import { type SessionSnapshot, type SessionStatus, transition } from './session-machine';

/**
 * A client's message that opens a session (SPEC §2–§6), planned whole from what was loaded: the
 * session as it ends up after its start, enqueueing and routing, its recorded transitions, the
 * automatic texts it starts with, and its timers. The service writes the plan in one statement, so
 * the steps the general path takes one by one (open, greet, wait, enqueue, route) cost no round
 * trip each. The rules are the general path's: the session machine for every status change,
 * `planNewSession` for the texts, `chooseRoute` for who gets it.
 */

export interface NewSessionInput {
  settings: LineSettings;
  routingSettings: RoutingSettings;
  lineId: string;
  /** LN-4: an inactive line stores the session (status `new`) but does not route or answer. */
  lineActive: boolean;
  /** Working hours say the line is closed (WH-2): the session waits in the queue. */
  offHours: boolean;
  channelKind: string;
  firstSessionOfDialog: boolean;
  consentNeeded: boolean;
  pinnedOperatorId: string | null;
  /** the client's responsible in the CRM, when the line forwards to them. */
  crmResponsibleId?: string | null;
  contactFormText: string;
  queue: readonly string[];
  operators: readonly OperatorState[];
  strictCursor: string | null;
  /**
   * BOT-1: the line's welcome bot when it takes this session (core/bots welcomeBotFor), loaded by
   * the service; null on every line without one.
   */
  bot: StartingBot | null;
  now: Date;
}

export interface StartingBot {
  id: string;
  version: number;
  kind: 'external' | 'builtin';
  /** How clients see the bot's messages: its name and avatar (BOT-2). */
  name: string;
  avatarUrl: string | null;
  /** The built-in bot's definition at `version`; null for an external bot. */
  definition: BuiltinBotDefinition | null;
}

/** The bot's part of a session start: it holds the session, and a built-in bot greets at once. */
export interface PlannedBotStart {
  id: string;
  version: number;
  kind: 'external' | 'builtin';
  state: BotState | null;
  turns: BotTurn[];
}

export interface PlannedTransition {
  from: SessionStatus | null;
  to: SessionStatus;
  operatorId: string | null;
  actor: 'client' | 'system';
  reason: string;
}

export interface PlannedTimer {
  kind: TimerKind;
  dueAt: Date;
  payload: Record<string, unknown>;
}

export interface NewSessionPlan {
  status: SessionStatus;
  operatorId: string | null;
  offeredTo: string[];
  pinned: boolean;
  queuedAt: Date | null;
  assignedAt: Date | null;
  openedOffHours: boolean;
  offHoursReplySent: boolean;
  consentRequestedAt: Date | null;
  transitions: PlannedTransition[];
  texts: PlannedText[];
  timers: PlannedTimer[];
  decision: RoutingDecision | null;
  /** The line's new `strictly` cursor, when this assignment moves it. */
  strictCursor: string | null;
  /** The client's wait for an operator's answer starts now, or (bot sessions) at the hand-over. */
  waitingSince: Date | null;
  bot: PlannedBotStart | null;
}

const after = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000);

export function planSessionStart(input: NewSessionInput): NewSessionPlan {
  const { settings, now } = input;
  let snapshot: SessionSnapshot = {
    status: 'new',
    lineId: input.lineId,
    operatorId: null,
    passedBy: [],
    offeredTo: [],
    pinned: input.pinnedOperatorId !== null,
  };
  const transitions: PlannedTransition[] = [
    { from: null, to: 'new', operatorId: null, actor: 'client', reason: 'client_message' },
  ];
  const timers: PlannedTimer[] = [];
  // LN-4: an inactive line stores the session; its bot does not take it.
  const bot = input.lineActive ? input.bot : null;
  const texts = input.lineActive
    ? planNewSession(
        settings,
        input.channelKind,
        {
          offHours: input.offHours,
          firstSessionOfDialog: input.firstSessionOfDialog,
          consentNeeded: input.consentNeeded,
          botAnswers: bot !== null,
        },
        input.contactFormText,
      )
    : [];
  // BOT-4: the time a bot holds the session is not operators' time: the answer KPI and the
  // no-answer wait start when the bot hands over (services/bot-sessions).
  if (!bot) {
    const firstTarget = settings.kpi.firstAnswer.targetSeconds;
    if (firstTarget > 0)
      timers.push({ kind: 'kpi_first_answer', dueAt: after(now, firstTarget), payload: {} });
    timers.push({ kind: 'no_answer', dueAt: after(now, settings.queue.noAnswerTimeSeconds), payload: {} });
  } else {
    const timeout = botTimeout(settings, now, 'welcome');
    if (timeout)
      timers.push({ kind: 'bot_timeout', dueAt: timeout.dueAt, payload: { leave: timeout.leave } });
  }

  let queuedAt: Date | null = null;
  let assignedAt: Date | null = null;
  let decision: RoutingDecision | null = null;
  let strictCursor: string | null = null;
  const apply = (action: Parameters<typeof transition>[1], reason: string) => {
    const result = transition(snapshot, action);
    if (!result.ok) throw new Error(`new session: ${action.type} refused (${result.code})`);
    const changed = result.statusChanged || result.patch.operatorId !== undefined;
    snapshot = result.session;
    if (changed) {
      transitions.push({
        from: result.from,
        to: result.status,
        operatorId: snapshot.operatorId,
        actor: 'system',
        reason,
      });
    }
  };
  let botStart: PlannedBotStart | null = null;
  if (bot) {
    apply({ type: 'bot_started' }, 'bot_started');
    const greeting = bot.definition ? startBuiltinBot(bot.definition) : null;
    botStart = {
      id: bot.id,
      version: bot.version,
      kind: bot.kind,
      state: greeting?.state ?? null,
      turns: greeting?.turns ?? [],
    };
  } else if (input.lineActive) {
    apply({ type: 'enqueue' }, 'new_session');
    queuedAt = now;
    if (!input.offHours) {
      decision = chooseRoute({
        settings: input.routingSettings,
        queue: input.queue,
        operators: input.operators,
        context: {
          passedBy: [],
          pinnedOperatorId: input.pinnedOperatorId,
          crmResponsibleId: input.crmResponsibleId ?? null,
          strictCursor: input.strictCursor,
        },
        now,
      });
      if (decision.kind === 'assign') {
        apply({ type: 'assign', operatorId: decision.operatorId, mode: 'auto' }, `routed_${decision.reason}`);
        assignedAt = now;
        if (decision.reason === 'strictly') strictCursor = decision.operatorId;
        timers.push({
          kind: 'queue_timeout',
          dueAt: after(now, settings.queue.queueTimeSeconds),
          payload: { operatorId: decision.operatorId },
        });
      } else if (decision.kind === 'offer') {
        apply({ type: 'offer', operatorIds: decision.operatorIds }, 'offered');
      }
    }
  }
  return {
    status: snapshot.status,
    operatorId: snapshot.operatorId,
    offeredTo: [...snapshot.offeredTo],
    pinned: snapshot.pinned,
    queuedAt,
    assignedAt,
    openedOffHours: input.offHours,
    offHoursReplySent: texts.some((text) => text.systemKind === 'off_hours'),
    consentRequestedAt: input.consentNeeded && input.lineActive ? now : null,
    transitions,
    texts,
    timers,
    decision,
    strictCursor,
    waitingSince: bot ? null : now,
    bot: botStart,
  };
}
