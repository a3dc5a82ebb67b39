import { randomUUID } from 'node:crypto';
import type { Dialog, Message } from '@openlines/contract';
import { sql } from 'kysely';
import type { InboundMessage, OutboundMessage } from '../channels/types';
import type { AppContext } from '../context';
import { welcomeBotFor } from '../core/bots';
import { type KnownClient as CrmKnownClient, decideNewSessionCrm } from '../core/crm';
import { kpiState } from '../core/kpi';
import { type NewSessionPlan, planSessionStart } from '../core/new-session';
import { retainedOutboxPayload } from '../core/personal-data';
import { type OperatorState, withAssignment } from '../core/routing';
import { isUniqueViolation } from '../store/errors';
import type { LineRow, MessageRow, SessionRow } from '../store/schema';
import { activeTraceparent } from '../tracing';
import { consentDecision } from './automation/consent';
import { lineOpenNow } from './automation/schedule';
import { serverText } from './automation/texts';
import type { BotEvent } from './bot-deliveries';
import { loadStartingBot } from './bot-sessions';
import {
  type CrmStartWrite,
  crmDealRef,
  crmWriteParts,
  emitCrmStart,
  lookupCrmClients,
  planCrmStart,
} from './crm/intake';
import { dialogStartPayload, wantsDialogEvents } from './dialog-lifecycle';
import { presentSession } from './dialogs';
import { type GroupCommit, groupCommitOf, type Settled } from './group-commit';
import type { IntakeResult, KnownClient } from './intake';
import { lineAsOf } from './line-rows';
import { lockLines } from './locks';
import { presentMessage } from './message-presenter';
import { deliveredOnWrite } from './messages';
import { lineQueue, loadOperatorStates, routingSettingsOf } from './routing';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

/**
 * The lean path for a message that opens a session: a new client, or a known one whose last
 * session is over. Under the line's lock (Q-7), it reads the line's version and routing cursor,
 * the consent when the line asks for one, and the operators' state; the pure plan
 * (core/new-session) decides the whole start; one statement writes the client, dialog, session,
 * transitions, messages, outbox rows, timers and cursor, with ids made here; the events are built
 * from those rows in memory.
 *
 * Group commit (services/group-commit): first messages that arrive while such a transaction is in
 * flight start together in the next one — the lines' locks, each line's version, queue and
 * operators are read once, and each plan sees the assignments made before it in the batch
 * (core/routing withAssignment), so a burst of new clients after a mailing does not queue up on
 * the line's lock one transaction at a time.
 *
 * Anything unusual is left to the general intake: a unique key that another transaction took
 * first (the same client writing twice at once, a redelivery) rolls this back and answers null
 * (in a batch, every start runs again on its own first, so only that one is left).
 */
interface StartItem {
  channel: { id: string; account_id: string; kind: string; line_id: string };
  known: KnownClient | null;
  message: InboundMessage;
  preview: string | null;
}

const groups = new WeakMap<AppContext, GroupCommit<StartItem, IntakeResult | null>>();

export function startSession(
  ctx: AppContext,
  channel: StartItem['channel'],
  known: KnownClient | null,
  message: InboundMessage,
  preview: string | null,
): Promise<IntakeResult | null> {
  return groupCommitOf(groups, ctx, () => ({
    run: (items) => startBatch(ctx, items),
    // Enough for a burst to share the lock widely; few enough that a batch stays one quick transaction.
    maxBatch: 32,
    // A client (and a dialog) once per batch: their rows are created or updated by one start.
    keysOf: (item) => [
      `${item.channel.id}/${item.message.user.id}`,
      ...(item.known ? [item.known.dialogId] : []),
    ],
  })).submit({ channel, known, message, preview });
}

