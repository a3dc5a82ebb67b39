import type { OpenlinesEvent, Session } from '@openlines/contract';
import type { AppContext } from '../../context';
import {
  crmSourceOf,
  decideNewSessionCrm,
  lookupIdentities,
  recordTitleOf,
  responsibleAfterTransfer,
} from '../../core/crm';
import type { CrmAdapter, CrmPerson, ExternalRecordRef } from '../../crm-adapters/adapter';
import { loadEventsAfter } from '../../store/events';
import type { CrmSyncJobRow } from '../../store/schema';
import { hasConsent } from '../automation/consent';
import { runInTransaction, type Tx } from '../transaction';

/**
 * The external CRM's outbox (CRM-4; docs/crm.md "External CRMs"). Nothing here runs inside an
 * intake transaction or on the message path: the feed reads the account's committed event log
 * after the fact (like the webhook feed) and turns each new session, and each operator who takes
 * one, into a durable `crm_sync_jobs` row, deduplicated by key; the worker (workers/crm-sync.ts)
 * runs the jobs through the account's adapter and retries the ones that fail. A slow or failing
 * CRM holds back only the jobs of the same session, never a message.
 */

/** The session an event carries the state of (a dialog's update, or a message with its activity). */
function sessionOf(event: OpenlinesEvent): Session | null {
  if (event.type === 'dialog.updated') return event.data.dialog.session ?? null;
  if (event.type === 'message.created') return event.data.activity?.session ?? null;
  return null;
}

export interface CrmSyncFeedReport {
  read: number;
  queued: number;
  more: boolean;
}

/** The accounts with an external CRM whose event log has events not fed yet. */
export async function crmSyncFeedsDue(ctx: AppContext): Promise<{ accountId: string; behind: boolean }[]> {
  const rows = await ctx.store.db
    .selectFrom('crm_adapters as c')
    .innerJoin('accounts as a', 'a.id', 'c.account_id')
    .select((eb) => ['c.account_id', eb('c.cursor', '<', eb.ref('a.event_seq')).as('behind')])
    .execute();
  return rows.map((row) => ({ accountId: row.account_id, behind: Boolean(row.behind) }));
}

/**
 * One account's events after its cursor become sync jobs, in a transaction that moves the cursor
 * with the rows it writes (an event is fed once, or not yet; another process's feed is skipped).
 */
export async function feedCrmSync(
  ctx: AppContext,
  accountId: string,
  limit = 500,
): Promise<CrmSyncFeedReport> {
  return runInTransaction(ctx, async ({ tx }) => {
    const adapter = await tx
      .selectFrom('crm_adapters')
      .select(['cursor', 'enabled_at'])
      .where('account_id', '=', accountId)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!adapter) return { read: 0, queued: 0, more: false };
    const envelopes = await loadEventsAfter(
      tx,
      accountId,
      Number(adapter.cursor),
      Number.MAX_SAFE_INTEGER,
      limit,
    );
    if (envelopes.length === 0) return { read: 0, queued: 0, more: false };
    const now = ctx.clock.now();
    const jobs = new Map<
      string,
      { kind: 'session' | 'responsible'; session_id: string; operator_id: string | null }
    >();
    for (const { event } of envelopes) {
      const session = sessionOf(event);
      if (!session || Date.parse(session.createdAt) < adapter.enabled_at.getTime()) continue;
      jobs.set(`session:${session.id}`, { kind: 'session', session_id: session.id, operator_id: null });
      if (session.operatorId) {
        jobs.set(`responsible:${session.id}:${session.operatorId}`, {
          kind: 'responsible',
          session_id: session.id,
          operator_id: session.operatorId,
        });
      }
    }
    let queued = 0;
    if (jobs.size > 0) {
      const inserted = await tx
        .insertInto('crm_sync_jobs')
        .values(
          [...jobs].map(([key, job]) => ({
            account_id: accountId,
            key,
            ...job,
            next_attempt_at: now,
            created_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['account_id', 'key']).doNothing())
        .returning('id')
        .execute();
      queued = inserted.length;
    }
    const last = envelopes.at(-1)!.event.cursor;
    await tx.updateTable('crm_adapters').set({ cursor: last }).where('account_id', '=', accountId).execute();
    return { read: envelopes.length, queued, more: envelopes.length >= limit };
  });
}

/**
 * The oldest waiting job of each session that is due, leased until `leaseUntil` (a crashed
 * process's job is claimed again when the lease runs out): a session's jobs run in order.
 */
export async function claimCrmSyncJobs(
  ctx: AppContext,
  limit: number,
  leaseMs: number,
): Promise<CrmSyncJobRow[]> {
  const now = ctx.clock.now();
  const rows = await ctx.store.db
    .with('due', (qb) =>
      qb
        .selectFrom('crm_sync_jobs as j')
        .select('j.id')
        .where('j.state', '=', 'pending')
        .where('j.next_attempt_at', '<=', now)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('crm_sync_jobs as e')
                .select('e.id')
                .whereRef('e.session_id', '=', 'j.session_id')
                .where('e.state', '=', 'pending')
                .whereRef('e.id', '<', 'j.id'),
            ),
          ),
        )
        .orderBy('j.next_attempt_at')
        .orderBy('j.id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('crm_sync_jobs')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: new Date(now.getTime() + leaseMs) }))
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Records a job's result. A session job that found no consent (AG-3) is removed instead, so the
 * session's next event (the consent, or the client's next message) queues it again.
 */
