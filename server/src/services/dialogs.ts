import {
  type Client,
  type Dialog,
  type DialogListQuery,
  isOpen,
  isUuid,
  type Message,
  type SearchHit,
  type Session,
  type SessionTransition,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { type KpiState, kpiState } from '../core/kpi';
import { HIT_END, HIT_START, prefixQuery, SEARCH_CONFIG, splitHeadline } from '../core/search';
import { AppError, notFound } from '../errors';
import type { Database } from '../store/database';
import type { DialogRow, SessionRow } from '../store/schema';
import type { Actor } from './actor';
import { presentMessage } from './message-presenter';
import { HELD_SQL, visibleRow, visibleSet } from './policies/dialog-visibility';
import type { Tx } from './transaction';

type Reader = Database | Tx;

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
          open: isOpen(session.status),
          // BOT-4: a bot's time before the hand-over is not the operators' answer time.
          createdAt: session.bot_ended_at ?? session.created_at,
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
          .map((i) => ({
            channelId: i.channel_id,
            externalId: i.external_id,
            ...(i.page_url && i.page_at
              ? {
                  page: { url: i.page_url, referrer: i.page_referrer, at: new Date(i.page_at).toISOString() },
                }
              : {}),
          })),
        ...(client.blocked_at ? { blockedAt: new Date(client.blocked_at).toISOString() } : {}),
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
      tags: row.tags ?? [],
    };
  });
}

// ----- Reading dialogs with the viewer's rights (AR-1, OP-1): policies/dialog-visibility.ts -------

export async function loadVisibleDialog(db: Reader, actor: Actor, dialogId: string): Promise<DialogRow> {
  const row = await db
    .selectFrom('dialogs')
    .innerJoin('lines', 'lines.id', 'dialogs.line_id')
    .selectAll('dialogs')
    .where('dialogs.account_id', '=', actor.accountId)
    .where('dialogs.id', '=', dialogId)
    .where(visibleRow(actor))
    .executeTakeFirst();
  if (!row) throw notFound('The dialog');
  return row;
}

export async function getDialog(ctx: AppContext, actor: Actor, dialogId: string): Promise<Dialog> {
  const row = await loadVisibleDialog(ctx.store.db, actor, dialogId);
  const [dialog] = await presentDialogs(ctx.store.db, [row], ctx.clock.now());
  return dialog!;
}

/** A place in the lists' order (newest activity first, ties by id), as an opaque cursor. */
interface ListPlace {
  at: Date | null;
  id: string;
}

export function encodeCursor(place: ListPlace): string {
  return Buffer.from(JSON.stringify([place.at?.toISOString() ?? null, place.id])).toString('base64url');
}

export function decodeCursor(cursor: string): ListPlace {
  const invalid = () =>
    new AppError('validation_failed', 'The cursor is not one this server gave', [
      { field: 'query.cursor', message: 'must be the nextCursor of a previous page' },
    ]);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [at, id] = value as unknown[];
  if (typeof id !== 'string' || !isUuid(id)) throw invalid();
  if (at === null) return { at: null, id };
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw invalid();
  return { at: new Date(at), id };
}