async function startBatch(ctx: AppContext, items: StartItem[]): Promise<Settled<IntakeResult | null>[]> {
  try {
    return await runInTransaction(ctx, async (uow) => {
      const now = ctx.clock.now();
      await lockLines(
        uow.tx,
        items.map((item) => item.channel.line_id),
      );
      const lines = new Map<string, LineState>();
      for (const item of items) {
        if (!lines.has(item.channel.line_id))
          lines.set(item.channel.line_id, await readLineState(uow.tx, item.channel.line_id, now));
      }
      // CRM-2: every client of the batch whose line looks clients up, in one statement.
      const looked = items.filter((item) => lines.get(item.channel.line_id)!.line.settings.crm.enabled);
      const found = await lookupCrmClients(
        uow.tx,
        looked.map((item) => ({
          accountId: item.channel.account_id,
          channelId: item.channel.id,
          externalId: item.message.user.id,
          phone: item.known?.phone ?? item.message.user.phone ?? null,
          email: item.known?.email ?? item.message.user.email ?? null,
        })),
      );
      // An account with an external CRM is left to its sync jobs (services/crm/sync.ts).
      const crmKnown = new Map(
        looked.flatMap((item, index) =>
          found[index]?.external ? [] : [[item, found[index]?.known ?? null]],
        ),
      );
      const results: Settled<IntakeResult | null>[] = [];
      for (const item of items) {
        const line = lines.get(item.channel.line_id)!;
        const crm = crmKnown.has(item) ? { known: crmKnown.get(item) ?? null } : null;
        results.push({ ok: true, value: await start(uow, line, item, now, crm) });
      }
      return results;
    });
  } catch (error) {
    // Alone, a unique key taken by someone else is the general intake's case; in a batch, the
    // group commit runs each start again on its own to find which one it was.
    if (isUniqueViolation(error) && items.length === 1) return [{ ok: true, value: null }];
    throw error;
  }
}

/** A line as the starts of one batch route on it: read once under its lock, updated as they assign. */
interface LineState {
  line: LineRow;
  active: boolean;
  strictCursor: string | null;
  /** The line takes and routes sessions now (active and within working hours). */
  routes: boolean;
  queue: string[];
  operators: OperatorState[];
}

async function readLineState(tx: Tx, lineId: string, now: Date): Promise<LineState> {
  const version = await tx
    .selectFrom('lines')
    .select(['updated_at', 'active', 'strict_cursor'])
    .where('id', '=', lineId)
    .executeTakeFirstOrThrow();
  const line = await lineAsOf(tx, lineId, version.updated_at);
  const routes = version.active && lineOpenNow(line, now);
  const queue = routes ? await lineQueue(tx, line) : [];
  return {
    line,
    active: version.active,
    strictCursor: version.strict_cursor,
    routes,
    queue,
    operators: routes ? await loadOperatorStates(tx, line, queue, now) : [],
  };
}

