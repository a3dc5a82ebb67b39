import type {
  Client,
  Dialog,
  DialogListQuery,
  Message,
  Session,
  SessionTransition,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { type KpiState, kpiState } from '../core/kpi';
import { notFound } from '../errors';
import type { Database } from '../store/database';
import type { DialogRow, SessionRow } from '../store/schema';
import type { Actor } from './actor';
import { presentMessage } from './message-presenter';
import type { Tx } from './transaction';

type Reader = Database | Tx;

const OPEN = ['new', 'bot', 'queued', 'assigned', 'answered', 'client_waiting'] as const;

export function presentSession(row: SessionRow, participantIds: string[], kpi: KpiState): Session {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    id: row.id,
    dialogId: row.dialog_id,
    lineId: row.line_id,
    status: row.status,
    operatorId: row.operator_id,
    offeredTo: row.offered_to,
    participantIds,
    pinned: row.pinned,
    unanswered: row.unanswered,
    createdAt: row.created_at.toISOString(),
    queuedAt: iso(row.queued_at),
    assignedAt: iso(row.assigned_at),
    firstAnswerAt: iso(row.first_answer_at),
    lastClientMessageAt: iso(row.last_client_message_at),
    closedAt: iso(row.closed_at),
    closeReason: row.close_reason,
    openedOffHours: row.opened_off_hours,
    consent: row.consent_given_at ? 'given' : row.consent_requested_at ? 'pending' : 'not_required',
    kpi: {
      state: kpi.state,
      waitingSince: iso(kpi.waitingSince),
      dueAt: iso(kpi.dueAt),
      firstAnswerSeconds: kpi.firstAnswerSeconds,
      breaches: kpi.breaches,
    },
    rating:
      row.rating && row.rated_at
        ? { value: row.rating, comment: row.rating_comment, at: row.rated_at.toISOString() }
        : null,
    ratingRequestedAt: iso(row.rating_requested_at),
    supervisorRating: row.supervisor_rated_at
      ? {
          value: row.supervisor_rating,
          comment: row.supervisor_comment,
          by: row.supervisor_rated_by,
          at: row.supervisor_rated_at.toISOString(),
        }
      : null,
  };
}