export async function markCrmSyncDone(
  ctx: AppContext,
  job: CrmSyncJobRow,
  result: Record<string, unknown>,
): Promise<void> {
  if (job.kind === 'session' && result.outcome === 'no_consent') {
    await ctx.store.db.deleteFrom('crm_sync_jobs').where('id', '=', job.id).execute();
    return;
  }
  await ctx.store.db
    .updateTable('crm_sync_jobs')
    .set({ state: 'done', done_at: ctx.clock.now(), result: JSON.stringify(result), last_error: null })
    .where('id', '=', job.id)
    .execute();
}

export async function markCrmSyncRetry(
  ctx: AppContext,
  job: CrmSyncJobRow,
  delayMs: number,
  failure: { status: number | null; error: string },
): Promise<void> {
  await ctx.store.db
    .updateTable('crm_sync_jobs')
    .set({
      next_attempt_at: new Date(ctx.clock.now().getTime() + delayMs),
      last_status: failure.status,
      last_error: failure.error,
    })
    .where('id', '=', job.id)
    .where('state', '=', 'pending')
    .execute();
}

/** Done jobs are kept this long (their results are what a later transfer's job reads), then deleted. */
export const CRM_SYNC_DONE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export async function pruneCrmSyncJobs(ctx: AppContext): Promise<number> {
  const before = new Date(ctx.clock.now().getTime() - CRM_SYNC_DONE_RETENTION_MS);
  const deleted = await ctx.store.db
    .deleteFrom('crm_sync_jobs')
    .where('state', '=', 'done')
    .where('done_at', '<', before)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

/** What a session job needs, read fresh when it runs (the session may have moved on meanwhile). */
async function loadSessionFacts(tx: Tx, job: CrmSyncJobRow) {
  const row = await tx
    .selectFrom('sessions as s')
    .innerJoin('dialogs as d', 'd.id', 's.dialog_id')
    .innerJoin('clients as c', 'c.id', 'd.client_id')
    .innerJoin('channels as ch', 'ch.id', 'd.channel_id')
    .innerJoin('lines as l', 'l.id', 's.line_id')
    .leftJoin('client_identities as ci', (join) =>
      join.onRef('ci.client_id', '=', 'c.id').onRef('ci.channel_id', '=', 'd.channel_id'),
    )
    .select([
      's.id',
      's.dialog_id',
      's.operator_id',
      's.created_at',
      'c.id as client_id',
      'c.name as client_name',
      'c.phone',
      'c.email',
      'ch.id as channel_id',
      'ch.kind as channel_kind',
      'ci.external_id',
      'l.id as line_id',
    ])
    .where('s.id', '=', job.session_id)
    .where('s.account_id', '=', job.account_id)
    .executeTakeFirst();
  if (!row) return null;
  const line = await tx
    .selectFrom('lines')
    .selectAll()
    .where('id', '=', row.line_id)
    .executeTakeFirstOrThrow();
  return { ...row, line };
}

async function personOf(
  ctx: AppContext,
  accountId: string,
  userId: string | null,
): Promise<CrmPerson | null> {
  if (!userId) return null;
  const user = await ctx.store.db
    .selectFrom('users')
    .select(['id', 'name', 'email'])
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .executeTakeFirst();
  return user ?? null;
}

/** The responsible a record of this line gets: the line's set person, or the session's operator. */
function responsibleIdOf(
  settings: { responsibleUserId?: string | null },
  operatorId: string | null,
): string | null {
  return settings.responsibleUserId ?? operatorId;
}

/**
 * A session job: the client is looked up in the external CRM by the same identities as in the
 * built-in one, the same pure decision (`decideNewSessionCrm`) says what to create, and the session
 * is attached to the record. Each creating call has a key made of the job's so a retry after a
 * lost answer does not create a second contact or lead.
 */
export async function runSessionJob(
  ctx: AppContext,
  adapter: CrmAdapter,
  job: CrmSyncJobRow,
): Promise<Record<string, unknown>> {
  const facts = await runInTransaction(ctx, async ({ tx }) => {
    const found = await loadSessionFacts(tx, job);
    if (!found) return null;
    const { line } = found;
    const consentMissing =
      line.settings.agreement.required && !(await hasConsent(tx, line, found.client_id, ctx.clock.now()));
    return { ...found, consentMissing };
  });
  if (!facts) return { outcome: 'session_gone' };
  const settings = facts.line.settings.crm;
  if (!settings.enabled) return { outcome: 'off' };
  // AG-3: nothing goes to the CRM for a client who has not consented.
  if (facts.consentMissing) return { outcome: 'no_consent' };
  const identities = lookupIdentities({
    channelId: facts.channel_id,
    externalId: facts.external_id ?? facts.client_id,
    phone: facts.phone,
    email: facts.email,
  });
  const client = await adapter.findClient(identities);
  const decision = decideNewSessionCrm({
    settings,
    consentMissing: false,
    known: client
      ? {
          contactId: client.id,
          responsibleId: null,
          openRecord: client.openRecord ? { ...client.openRecord, responsibleId: null } : null,
        }
      : null,
  });
  if (decision.kind === 'off' || decision.kind === 'no_consent') return { outcome: decision.kind };
  if (decision.kind === 'new' && decision.create === null) return { outcome: 'none' };
  const responsible = await personOf(ctx, job.account_id, responsibleIdOf(settings, facts.operator_id));
  const key = `openlines:${job.account_id}:${job.key}`;
  const clientId =
    decision.kind === 'new'
      ? (await adapter.createClient({ name: facts.client_name, identities }, `${key}:client`)).id
      : decision.contactId;
  let record: ExternalRecordRef | null = decision.kind === 'attach' ? decision.record : null;
  const create = decision.kind === 'attach' ? null : decision.create;
  if (create) {
    const created = await adapter.createRecord(
      {
        kind: create,
        title: recordTitleOf(facts.client_name, facts.line.name),
        clientId,
        source: crmSourceOf(settings, facts.line.name),
        channelKind: facts.channel_kind,
        responsible,
      },
      `${key}:${create}`,
    );
    record = { kind: create, id: created.id };
  }
  if (record) {
    await adapter.attachSession(
      record,
      {
        id: facts.id,
        dialogId: facts.dialog_id,
        transcriptUrl: `${ctx.publicUrl.value}/dialogs/${facts.dialog_id}`,
        startedAt: facts.created_at.toISOString(),
        operator: await personOf(ctx, job.account_id, facts.operator_id),
      },
      `${key}:attach`,
    );
  }
  return { outcome: decision.kind, clientId, record, created: create };
}

/**
 * A responsible job: the operator who took the session becomes the responsible of its record when
 * it is the session's first operator (the record was made while it waited, or by the session job
 * with the same person), or on a transfer when the line says so (`CRM_TRANSFER_CHANGE`). A line
 * with a set responsible person keeps them.
 */
export async function runResponsibleJob(
  ctx: AppContext,
  adapter: CrmAdapter,
  job: CrmSyncJobRow,
): Promise<Record<string, unknown>> {
  const earlier = await ctx.store.db
    .selectFrom('crm_sync_jobs')
    .select(['kind', 'result', 'operator_id'])
    .where('session_id', '=', job.session_id)
    .where('state', '=', 'done')
    .where('id', '<', job.id)
    .orderBy('id')
    .execute();
  const record = earlier.find((row) => row.kind === 'session')?.result?.record as
    | ExternalRecordRef
    | null
    | undefined;
  if (!record || !job.operator_id) return { outcome: 'no_record' };
  const line = await ctx.store.db
    .selectFrom('sessions as s')
    .innerJoin('lines as l', 'l.id', 's.line_id')
    .select('l.settings')
    .where('s.id', '=', job.session_id)
    .executeTakeFirst();
  if (!line) return { outcome: 'session_gone' };
  const settings = line.settings.crm;
  if (settings.responsibleUserId) return { outcome: 'set_person' };
  const previous = earlier.filter((row) => row.kind === 'responsible').at(-1)?.operator_id ?? null;
  if (previous && responsibleAfterTransfer(settings, previous, job.operator_id) === null)
    return { outcome: 'unchanged' };
  const person = await personOf(ctx, job.account_id, job.operator_id);
  if (!person) return { outcome: 'no_user' };
  await adapter.changeResponsible(record, person);
  return { outcome: 'changed', record, responsible: person.id };
}