export async function listDialogs(
  ctx: AppContext,
  actor: Actor,
  query: DialogListQuery,
): Promise<{ items: Dialog[]; nextCursor: string | null }> {
  const me = actor.userId;
  const limit = query.limit ?? 50;
  const account = actor.accountId;
  let q = ctx.store.db
    .selectFrom('dialogs')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('sessions')
          .selectAll()
          .whereRef('sessions.dialog_id', '=', 'dialogs.id')
          .orderBy('created_at', 'desc')
          .orderBy('seq', 'desc')
          .limit(1)
          .as('latest'),
      (join) => join.onTrue(),
    )
    .where('dialogs.account_id', '=', account)
    // LN-4: an inactive line's dialogs are not shown until it is active again.
    .where(
      'dialogs.line_id',
      'in',
      ctx.store.db
        .selectFrom('lines')
        .select('lines.id')
        .where('lines.account_id', '=', account)
        .where('lines.active', '=', true),
    );
  // The views start from the few open sessions they show (an open session is its dialog's latest).
  if (query.view === 'queue') {
    q = q
      .where(
        'dialogs.id',
        'in',
        sql<string>`(select s.dialog_id from sessions s where s.account_id = ${account} and s.status = 'queued')`,
      )
      .where(visibleRow(actor));
  } else if (query.view === 'mine') {
    // What a user holds or consults on is always theirs to see: no visibility test needed.
    q = q.where(
      'dialogs.id',
      'in',
      sql<string>`(select s.dialog_id from sessions s
        where s.operator_id = ${me} and s.status in (${HELD_SQL})
        union all
        select s.dialog_id from session_participants p join sessions s on s.id = p.session_id
        where p.user_id = ${me} and s.status in (${HELD_SQL}))`,
    );
  } else {
    q = q.where(visibleSet(actor));
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
  // The period bounds the last activity, or when the latest session started or closed.
  const periodColumn =
    query.periodBy === 'created'
      ? 'latest.created_at'
      : query.periodBy === 'closed'
        ? 'latest.closed_at'
        : 'dialogs.last_message_at';
  if (query.from) q = q.where(periodColumn, '>=', new Date(query.from));
  if (query.to) q = q.where(periodColumn, '<', new Date(query.to));
  if (query.tag) q = q.where(sql<boolean>`dialogs.tags @> ${JSON.stringify([query.tag])}::jsonb`);
  const words = query.search ? prefixQuery(query.search) : null;
  if (query.search) {
    // The client's name, e-mail or phone containing the text (trigram indexes), or a message of the
    // dialog holding every word (messages_words). Which plan is fast depends on how many messages
    // match, so that is asked first (one statement, bounded): a few matching dialogs are found by
    // their ids; a word in most of the history is checked dialog by dialog, newest first, which
    // stops at the page's end. An OR across the tables instead made PostgreSQL scan every dialog.
    const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const byClient = sql`select d.id from clients c join dialogs d on d.client_id = c.id
      where c.account_id = ${account} and d.account_id = ${account}
        and (c.name ilike ${pattern} or c.email ilike ${pattern} or c.phone ilike ${pattern})`;
    const hits = words ? await dialogsWithWords(ctx.store.db, account, words) : [];
    if (hits === 'many') {
      q = q.where((eb) =>
        eb.or([
          eb('dialogs.id', 'in', sql<string>`(${byClient})`),
          sql<boolean>`exists (select 1 from messages m where m.dialog_id = dialogs.id
            and ${matchesWords(sql.ref('m.text'), words!)})`,
        ]),
      );
    } else {
      const byWords = hits.length > 0 ? sql` union select unnest(array[${sql.join(hits)}]::uuid[])` : sql``;
      q = q.where('dialogs.id', 'in', sql<string>`(${byClient}${byWords})`);
    }
  }
  if (query.cursor) {
    // After the cursor in (last_message_at desc nulls last, id): an older activity, the same
    // activity and a later id, or no activity at all.
    const place = decodeCursor(query.cursor);
    const { at, id } = place;
    q = q.where((eb) =>
      at === null
        ? eb.and([eb('dialogs.last_message_at', 'is', null), eb('dialogs.id', '>', id)])
        : eb.or([
            eb('dialogs.last_message_at', '<', at),
            eb.and([eb('dialogs.last_message_at', '=', at), eb('dialogs.id', '>', id)]),
            eb('dialogs.last_message_at', 'is', null),
          ]),
    );
  }
  const rows = await q
    .selectAll('dialogs')
    .orderBy(sql`dialogs.last_message_at desc nulls last`)
    .orderBy('dialogs.id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const items = await presentDialogs(ctx.store.db, page, ctx.clock.now());
  if (words && items.length > 0) {
    const hits = await searchHits(
      ctx.store.db,
      items.map((item) => item.id),
      words,
    );
    for (const item of items) {
      const hit = hits.get(item.id);
      if (hit) item.searchHit = hit;
    }
  }
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.last_message_at, id: last.id }) : null,
  };
}

/** Up to this many matching messages, their dialogs are looked up by id. */
const FEW_MATCHING_MESSAGES = 2000;

/** The dialogs whose messages hold every word, or `many` when more messages match than a few. */
async function dialogsWithWords(db: Database, accountId: string, words: string): Promise<string[] | 'many'> {
  const rows = await sql<{ dialog_id: string }>`select m.dialog_id from messages m
    where m.account_id = ${accountId} and ${matchesWords(sql.ref('m.text'), words)}
    limit ${FEW_MATCHING_MESSAGES + 1}`.execute(db);
  if (rows.rows.length > FEW_MATCHING_MESSAGES) return 'many';
  return [...new Set(rows.rows.map((row) => row.dialog_id))];
}

/** The stemmed-words match the `messages_words` index serves (the expression must be the same). */
function matchesWords(text: ReturnType<typeof sql.ref>, words: string) {
  return sql<boolean>`to_tsvector(${sql.lit(SEARCH_CONFIG)}, coalesce(${text}, '')) @@ to_tsquery(${sql.lit(SEARCH_CONFIG)}, ${words})`;
}

const HEADLINE_OPTIONS = `StartSel=${HIT_START}, StopSel=${HIT_END}, MaxWords=12, MinWords=4, MaxFragments=1, FragmentDelimiter=" … "`;

/** For each dialog of a page, its latest message matching the words, with the words marked. */
async function searchHits(db: Database, dialogIds: string[], words: string): Promise<Map<string, SearchHit>> {
  const rows = await sql<{ dialog_id: string; id: string; created_at: Date; headline: string }>`
    select distinct on (m.dialog_id) m.dialog_id, m.id, m.created_at,
      ts_headline(${sql.lit(SEARCH_CONFIG)}, replace(replace(m.text, ${HIT_START}, ''), ${HIT_END}, ''),
        to_tsquery(${sql.lit(SEARCH_CONFIG)}, ${words}), ${HEADLINE_OPTIONS}) as headline
    from messages m
    where m.dialog_id in (${sql.join(dialogIds)}) and ${matchesWords(sql.ref('m.text'), words)}
    order by m.dialog_id, m.created_at desc, m.seq desc`.execute(db);
  return new Map(
    rows.rows.map((row) => [
      row.dialog_id,
      {
        messageId: row.id,
        at: new Date(row.created_at).toISOString(),
        fragments: splitHeadline(row.headline),
      },
    ]),
  );
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
    ...(row.comment ? { comment: row.comment } : {}),
  }));
}