/** KPI facts of sessions: their line's targets and how many targets each has missed. */
async function kpiOf(db: Reader, sessions: SessionRow[], now: Date): Promise<Map<string, KpiState>> {
  const result = new Map<string, KpiState>();
  if (sessions.length === 0) return result;
  const lineIds = [...new Set(sessions.map((s) => s.line_id))];
  const [lines, breaches] = await Promise.all([
    db.selectFrom('lines').select(['id', 'settings']).where('id', 'in', lineIds).execute(),
    db
      .selectFrom('kpi_breaches')
      .select(['session_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where(
        'session_id',
        'in',
        sessions.map((s) => s.id),
      )
      .groupBy('session_id')
      .execute(),
  ]);
  const settingsOf = new Map(lines.map((line) => [line.id, line.settings]));
  const breachesOf = new Map(breaches.map((b) => [b.session_id, Number(b.count)]));
  for (const session of sessions) {
    const settings = settingsOf.get(session.line_id);
    const targets = {
      firstAnswerSeconds: settings?.kpi.firstAnswer.targetSeconds ?? 0,
      furtherAnswerSeconds: settings?.kpi.furtherAnswer.targetSeconds ?? 0,
    };
    result.set(
      session.id,
      kpiState(
        targets,
        {
          open: OPEN.includes(session.status as (typeof OPEN)[number]),
          createdAt: session.created_at,
          firstAnswerAt: session.first_answer_at,
          waitingSince: session.waiting_since,
          breaches: breachesOf.get(session.id) ?? 0,
        },
        now,
      ),
    );
  }
  return result;
}

/** Presents dialogs with their client, channel kind and latest session, in a few batched reads. */
export async function presentDialogs(db: Reader, rows: DialogRow[], now: Date): Promise<Dialog[]> {
  if (rows.length === 0) return [];
  const dialogIds = rows.map((r) => r.id);
  const clientIds = [...new Set(rows.map((r) => r.client_id))];
  const channelIds = [...new Set(rows.map((r) => r.channel_id))];
  const [clients, identities, channels, sessions] = await Promise.all([
    db.selectFrom('clients').selectAll().where('id', 'in', clientIds).execute(),
    db.selectFrom('client_identities').selectAll().where('client_id', 'in', clientIds).execute(),
    db.selectFrom('channels').select(['id', 'kind']).where('id', 'in', channelIds).execute(),
    db
      .selectFrom('sessions')
      .selectAll()
      .distinctOn('dialog_id')
      .where('dialog_id', 'in', dialogIds)
      .orderBy('dialog_id')
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .execute(),
  ]);
  const participants = sessions.length
    ? await db
        .selectFrom('session_participants')
        .select(['session_id', 'user_id'])
        .where(
          'session_id',
          'in',
          sessions.map((s) => s.id),
        )
        .orderBy('joined_at')
        .execute()
    : [];
  const clientById = new Map(
    clients.map((client): [string, Client] => [
      client.id,
      {
        id: client.id,
        name: client.name,
        avatarUrl: client.avatar_url,
        email: client.email,
        phone: client.phone,
        identities: identities
          .filter((i) => i.client_id === client.id)
          .map((i) => ({ channelId: i.channel_id, externalId: i.external_id })),
      },
    ]),
  );
  const kindById = new Map(channels.map((c) => [c.id, c.kind]));
  const kpis = await kpiOf(db, sessions, now);
  const sessionByDialog = new Map(sessions.map((s) => [s.dialog_id, s]));
  return rows.map((row) => {
    const session = sessionByDialog.get(row.id);
    return {
      id: row.id,
      lineId: row.line_id,
      channelId: row.channel_id,
      channelKind: kindById.get(row.channel_id) ?? 'unknown',
      client: clientById.get(row.client_id)!,
      pinnedOperatorId: row.pinned_operator_id,
      spam: row.spam,
      unreachable: row.unreachable_at !== null,
      session: session
        ? presentSession(
            session,
            participants.filter((p) => p.session_id === session.id).map((p) => p.user_id),
            kpis.get(session.id)!,
          )
        : null,
      lastMessageAt: row.last_message_at ? row.last_message_at.toISOString() : null,
      lastMessagePreview: row.last_message_preview,
      createdAt: row.created_at.toISOString(),
    };
  });
}

// ----- Reading dialogs with the viewer's rights (AR-1, OP-1) --------------------------------------

/** Dialog ids a user may see, as a SQL condition over `dialogs`; the same rule for lists and reads. */
function visibleTo(actor: Actor) {
  const scope = actor.permissions.dialogHistory;
  const me = actor.userId;
  if (scope === 'all') return sql<boolean>`true`;
  // Everyone sees the queues they belong to and what they hold, consult on or are offered.
  const base = sql<boolean>`(
    exists (select 1 from sessions s where s.dialog_id = dialogs.id and (
      (s.operator_id = ${me} and s.status in ('assigned', 'answered', 'client_waiting'))
      or s.offered_to ? ${me}
      or exists (select 1 from session_participants p where p.session_id = s.id and p.user_id = ${me})
    ))
    or exists (select 1 from sessions s join lines l on l.id = s.line_id
      where s.dialog_id = dialogs.id and s.status = 'queued' and (
        l.settings->'queue'->'members' @> ${JSON.stringify([{ type: 'user', id: me }])}::jsonb
        or exists (select 1 from department_members dm where dm.user_id = ${me}
          and l.settings->'queue'->'members' @> jsonb_build_array(jsonb_build_object('type', 'department', 'id', dm.department_id::text)))
      ))
  )`;
  if (scope === 'none') return base;
  // Own history: every dialog the user ever held, including those passed on since.
  const own = sql<boolean>`exists (select 1 from session_transitions t join sessions s on s.id = t.session_id
    where s.dialog_id = dialogs.id and t.operator_id = ${me})`;
  if (scope === 'own') return sql<boolean>`(${base} or ${own})`;
  const department = sql<boolean>`exists (select 1 from sessions s
    join department_members theirs on theirs.user_id = s.operator_id
    join department_members mine on mine.department_id = theirs.department_id and mine.user_id = ${me}
    where s.dialog_id = dialogs.id)`;
  return sql<boolean>`(${base} or ${own} or ${department})`;
}

export async function loadVisibleDialog(db: Reader, actor: Actor, dialogId: string): Promise<DialogRow> {
  const row = await db
    .selectFrom('dialogs')
    .innerJoin('lines', 'lines.id', 'dialogs.line_id')
    .selectAll('dialogs')
    .where('dialogs.account_id', '=', actor.accountId)
    .where('dialogs.id', '=', dialogId)
    .where(visibleTo(actor))
    .executeTakeFirst();
  if (!row) throw notFound('The dialog');
  return row;
}

export async function getDialog(ctx: AppContext, actor: Actor, dialogId: string): Promise<Dialog> {
  const row = await loadVisibleDialog(ctx.store.db, actor, dialogId);
  const [dialog] = await presentDialogs(ctx.store.db, [row], ctx.clock.now());
  return dialog!;
}

export async function listDialogs(
  ctx: AppContext,
  actor: Actor,
  query: DialogListQuery,
): Promise<{ items: Dialog[]; total: number }> {
  const me = actor.userId;
  let q = ctx.store.db
    .selectFrom('dialogs')
    .innerJoin('lines', 'lines.id', 'dialogs.line_id')
    .innerJoin('clients', 'clients.id', 'dialogs.client_id')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('sessions')
          .selectAll()
          .distinctOn('dialog_id')
          .orderBy('dialog_id')
          .orderBy('created_at', 'desc')
          .orderBy('seq', 'desc')
          .as('latest'),
      (join) => join.onRef('latest.dialog_id', '=', 'dialogs.id'),
    )
    .where('dialogs.account_id', '=', actor.accountId)
    // LN-4: an inactive line's dialogs are not shown until it is active again.
    .where('lines.active', '=', true)
    .where(visibleTo(actor));
  if (query.view === 'queue') {
    q = q.where('latest.status', '=', 'queued');
  } else if (query.view === 'mine') {
    q = q.where((eb) =>
      eb.and([
        eb('latest.status', 'in', ['assigned', 'answered', 'client_waiting']),
        eb.or([
          eb('latest.operator_id', '=', me),
          sql<boolean>`exists (select 1 from session_participants p where p.session_id = latest.id and p.user_id = ${me})`,
        ]),
      ]),
    );
  }
  if (query.lineId)
    q = q.where((eb) =>
      eb.or([eb('latest.line_id', '=', query.lineId!), eb('dialogs.line_id', '=', query.lineId!)]),
    );
  if (query.channelId) q = q.where('dialogs.channel_id', '=', query.channelId);
  if (query.operatorId) q = q.where('latest.operator_id', '=', query.operatorId);
  if (query.status) q = q.where('latest.status', '=', query.status);
  if (query.rating === 'none') q = q.where('latest.rating', 'is', null);
  else if (query.rating) q = q.where('latest.rating', '=', query.rating);
  if (query.from) q = q.where('dialogs.last_message_at', '>=', new Date(query.from));
  if (query.to) q = q.where('dialogs.last_message_at', '<', new Date(query.to));
  if (query.search) {
    const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb('clients.name', 'ilike', pattern),
        eb('clients.email', 'ilike', pattern),
        eb('clients.phone', 'ilike', pattern),
        eb('dialogs.last_message_preview', 'ilike', pattern),
      ]),
    );
  }
  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll('dialogs')
    .orderBy(sql`dialogs.last_message_at desc nulls last`)
    .orderBy('dialogs.id')
    .limit(query.limit ?? 50)
    .offset(query.offset ?? 0)
    .execute();
  return { items: await presentDialogs(ctx.store.db, rows, ctx.clock.now()), total: Number(total) };
}