async function start(
  uow: UnitOfWork,
  state: LineState,
  item: StartItem,
  now: Date,
  crm: { known: CrmKnownClient | null } | null,
): Promise<IntakeResult> {
  const { tx } = uow;
  const { channel, known, message, preview } = item;
  const { line, queue } = state;
  const lineId = channel.line_id;
  const routes = state.routes;
  const pinned = known?.pinnedOperatorId ?? null;
  if (routes && pinned && !state.operators.some((operator) => operator.userId === pinned)) {
    state.operators.push(...(await loadOperatorStates(tx, line, [pinned], now)));
  }
  const operators = routes
    ? state.operators.filter(
        (operator) =>
          queue.includes(operator.userId) || operator.userId === pinned || operator.userId === forwardTo,
      )
    : [];
  const accountId = channel.account_id;
  const clientId = known?.clientId ?? randomUUID();
  const dialogId = known?.dialogId ?? randomUUID();
  const sessionId = randomUUID();
  const settings = line.settings;
  // AG-2: asked once per agreement text (a declined one is not asked again); AG-3: only a consent
  // lets the CRM save the client.
  const decision =
    settings.agreement.required && known !== null ? await consentDecision(tx, line, clientId, now) : null;
  const consentNeeded = settings.agreement.required && decision === null;
  const consentMissing = settings.agreement.required && decision !== 'given';
  // Q-9: a known client's session goes first to their responsible, if they can take it.
  const crmDecision = crm
    ? decideNewSessionCrm({ settings: settings.crm, consentMissing, known: crm.known })
    : null;
  const forwardTo = crmDecision && 'forwardTo' in crmDecision ? crmDecision.forwardTo : null;
  if (routes && forwardTo && !state.operators.some((operator) => operator.userId === forwardTo)) {
    state.operators.push(...(await loadOperatorStates(tx, line, [forwardTo], now)));
  }
  // BOT-1: only a line with a welcome bot reads it (one statement).
  const botId = state.active ? welcomeBotFor(settings, known?.sessionId == null) : null;
  const bot = botId ? await loadStartingBot(tx, accountId, botId) : null;
  const plan = planSessionStart({
    settings,
    routingSettings: routingSettingsOf(settings),
    lineId,
    lineActive: state.active,
    offHours: !lineOpenNow(line, now),
    channelKind: channel.kind,
    firstSessionOfDialog: known?.sessionId == null,
    consentNeeded,
    pinnedOperatorId: pinned,
    crmResponsibleId: forwardTo,
    contactFormText: serverText(settings.other.language, 'contactForm'),
    queue,
    operators,
    strictCursor: state.strictCursor,
    bot,
    now,
  });
  if (plan.operatorId) state.operators = withAssignment(state.operators, plan.operatorId, plan.status, now);
  if (plan.strictCursor) state.strictCursor = plan.strictCursor;

  const clientRow = {
    id: clientId,
    name: known?.name ?? (message.user.name || `Client ${message.user.id.slice(0, 12)}`),
    avatarUrl: known?.avatarUrl ?? message.user.avatarUrl ?? null,
    email: known?.email ?? message.user.email ?? null,
    phone: known?.phone ?? message.user.phone ?? null,
  };
  // CRM-2/CRM-3: the contact, lead or deal the decision asks for; its responsible is who got the session.
  const crmWrite = crm
    ? planCrmStart(
        {
          line,
          accountId,
          channel: { id: channel.id, kind: channel.kind },
          client: {
            id: clientId,
            name: clientRow.name,
            externalId: message.user.id,
            phone: clientRow.phone,
            email: clientRow.email,
          },
          consentMissing,
          known: crm.known,
        },
        plan.operatorId,
      ).write
    : null;
  const session: SessionRow = {
    id: sessionId,
    seq: 0,
    account_id: accountId,
    dialog_id: dialogId,
    line_id: lineId,
    status: plan.status,
    operator_id: plan.operatorId,
    passed_by: [],
    offered_to: plan.offeredTo,
    pinned: plan.pinned,
    unanswered: false,
    created_at: now,
    queued_at: plan.queuedAt,
    assigned_at: plan.assignedAt,
    first_answer_at: null,
    last_client_message_at: now,
    last_operator_message_at: null,
    closed_at: null,
    close_reason: null,
    opened_off_hours: plan.openedOffHours,
    off_hours_reply_sent: plan.offHoursReplySent,
    waiting_since: plan.waitingSince,
    consent_requested_at: plan.consentRequestedAt,
    consent_given_at: null,
    rating_requested_at: null,
    rating: null,
    rating_comment: null,
    rated_at: null,
    supervisor_rating: null,
    supervisor_comment: null,
    supervisor_rated_by: null,
    supervisor_rated_at: null,
    crm_contact_id: crmWrite?.session.contactId ?? null,
    crm_lead_id: crmWrite?.session.leadId ?? null,
    crm_deal_id: crmWrite?.session.dealId ?? null,
    bot_id: plan.bot?.id ?? null,
    bot_version: plan.bot?.version ?? null,
    bot_state: plan.bot?.state ?? null,
    bot_started_at: plan.bot ? now : null,
    bot_ended_at: null,
  } as SessionRow;
  const clientMessage = {
    id: randomUUID(),
    author_kind: 'client' as const,
    author_id: clientId,
    text: message.text ?? null,
    attachments: message.attachments ?? [],
    private: false,
    delivery_state: 'received' as const,
    external_id: message.externalId,
    system_kind: null,
  };
  const delivery = deliveredOnWrite(channel.kind) ? ('sent' as const) : ('pending' as const);
  // LN-4: an inactive line sends nothing (the plan has no texts for it).
  const automatic = plan.texts.map((text) => ({
    id: randomUUID(),
    author_kind: 'system' as const,
    author_id: null,
    text: text.text,
    attachments: [],
    private: false,
    delivery_state: delivery,
    external_id: null,
    system_kind: text.systemKind,
  }));
  // A built-in bot's greeting, with its buttons (quick replies), after the automatic texts.
  const botTurns = (plan.bot?.turns ?? []).map((turn) => ({
    row: {
      id: randomUUID(),
      author_kind: 'bot' as const,
      author_id: plan.bot!.id,
      text: turn.text,
      attachments: [],
      private: false,
      delivery_state: delivery,
      external_id: null,
      system_kind: null,
    },
    quickReplies: turn.buttons,
  }));
  const outgoing = [
    ...automatic.map((row) => ({ row, quickReplies: [] as { title: string; reply: string }[] })),
    ...botTurns,
  ];
  // As the general path leaves it: the client's own words, not the automatic reply.
  const lastPreview = preview;

  const rows = await writeSessionStart(tx, {
    accountId,
    channelId: channel.id,
    known,
    clientRow,
    externalUserId: message.user.id,
    dialogId,
    session,
    plan,
    messages: [clientMessage, ...outgoing.map((item) => item.row)],
    outbox: [
      ...(wantsDialogEvents(channel.kind)
        ? [
            {
              messageId: null,
              state: 'pending' as const,
              payload: dialogStartPayload(dialogId, session.id),
            },
          ]
        : []),
      ...outgoing.map(({ row, quickReplies }) => ({
        messageId: row.id,
        state: delivery,
        payload: {
          kind: 'message',
          message: {
            messageId: row.id,
            dialogId,
            recipientId: message.user.id,
            authorKind: row.author_kind,
            // The bot's greeting is signed with its name and avatar; automatic texts with nobody's.
            authorName: row.author_kind === 'bot' ? (bot?.name ?? null) : null,
            authorAvatarUrl: row.author_kind === 'bot' ? (bot?.avatarUrl ?? null) : null,
            text: row.text,
            attachments: [],
            ...(quickReplies.length > 0 ? { quickReplies } : {}),
            createdAt: now.toISOString(),
          } satisfies OutboundMessage,
        },
      })),
    ],
    botEvent:
      plan.bot && plan.bot.kind === 'external'
        ? {
            id: randomUUID(),
            type: 'session.started',
            createdAt: now.toISOString(),
            botId: plan.bot.id,
            session: { id: sessionId, dialogId, lineId, channelKind: channel.kind },
            client: { id: clientId, name: clientRow.name },
            message: {
              id: clientMessage.id,
              text: clientMessage.text,
              attachments: clientMessage.attachments,
            },
            reason: 'welcome_bot',
          }
        : null,
    lastPreview,
    crm: crmWrite,
    now,
  });
  if (crmWrite) emitCrmStart(uow, crmWrite, { id: sessionId, dialogId });

  // Events from the rows in memory: each message, and the dialog with its new session.
  const kpi = kpiState(
    {
      firstAnswerSeconds: settings.kpi.firstAnswer.targetSeconds,
      furtherAnswerSeconds: settings.kpi.furtherAnswer.targetSeconds,
    },
    { open: true, createdAt: now, firstAnswerAt: null, waitingSince: now, breaches: 0 },
    now,
  );
  const identities = known ? known.identities : [{ channelId: channel.id, externalId: message.user.id }];
  const dialog: Dialog = {
    id: dialogId,
    lineId,
    channelId: channel.id,
    channelKind: channel.kind,
    client: {
      id: clientId,
      name: clientRow.name,
      avatarUrl: clientRow.avatarUrl,
      email: clientRow.email,
      phone: clientRow.phone,
      identities,
    },
    pinnedOperatorId: pinned,
    spam: false,
    unreachable: false,
    session: presentSession(session, [], kpi),
    lastMessageAt: now.toISOString(),
    lastMessagePreview: lastPreview,
    createdAt: rows.dialogCreatedAt.toISOString(),
    tags: known?.tags ?? [],
  };
  const users = new Set<string>();
  if (plan.status === 'queued') for (const id of queue) users.add(id);
  if (plan.operatorId) users.add(plan.operatorId);
  for (const id of plan.offeredTo) users.add(id);
  if (pinned) users.add(pinned);
  const audience = state.active ? { users: [...users], lineId, dialogId } : { users: [], dialogId };
  for (const row of rows.messages) {
    const presented: Message = presentMessage(row);
    uow.events.emit(accountId, 'message.created', { message: presented, lineId }, audience);
  }
  uow.events.emit(
    accountId,
    'dialog.updated',
    { dialog },
    state.active ? { users: [...users], lineId } : { users: [] },
  );
  return { messageId: clientMessage.id, dialogId, sessionId, duplicate: false };
}

interface PlannedMessage {
  id: string;
  author_kind: 'client' | 'system' | 'bot';
  author_id: string | null;
  text: string | null;
  attachments: unknown[];
  private: boolean;
  delivery_state: 'received' | 'pending' | 'sent';
  external_id: string | null;
  system_kind: string | null;
}

/** The whole start in one statement; rows keep their insertion order (seq) as planned. */
async function writeSessionStart(
  tx: Tx,
  input: {
    accountId: string;
    channelId: string;
    known: KnownClient | null;
    clientRow: {
      id: string;
      name: string;
      avatarUrl: string | null;
      email: string | null;
      phone: string | null;
    };
    externalUserId: string;
    dialogId: string;
    session: SessionRow;
    plan: NewSessionPlan;
    messages: PlannedMessage[];
    /** Message rows, and a session-start event (no message) first for channels that want one. */
    outbox: { messageId: string | null; state: 'pending' | 'sent'; payload: unknown }[];
    /** The external welcome bot's `session.started` (services/bot-deliveries), in the same statement. */
    botEvent: BotEvent | null;
    lastPreview: string | null;
    crm: CrmStartWrite | null;
    now: Date;
  },
): Promise<{ messages: MessageRow[]; dialogCreatedAt: Date }> {
  const { accountId, session, plan, now } = input;
  // With tracing on, the deliveries' spans (later, in any process) link back to this step.
  const traceParent = activeTraceparent();
  const parts = [];
  if (input.known === null) {
    const c = input.clientRow;
    parts.push(sql`c as (
      insert into clients (id, account_id, name, avatar_url, email, phone)
      values (${c.id}, ${accountId}, ${c.name}, ${c.avatarUrl}, ${c.email}, ${c.phone})
    )`);
    parts.push(sql`i as (
      insert into client_identities (account_id, client_id, channel_id, external_id)
      values (${accountId}, ${c.id}, ${input.channelId}, ${input.externalUserId})
    )`);
    parts.push(sql`d as (
      insert into dialogs (id, account_id, line_id, channel_id, client_id, last_message_at, last_message_preview, created_at)
      values (${input.dialogId}, ${accountId}, ${session.line_id}, ${input.channelId}, ${c.id}, ${now}, ${input.lastPreview}, ${now})
      returning created_at
    )`);
  } else {
    parts.push(sql`d as (
      update dialogs set last_message_at = ${now}, last_message_preview = ${input.lastPreview}, unreachable_at = null
      where id = ${input.dialogId}
      returning created_at
    )`);
  }
  if (input.crm) parts.push(...crmWriteParts(input.crm, 'crm_', now));
  parts.push(sql`s as (
    insert into sessions (id, account_id, dialog_id, line_id, status, operator_id, passed_by, offered_to, pinned,
      created_at, queued_at, assigned_at, last_client_message_at, opened_off_hours, off_hours_reply_sent,
      waiting_since, consent_requested_at, crm_contact_id, crm_lead_id, crm_deal_id,
      bot_id, bot_version, bot_state, bot_started_at)
    values (${session.id}, ${accountId}, ${input.dialogId}, ${session.line_id}, ${plan.status}, ${plan.operatorId},
      '[]'::jsonb, ${JSON.stringify(plan.offeredTo)}::jsonb, ${plan.pinned}, ${now}, ${plan.queuedAt},
      ${plan.assignedAt}, ${now}, ${plan.openedOffHours}, ${plan.offHoursReplySent}, ${plan.waitingSince},
      ${plan.consentRequestedAt}, ${input.crm?.session.contactId ?? null}::uuid, ${input.crm?.session.leadId ?? null}::uuid,
      ${crmDealRef(input.crm, 'crm_')}, ${plan.bot?.id ?? null}::uuid, ${plan.bot?.version ?? null}::int,
      ${plan.bot?.state ? JSON.stringify(plan.bot.state) : null}::jsonb, ${plan.bot ? now : null}::timestamptz)
  )`);
  if (input.botEvent) {
    parts.push(sql`b as (
      insert into bot_deliveries (account_id, bot_id, session_id, payload, next_attempt_at)
      values (${accountId}::uuid, ${input.botEvent.botId}::uuid, ${session.id}::uuid,
        ${JSON.stringify(input.botEvent)}::jsonb, ${now}::timestamptz)
    )`);
  }
  parts.push(sql`t as (
    insert into session_transitions
      (account_id, session_id, dialog_id, from_status, to_status, operator_id, actor_kind, actor_id, reason, at)
    values ${sql.join(
      plan.transitions.map(
        (t) =>
          sql`(${accountId}::uuid, ${session.id}::uuid, ${input.dialogId}::uuid, ${t.from}::text, ${t.to}::text, ${t.operatorId}::uuid,
            ${t.actor}::text, ${t.actor === 'client' ? input.clientRow.id : null}::uuid, ${t.reason}::text, ${now}::timestamptz)`,
      ),
    )}
  )`);
  if (plan.timers.length > 0) {
    parts.push(sql`a as (
      insert into timers (account_id, session_id, kind, due_at, payload)
      values ${sql.join(
        plan.timers.map(
          (timer) =>
            sql`(${accountId}::uuid, ${session.id}::uuid, ${timer.kind}::text, ${timer.dueAt}::timestamptz, ${JSON.stringify(timer.payload)}::jsonb)`,
        ),
      )}
    )`);
  }
  if (input.outbox.length > 0) {
    parts.push(sql`o as (
      insert into outbox (account_id, channel_id, message_id, payload, next_attempt_at, state, trace_parent)
      values ${sql.join(
        input.outbox.map(
          (row) =>
            sql`(${accountId}::uuid, ${input.channelId}::uuid, ${row.messageId}::uuid, ${JSON.stringify(row.state === 'sent' ? retainedOutboxPayload(row.payload) : row.payload)}::jsonb, ${now}::timestamptz, ${row.state}::text, ${row.state === 'sent' ? null : traceParent}::text)`,
        ),
      )}
    )`);
  }
  if (plan.strictCursor) {
    parts.push(
      sql`l as (update lines set strict_cursor = ${plan.strictCursor} where id = ${session.line_id})`,
    );
  }
  const result = await sql<MessageRow & { dialog_created_at: Date }>`
    with ${sql.join(parts)}, m as (
      insert into messages (id, account_id, dialog_id, session_id, channel_id, author_kind, author_id, text,
        attachments, private, spam, delivery_state, delivery_error, external_id, client_message_id, system_kind,
        created_at)
      values ${sql.join(
        input.messages.map(
          (row) =>
            sql`(${row.id}::uuid, ${accountId}::uuid, ${input.dialogId}::uuid, ${session.id}::uuid, ${input.channelId}::uuid,
              ${row.author_kind}::text, ${row.author_id}::uuid, ${row.text}::text, ${JSON.stringify(row.attachments)}::jsonb,
              ${row.private}::boolean, false, ${row.delivery_state}::text, null, ${row.external_id}::text, null,
              ${row.system_kind}::text, ${now}::timestamptz)`,
        ),
      )}
      returning *
    )
    select m.*, (select created_at from d) as dialog_created_at from m order by m.seq`.execute(tx);
  const messages = result.rows.map(({ dialog_created_at: _, ...row }) => row as MessageRow);
  return { messages, dialogCreatedAt: result.rows[0]?.dialog_created_at ?? now };
}