export async function listMessages(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
  query: { before?: string; limit?: number },
): Promise<Message[]> {
  await loadVisibleDialog(ctx.store.db, actor, dialogId);
  let q = ctx.store.db.selectFrom('messages').selectAll().where('dialog_id', '=', dialogId);
  if (query.before) q = q.where('created_at', '<', new Date(query.before));
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('seq', 'desc')
    .limit(query.limit ?? 100)
    .execute();
  return rows.reverse().map(presentMessage);
}

export async function listTransitions(
  ctx: AppContext,
  actor: Actor,
  dialogId: string,
): Promise<SessionTransition[]> {
  await loadVisibleDialog(ctx.store.db, actor, dialogId);
  const rows = await ctx.store.db
    .selectFrom('session_transitions')
    .innerJoin('sessions', 'sessions.id', 'session_transitions.session_id')
    .selectAll('session_transitions')
    .where('sessions.dialog_id', '=', dialogId)
    .orderBy('session_transitions.id')
    .execute();
  return rows.map((row) => ({
    sessionId: row.session_id,
    from: row.from_status as SessionTransition['from'],
    to: row.to_status as SessionTransition['to'],
    operatorId: row.operator_id,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    reason: row.reason,
    at: row.at.toISOString(),
  }));
}

export { OPEN as OPEN_SESSION_STATUSES };
