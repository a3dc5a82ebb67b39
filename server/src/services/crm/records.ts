import type {
  CrmActivity,
  CrmCompany,
  CrmCompanyBody,
  CrmContact,
  CrmContactBody,
  CrmDeal,
  CrmDealBody,
  CrmDialogCard,
  CrmLead,
  CrmLeadBody,
  CrmListQuery,
  CrmPipeline,
  CrmPipelineBody,
  FieldError,
  Message,
  UpdateCrmCompanyBody,
  UpdateCrmContactBody,
  UpdateCrmDealBody,
  UpdateCrmLeadBody,
  UpdateCrmPipelineBody,
} from '@openlines/contract';
import { isUuid, OPEN_STATUSES } from '@openlines/contract';
import { type ExpressionBuilder, sql } from 'kysely';
import type { AppContext } from '../../context';
import {
  channelIdentity,
  decideManualSave,
  type Identity,
  normaliseEmail,
  normalisePhone,
} from '../../core/crm';
import { AppError, notFound } from '../../errors';
import { isUniqueViolation } from '../../store/errors';
import type { DB, SessionRow } from '../../store/schema';
import { type Actor, authorize, authorizeScope } from '../actor';
import { hasConsent } from '../automation/consent';
import { touchDialog } from '../dialog-events';
import { loadVisibleDialog } from '../dialogs';
import { presentMessage } from '../message-presenter';
import { runInTransaction, type Tx, type UnitOfWork } from '../transaction';

/**
 * The CRM's records through the API (CRM-1, OP-2, OP-3): contacts, companies, leads, deals and
 * pipelines. The `crm` scope decides, by the responsible user, which records a user sees and
 * edits: `own` their own, `department` theirs and their departments' members', `all` every one of
 * the account. A record is only ever given to a responsible inside the actor's scope. Pipelines
 * are the account's configuration: editing them needs `manageLines`.
 */

export type RecordTable = 'crm_contacts' | 'crm_companies' | 'crm_leads' | 'crm_deals';
export type RecordKind = 'contact' | 'company' | 'lead' | 'deal';
export const TABLE: Record<RecordKind, RecordTable> = {
  contact: 'crm_contacts',
  company: 'crm_companies',
  lead: 'crm_leads',
  deal: 'crm_deals',
};
const NAME: Record<RecordKind, string> = {
  contact: 'The contact',
  company: 'The company',
  lead: 'The lead',
  deal: 'The deal',
};

function assertCrm(actor: Actor): void {
  authorizeScope(actor, 'crm', 'own');
}

/** The records of the account the actor's `crm` scope covers, by their responsible user. */
export function inScope(actor: Actor) {
  return (eb: ExpressionBuilder<DB, RecordTable>) => {
    const scope = actor.permissions.crm;
    if (scope === 'all') return eb.val(true);
    if (scope === 'department') {
      return eb.or([
        eb('responsible_id', '=', actor.userId),
        eb(
          'responsible_id',
          'in',
          eb
            .selectFrom('department_members as theirs')
            .innerJoin('department_members as mine', 'mine.department_id', 'theirs.department_id')
            .select('theirs.user_id')
            .where('mine.user_id', '=', actor.userId),
        ),
      ]);
    }
    return eb('responsible_id', '=', actor.userId);
  };
}

/** The responsible a record may be given: a user of the account, inside the actor's scope. */
export async function checkResponsible(
  tx: Tx,
  actor: Actor,
  responsibleId: string | null,
  field: string,
): Promise<void> {
  if (responsibleId === null) {
    if (actor.permissions.crm !== 'all')
      throw new AppError(
        'forbidden',
        'Only users who see every CRM record may leave one without a responsible',
        [{ field, message: 'must be a user inside your CRM scope' }],
      );
    return;
  }
  const user = await tx
    .selectFrom('users')
    .select('id')
    .where('account_id', '=', actor.accountId)
    .where('id', '=', responsibleId)
    .executeTakeFirst();
  if (!user)
    throw new AppError('validation_failed', `${field}: no such user`, [{ field, message: 'no such user' }]);
  const scope = actor.permissions.crm;
  if (scope === 'all' || responsibleId === actor.userId) return;
  if (scope === 'department') {
    const shared = await tx
      .selectFrom('department_members as theirs')
      .innerJoin('department_members as mine', 'mine.department_id', 'theirs.department_id')
      .select('theirs.user_id')
      .where('mine.user_id', '=', actor.userId)
      .where('theirs.user_id', '=', responsibleId)
      .executeTakeFirst();
    if (shared) return;
  }
  throw new AppError('forbidden', 'The responsible must be inside your CRM scope', [
    { field, message: 'must be a user inside your CRM scope' },
  ]);
}

// ----- Presenting -----------------------------------------------------------------------------

export interface SourceRow {
  id: string;
  responsible_id: string | null;
  source_kind: string;
  source_channel_id: string | null;
  source: string;
  created_at: Date;
  updated_at: Date;
}
const recordOf = (row: SourceRow) => ({
  id: row.id,
  responsibleId: row.responsible_id,
  sourceKind: row.source_kind,
  sourceChannelId: row.source_channel_id,
  source: row.source,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function presentContacts(
  db: Tx | AppContext['store']['db'],
  ids: string[],
): Promise<CrmContact[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('crm_contacts')
    .selectAll()
    .select((eb) =>
      eb
        .selectFrom('crm_contact_identities as ci')
        .select(
          sql<
            Identity[]
          >`coalesce(jsonb_agg(jsonb_build_object('kind', ci.kind, 'value', ci.value) order by ci.kind, ci.value), '[]'::jsonb)`.as(
            'list',
          ),
        )
        .whereRef('ci.contact_id', '=', 'crm_contacts.id')
        .as('identities'),
    )
    .where('id', 'in', ids)
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    const identities = row.identities ?? [];
    const of = (kind: Identity['kind']) => identities.filter((i) => i.kind === kind).map((i) => i.value);
    return [
      {
        ...recordOf(row),
        name: row.name,
        photoUrl: row.photo_url,
        notes: row.notes,
        companyId: row.company_id,
        clientId: row.client_id,
        phones: of('phone'),
        emails: of('email'),
        channelUsers: of('channel'),
        consentMissing: row.consent_missing,
      },
    ];
  });
}

export type CompanyRow = SourceRow & { name: string; notes: string };
export const presentCompany = (row: CompanyRow): CrmCompany => ({
  ...recordOf(row),
  name: row.name,
  notes: row.notes,
});
export type LeadRow = SourceRow & {
  title: string;
  status: CrmLead['status'];
  contact_id: string | null;
  company_id: string | null;
  consent_missing: boolean;
};
export const presentLead = (row: LeadRow): CrmLead => ({
  ...recordOf(row),
  title: row.title,
  status: row.status,
  contactId: row.contact_id,
  consentMissing: row.consent_missing,
  companyId: row.company_id,
});
export type DealRow = SourceRow & {
  title: string;
  pipeline_id: string;
  stage_id: string;
  contact_id: string | null;
  company_id: string | null;
  consent_missing: boolean;
  closed_at: Date | null;
  lead_id: string | null;
};
export const presentDeal = (row: DealRow): CrmDeal => ({
  ...recordOf(row),
  title: row.title,
  pipelineId: row.pipeline_id,
  stageId: row.stage_id,
  contactId: row.contact_id,
  companyId: row.company_id,
  consentMissing: row.consent_missing,
  closedAt: row.closed_at?.toISOString() ?? null,
  leadId: row.lead_id,
});

// ----- Listing --------------------------------------------------------------------------------

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const invalid = new AppError('validation_failed', 'The cursor is not one this server gave', [
    { field: 'query.cursor', message: 'must be the nextCursor of a previous page' },
  ]);
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !isUuid(id))
      throw invalid;
    return { at: new Date(at), id };
  } catch {
    throw invalid;
  }
}

const likePattern = (text: string) => `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** One page of records the actor may see, newest change first. */
export async function listPage<K extends RecordKind>(
  ctx: AppContext,
  actor: Actor,
  kind: K,
  query: CrmListQuery,
): Promise<{ rows: SourceRow[]; nextCursor: string | null }> {
  assertCrm(actor);
  const limit = query.limit ?? 50;
  const table = TABLE[kind];
  // biome-ignore lint/suspicious/noExplicitAny: one query over four tables of the same shape
  let q: any = ctx.store.db
    .selectFrom(table as 'crm_leads')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where(inScope(actor) as never);
  if (query.responsibleId) q = q.where('responsible_id', '=', query.responsibleId);
  if (query.sourceKind) q = q.where('source_kind', '=', query.sourceKind);
  if (query.createdFrom) q = q.where('created_at', '>=', new Date(query.createdFrom));
  if (query.createdTo) q = q.where('created_at', '<', new Date(query.createdTo));
  if (kind === 'lead' && query.status) q = q.where('status', '=', query.status);
  if (kind === 'deal' && query.stageId) q = q.where('stage_id', '=', query.stageId);
  if (kind === 'deal' && query.pipelineId) q = q.where('pipeline_id', '=', query.pipelineId);
  if (query.search?.trim()) {
    const pattern = likePattern(query.search);
    if (kind === 'contact') {
      q = q.where((eb: ExpressionBuilder<DB, 'crm_contacts'>) =>
        eb.or([
          eb('name', 'ilike', pattern),
          eb.exists(
            eb
              .selectFrom('crm_contact_identities as ci')
              .select('ci.contact_id')
              .whereRef('ci.contact_id', '=', 'crm_contacts.id')
              .where('ci.value', 'ilike', pattern),
          ),
        ]),
      );
    } else q = q.where(kind === 'company' ? 'name' : 'title', 'ilike', pattern);
  }
  if (query.cursor) {
    const { at, id } = decodeCursor(query.cursor);
    q = q.where((eb: ExpressionBuilder<DB, 'crm_leads'>) =>
      eb.or([eb('updated_at', '<', at), eb.and([eb('updated_at', '=', at), eb('id', '<', id)])]),
    );
  }
  const rows = (await q
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute()) as SourceRow[];
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: more && last ? encodeCursor(last.updated_at, last.id) : null };
}

export async function listContacts(ctx: AppContext, actor: Actor, query: CrmListQuery) {
  const { rows, nextCursor } = await listPage(ctx, actor, 'contact', query);
  return {
    items: await presentContacts(
      ctx.store.db,
      rows.map((row) => row.id),
    ),
    nextCursor,
  };
}
export async function listCompanies(ctx: AppContext, actor: Actor, query: CrmListQuery) {
  const { rows, nextCursor } = await listPage(ctx, actor, 'company', query);
  return { items: (rows as CompanyRow[]).map(presentCompany), nextCursor };
}
export async function listLeads(ctx: AppContext, actor: Actor, query: CrmListQuery) {
  const { rows, nextCursor } = await listPage(ctx, actor, 'lead', query);
  return { items: (rows as LeadRow[]).map(presentLead), nextCursor };
}
export async function listDeals(ctx: AppContext, actor: Actor, query: CrmListQuery) {
  const { rows, nextCursor } = await listPage(ctx, actor, 'deal', query);
  return { items: (rows as DealRow[]).map(presentDeal), nextCursor };
}

/** A record the actor may see, or 404 (another account's or outside the scope looks the same). */
export async function loadRecord(
  db: Tx | AppContext['store']['db'],
  actor: Actor,
  kind: RecordKind,
  id: string,
  lock = false,
) {
  assertCrm(actor);
  // biome-ignore lint/suspicious/noExplicitAny: one query over four tables of the same shape
  let q: any = db
    .selectFrom(TABLE[kind] as 'crm_leads')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('id', '=', id)
    .where(inScope(actor) as never);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound(NAME[kind]);
  return row as SourceRow & Record<string, unknown>;
}

export async function getContact(ctx: AppContext, actor: Actor, id: string): Promise<CrmContact> {
  await loadRecord(ctx.store.db, actor, 'contact', id);
  return (await presentContacts(ctx.store.db, [id]))[0]!;
}
export async function getCompany(ctx: AppContext, actor: Actor, id: string): Promise<CrmCompany> {
  return presentCompany((await loadRecord(ctx.store.db, actor, 'company', id)) as unknown as CompanyRow);
}
export async function getLead(ctx: AppContext, actor: Actor, id: string): Promise<CrmLead> {
  return presentLead((await loadRecord(ctx.store.db, actor, 'lead', id)) as unknown as LeadRow);
}
export async function getDeal(ctx: AppContext, actor: Actor, id: string): Promise<CrmDeal> {
  return presentDeal((await loadRecord(ctx.store.db, actor, 'deal', id)) as unknown as DealRow);
}

// ----- Identities -----------------------------------------------------------------------------

/** Phones in E.164 and e-mails case-folded; a value that does not normalise is a 422 naming it. */
export function identitiesOf(input: { phones?: string[]; emails?: string[] }): Identity[] | null {
  if (input.phones === undefined && input.emails === undefined) return null;
  const errors: FieldError[] = [];
  const found = new Map<string, Identity>();
  (input.phones ?? []).forEach((raw, index) => {
    const value = normalisePhone(raw);
    if (value) found.set(`phone:${value}`, { kind: 'phone', value });
    else
      errors.push({
        field: `body.phones.${index}`,
        message: 'is not a valid phone number (use the +country format)',
      });
  });
  (input.emails ?? []).forEach((raw, index) => {
    const value = normaliseEmail(raw);
    if (value) found.set(`email:${value}`, { kind: 'email', value });
    else errors.push({ field: `body.emails.${index}`, message: 'is not an e-mail address' });
  });
  if (errors.length > 0)
    throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  return [...found.values()];
}

/** Replaces the contact's phones and e-mails (channel users stay); one taken by another contact is a 409. */
export async function setIdentities(
  tx: Tx,
  accountId: string,
  contactId: string,
  identities: Identity[],
  input: { phones?: string[]; emails?: string[] },
) {
  const kinds = [
    ...new Set([input.phones !== undefined ? 'phone' : null, input.emails !== undefined ? 'email' : null]),
  ].filter((kind): kind is 'phone' | 'email' => kind !== null);
  await tx
    .deleteFrom('crm_contact_identities')
    .where('contact_id', '=', contactId)
    .where('kind', 'in', kinds)
    .execute();
  if (identities.length === 0) return;
  const taken = await tx
    .selectFrom('crm_contact_identities')
    .select(['kind', 'value'])
    .where('account_id', '=', accountId)
    .where((eb) => eb.or(identities.map((i) => eb.and([eb('kind', '=', i.kind), eb('value', '=', i.value)]))))
    .execute();
  if (taken.length > 0) {
    const fields = taken.map((t) => {
      const list = t.kind === 'phone' ? input.phones! : input.emails!;
      const index = list.findIndex(
        (raw) => (t.kind === 'phone' ? normalisePhone(raw) : normaliseEmail(raw)) === t.value,
      );
      return { field: `body.${t.kind}s.${index}`, message: 'belongs to another contact' };
    });
    throw new AppError('conflict', 'A phone or e-mail belongs to another contact', fields);
  }
  try {
    await tx
      .insertInto('crm_contact_identities')
      .values(
        identities.map((i) => ({
          account_id: accountId,
          contact_id: contactId,
          kind: i.kind,
          value: i.value,
        })),
      )
      .execute();
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('conflict', 'A phone or e-mail belongs to another contact');
    throw error;
  }
}

// ----- Dialog links (CRM-3, OP-3) -------------------------------------------------------------

interface DialogLink {
  dialogId: string;
  clientId: string;
  lineId: string;
  session: SessionRow | null;
  consentMissing: boolean;
}

/** The dialog's current session (or latest), and whether AG-3 holds its client's CRM back. */
async function dialogLink(ctx: AppContext, tx: Tx, actor: Actor, dialogId: string): Promise<DialogLink> {
  const dialog = await loadVisibleDialog(tx, actor, dialogId);
  const session =
    (await tx
      .selectFrom('sessions')
      .selectAll()
      .where('dialog_id', '=', dialog.id)
      .orderBy(sql`status in (${sql.join(OPEN_STATUSES.map((s) => sql.lit(s)))})`, 'desc')
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()) ?? null;
  const line = await tx
    .selectFrom('lines')
    .selectAll()
    .where('id', '=', dialog.line_id)
    .executeTakeFirstOrThrow();
  const consentMissing =
    line.settings.agreement.required && !(await hasConsent(tx, line, dialog.client_id, ctx.clock.now()));
  return { dialogId: dialog.id, clientId: dialog.client_id, lineId: dialog.line_id, session, consentMissing };
}

/** AG-3 by hand: without the client's consent, the operator must confirm, and the record notes it. */
function manualSave(link: DialogLink | null, confirmed: boolean | undefined): boolean {
  const decision = decideManualSave(link?.consentMissing ?? false, confirmed === true);
  if (decision.kind === 'confirm') {
    throw new AppError(
      'consent_required',
      'The client has not consented to the processing of personal data. Confirm to save the record anyway; it will note that consent is missing.',
      [{ field: 'body.confirmed', message: 'must be true to save without the client’s consent' }],
      { reason: 'consent_missing' },
    );
  }
  return decision.consentMissing;
}

/**
 * The client's channel users recognise them as this contact from now on (CRM-2), and the contact
 * becomes the client's when it has no client and no other contact is theirs.
 */
export async function recogniseClientAsContact(
  tx: Tx,
  accountId: string,
  contactId: string,
  clientId: string,
): Promise<void> {
  const users = await tx
    .selectFrom('client_identities')
    .select(['channel_id', 'external_id'])
    .where('client_id', '=', clientId)
    .execute();
  if (users.length > 0) {
    await tx
      .insertInto('crm_contact_identities')
      .values(
        users.map((u) => ({
          account_id: accountId,
          contact_id: contactId,
          ...channelIdentity(u.channel_id, u.external_id),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  await tx
    .updateTable('crm_contacts')
    .set({ client_id: clientId })
    .where('id', '=', contactId)
    .where('client_id', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('crm_contacts as other').select('other.id').where('other.client_id', '=', clientId),
        ),
      ),
    )
    .execute();
}

/** Attaches the dialog's session to the record; a contact also becomes the dialog client's. */
async function attach(
  uow: UnitOfWork,
  actor: Actor,
  kind: 'contact' | 'lead' | 'deal',
  id: string,
  link: DialogLink,
  contactId: string | null,
  responsibleId: string | null,
) {
  const { tx } = uow;
  if (kind === 'contact') {
    await recogniseClientAsContact(tx, actor.accountId, id, link.clientId);
  }
  if (!link.session) return;
  const column = kind === 'contact' ? 'crm_contact_id' : kind === 'lead' ? 'crm_lead_id' : 'crm_deal_id';
  await tx
    .updateTable('sessions')
    .set({
      [column]: id,
      ...(kind !== 'contact' && contactId && !link.session.crm_contact_id
        ? { crm_contact_id: contactId }
        : {}),
    })
    .where('id', '=', link.session.id)
    .execute();
  uow.events.emit(actor.accountId, 'crm.session.attached', {
    record: { kind, id, responsibleId },
    dialogId: link.dialogId,
    sessionId: link.session.id,
  });
}

export async function linkDialog(
  ctx: AppContext,
  actor: Actor,
  kind: 'contact' | 'lead' | 'deal',
  id: string,
  input: { dialogId: string; confirmed?: boolean },
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const row = await loadRecord(uow.tx, actor, kind, id, true);
    const link = await dialogLink(ctx, uow.tx, actor, input.dialogId);
    if (manualSave(link, input.confirmed)) {
      await uow.tx
        .updateTable(TABLE[kind] as 'crm_leads')
        .set({ consent_missing: true })
        .where('id', '=', id)
        .execute();
    }
    const contactId = kind === 'contact' ? id : ((row.contact_id as string | null) ?? null);
    await attach(uow, actor, kind, id, link, contactId, row.responsible_id);
  });
}

export async function unlinkDialog(
  ctx: AppContext,
  actor: Actor,
  kind: 'contact' | 'lead' | 'deal',
  id: string,
  dialogId: string,
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    await loadRecord(uow.tx, actor, kind, id);
    const dialog = await loadVisibleDialog(uow.tx, actor, dialogId);
    const column = kind === 'contact' ? 'crm_contact_id' : kind === 'lead' ? 'crm_lead_id' : 'crm_deal_id';
    await uow.tx
      .updateTable('sessions')
      .set({ [column]: null })
      .where('dialog_id', '=', dialog.id)
      .where(column, '=', id)
      .execute();
    if (kind === 'contact') {
      await uow.tx
        .updateTable('crm_contacts')
        .set({ client_id: null })
        .where('id', '=', id)
        .where('client_id', '=', dialog.client_id)
        .execute();
      // Their channel users no longer recognise them as this contact.
      const users = await uow.tx
        .selectFrom('client_identities')
        .select(['channel_id', 'external_id'])
        .where('client_id', '=', dialog.client_id)
        .execute();
      const values = users.map((u) => channelIdentity(u.channel_id, u.external_id).value);
      if (values.length > 0) {
        await uow.tx
          .deleteFrom('crm_contact_identities')
          .where('contact_id', '=', id)
          .where('kind', '=', 'channel')
          .where('value', 'in', values)
          .execute();
      }
    }
    uow.events.emit(actor.accountId, 'crm.record.updated', { record: { kind, id, responsibleId: null } });
  });
}

/** CRM-3: the sessions attached to a record, newest first; each opens its dialog. */
export async function recordActivities(
  ctx: AppContext,
  actor: Actor,
  kind: 'contact' | 'lead' | 'deal',
  id: string,
): Promise<CrmActivity[]> {
  await loadRecord(ctx.store.db, actor, kind, id);
  const column = kind === 'contact' ? 'crm_contact_id' : kind === 'lead' ? 'crm_lead_id' : 'crm_deal_id';
  const rows = await ctx.store.db
    .selectFrom('sessions')
    .select(['id', 'dialog_id', 'line_id', 'status', 'operator_id', 'created_at', 'closed_at', 'rating'])
    .where('account_id', '=', actor.accountId)
    .where(column, '=', id)
    .orderBy('created_at', 'desc')
    .limit(200)
    .execute();
  return rows.map((row) => ({
    sessionId: row.id,
    dialogId: row.dialog_id,
    lineId: row.line_id,
    status: row.status,
    operatorId: row.operator_id,
    createdAt: row.created_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
    rating: row.rating,
  }));
}

/**
 * CRM-3: the transcript of one session on a record's timeline, oldest first. Whoever sees the
 * record sees it (the record's scope, and the session must be attached to the record); private
 * notes stay in the dialog. Read only when the operator opens it, never on the message path.
 */
export async function activityTranscript(
  ctx: AppContext,
  actor: Actor,
  kind: 'contact' | 'lead' | 'deal',
  id: string,
  sessionId: string,
): Promise<Message[]> {
  await loadRecord(ctx.store.db, actor, kind, id);
  const column = kind === 'contact' ? 'crm_contact_id' : kind === 'lead' ? 'crm_lead_id' : 'crm_deal_id';
  const session = await ctx.store.db
    .selectFrom('sessions')
    .select('id')
    .where('account_id', '=', actor.accountId)
    .where('id', '=', sessionId)
    .where(column, '=', id)
    .executeTakeFirst();
  if (!session) throw notFound('The session');
  const rows = await ctx.store.db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('session_id', '=', sessionId)
    .where('private', '=', false)
    .orderBy('created_at')
    .orderBy('seq')
    .limit(MAX_TRANSCRIPT_MESSAGES)
    .execute();
  return rows.map(presentMessage);
}

/** The most messages a timeline transcript shows; the dialog has the rest. */
const MAX_TRANSCRIPT_MESSAGES = 500;

// ----- Writing --------------------------------------------------------------------------------

export const ref = (kind: RecordKind, id: string, responsibleId: string | null) => ({
  record: { kind, id, responsibleId },
});

export async function assertInAccount(
  tx: Tx,
  actor: Actor,
  kind: RecordKind,
  id: string | null | undefined,
  field: string,
) {
  if (!id) return;
  const found = await tx
    .selectFrom(TABLE[kind] as 'crm_leads')
    .select('id')
    .where('account_id', '=', actor.accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!found)
    throw new AppError('validation_failed', `${field}: no such ${kind}`, [
      { field, message: `no such ${kind}` },
    ]);
}

export async function createContact(
  ctx: AppContext,
  actor: Actor,
  input: CrmContactBody,
): Promise<CrmContact> {
  assertCrm(actor);
  const identities = identitiesOf(input) ?? [];
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const responsibleId = input.responsibleId === undefined ? actor.userId : input.responsibleId;
    await checkResponsible(tx, actor, responsibleId, 'body.responsibleId');
    await assertInAccount(tx, actor, 'company', input.companyId, 'body.companyId');
    const link = input.dialogId ? await dialogLink(ctx, tx, actor, input.dialogId) : null;
    const consentMissing = manualSave(link, input.confirmed);
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('crm_contacts')
      .values({
        account_id: actor.accountId,
        name: input.name,
        notes: input.notes ?? '',
        photo_url: input.photoUrl ?? null,
        company_id: input.companyId ?? null,
        responsible_id: responsibleId,
        source_kind: actor.via === 'token' ? 'api' : 'manual',
        source: input.source ?? '',
        consent_missing: consentMissing,
        created_at: now,
        updated_at: now,
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    await setIdentities(tx, actor.accountId, row.id, identities, {
      phones: input.phones ?? [],
      emails: input.emails ?? [],
    });
    uow.events.emit(actor.accountId, 'crm.record.created', ref('contact', row.id, responsibleId));
    if (link) await attach(uow, actor, 'contact', row.id, link, row.id, responsibleId);
    return (await presentContacts(tx, [row.id]))[0]!;
  });
}

export async function updateContact(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateCrmContactBody,
): Promise<CrmContact> {
  const identities = identitiesOf(input);
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    await loadRecord(tx, actor, 'contact', id, true);
    if (input.responsibleId !== undefined)
      await checkResponsible(tx, actor, input.responsibleId, 'body.responsibleId');
    await assertInAccount(tx, actor, 'company', input.companyId, 'body.companyId');
    const row = await tx
      .updateTable('crm_contacts')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.notes !== undefined ? { notes: input.notes } : {}),
        ...(input.photoUrl !== undefined ? { photo_url: input.photoUrl } : {}),
        ...(input.companyId !== undefined ? { company_id: input.companyId } : {}),
        ...(input.responsibleId !== undefined ? { responsible_id: input.responsibleId } : {}),
        ...(input.source !== undefined ? { source: input.source } : {}),
        updated_at: ctx.clock.now(),
      })
      .where('id', '=', id)
      .returning(['id', 'responsible_id', 'client_id', 'name'])
      .executeTakeFirstOrThrow();
    if (identities) await setIdentities(tx, actor.accountId, id, identities, input);
    // OP-2: the dialogs show the contact's name, first phone and first e-mail as the client's.
    const firstOf = (kind: 'phone' | 'email') =>
      identities?.find((identity) => identity.kind === kind)?.value;
    const clientChanges = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.phones !== undefined && firstOf('phone') ? { phone: firstOf('phone') } : {}),
      ...(input.emails !== undefined && firstOf('email') ? { email: firstOf('email') } : {}),
    };
    if (Object.keys(clientChanges).length > 0 && row.client_id) {
      await tx.updateTable('clients').set(clientChanges).where('id', '=', row.client_id).execute();
      const dialogs = await tx
        .selectFrom('dialogs')
        .select('id')
        .where('client_id', '=', row.client_id)
        .execute();
      for (const dialog of dialogs) touchDialog(ctx, uow, actor.accountId, dialog.id);
    }
    uow.events.emit(actor.accountId, 'crm.record.updated', ref('contact', id, row.responsible_id));
    return (await presentContacts(tx, [id]))[0]!;
  });
}

export async function createCompany(
  ctx: AppContext,
  actor: Actor,
  input: CrmCompanyBody,
): Promise<CrmCompany> {
  assertCrm(actor);
  return runInTransaction(ctx, async (uow) => {
    const responsibleId = input.responsibleId === undefined ? actor.userId : input.responsibleId;
    await checkResponsible(uow.tx, actor, responsibleId, 'body.responsibleId');
    const now = ctx.clock.now();
    const row = await uow.tx
      .insertInto('crm_companies')
      .values({
        account_id: actor.accountId,
        name: input.name,
        notes: input.notes ?? '',
        responsible_id: responsibleId,
        source_kind: actor.via === 'token' ? 'api' : 'manual',
        source: input.source ?? '',
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.created', ref('company', row.id, responsibleId));
    return presentCompany(row);
  });
}

export async function updateCompany(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateCrmCompanyBody,
): Promise<CrmCompany> {
  return runInTransaction(ctx, async (uow) => {
    await loadRecord(uow.tx, actor, 'company', id, true);
    if (input.responsibleId !== undefined)
      await checkResponsible(uow.tx, actor, input.responsibleId, 'body.responsibleId');
    const row = await uow.tx
      .updateTable('crm_companies')
      .set({ ...input, responsible_id: input.responsibleId, updated_at: ctx.clock.now() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.updated', ref('company', id, row.responsible_id));
    return presentCompany(row);
  });
}

export async function createLead(ctx: AppContext, actor: Actor, input: CrmLeadBody): Promise<CrmLead> {
  assertCrm(actor);
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const responsibleId = input.responsibleId === undefined ? actor.userId : input.responsibleId;
    await checkResponsible(tx, actor, responsibleId, 'body.responsibleId');
    await assertInAccount(tx, actor, 'contact', input.contactId, 'body.contactId');
    const link = input.dialogId ? await dialogLink(ctx, tx, actor, input.dialogId) : null;
    const consentMissing = manualSave(link, input.confirmed);
    const contactId = input.contactId ?? link?.session?.crm_contact_id ?? null;
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('crm_leads')
      .values({
        account_id: actor.accountId,
        title: input.title,
        status: input.status ?? 'new',
        contact_id: contactId,
        responsible_id: responsibleId,
        source_kind: actor.via === 'token' ? 'api' : 'manual',
        source: input.source ?? '',
        consent_missing: consentMissing,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.created', ref('lead', row.id, responsibleId));
    if (link) await attach(uow, actor, 'lead', row.id, link, contactId, responsibleId);
    return presentLead(row);
  });
}

export async function updateLead(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateCrmLeadBody,
): Promise<CrmLead> {
  return runInTransaction(ctx, async (uow) => {
    const before = await loadRecord(uow.tx, actor, 'lead', id, true);
    if (input.responsibleId !== undefined)
      await checkResponsible(uow.tx, actor, input.responsibleId, 'body.responsibleId');
    await assertInAccount(uow.tx, actor, 'contact', input.contactId, 'body.contactId');
    const row = await uow.tx
      .updateTable('crm_leads')
      .set({
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.contactId !== undefined ? { contact_id: input.contactId } : {}),
        ...(input.responsibleId !== undefined ? { responsible_id: input.responsibleId } : {}),
        ...(input.source !== undefined ? { source: input.source } : {}),
        updated_at: ctx.clock.now(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.updated', ref('lead', id, row.responsible_id));
    if (before.status !== row.status) {
      uow.events.emit(actor.accountId, 'crm.stage.changed', {
        ...ref('lead', id, row.responsible_id),
        from: String(before.status),
        to: row.status,
      });
    }
    return presentLead(row);
  });
}

/** The stage a deal goes to: given (of the pipeline), or the pipeline's first; with its semantics. */
export async function stageFor(
  tx: Tx,
  actor: Actor,
  pipelineId: string | undefined,
  stageId: string | undefined,
) {
  let q = tx
    .selectFrom('crm_stages')
    .innerJoin('crm_pipelines', 'crm_pipelines.id', 'crm_stages.pipeline_id')
    .select(['crm_stages.id', 'crm_stages.pipeline_id', 'crm_stages.semantics'])
    .where('crm_stages.account_id', '=', actor.accountId);
  if (stageId) q = q.where('crm_stages.id', '=', stageId);
  if (pipelineId) q = q.where('crm_stages.pipeline_id', '=', pipelineId);
  else if (!stageId) q = q.where('crm_pipelines.is_default', '=', true);
  const stage = await q.orderBy('crm_stages.position').limit(1).executeTakeFirst();
  if (!stage) {
    const field = stageId ? 'body.stageId' : 'body.pipelineId';
    throw new AppError('validation_failed', `${field}: no such stage in the pipeline`, [
      { field, message: 'no such stage in the pipeline' },
    ]);
  }
  return stage;
}

export async function createDeal(ctx: AppContext, actor: Actor, input: CrmDealBody): Promise<CrmDeal> {
  assertCrm(actor);
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const responsibleId = input.responsibleId === undefined ? actor.userId : input.responsibleId;
    await checkResponsible(tx, actor, responsibleId, 'body.responsibleId');
    await assertInAccount(tx, actor, 'contact', input.contactId, 'body.contactId');
    await assertInAccount(tx, actor, 'company', input.companyId, 'body.companyId');
    const stage = await stageFor(tx, actor, input.pipelineId, input.stageId);
    const link = input.dialogId ? await dialogLink(ctx, tx, actor, input.dialogId) : null;
    const consentMissing = manualSave(link, input.confirmed);
    const contactId = input.contactId ?? link?.session?.crm_contact_id ?? null;
    const now = ctx.clock.now();
    const row = await tx
      .insertInto('crm_deals')
      .values({
        account_id: actor.accountId,
        title: input.title,
        pipeline_id: stage.pipeline_id,
        stage_id: stage.id,
        contact_id: contactId,
        company_id: input.companyId ?? null,
        responsible_id: responsibleId,
        source_kind: actor.via === 'token' ? 'api' : 'manual',
        source: input.source ?? '',
        consent_missing: consentMissing,
        closed_at: stage.semantics === 'open' ? null : now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.created', ref('deal', row.id, responsibleId));
    if (link) await attach(uow, actor, 'deal', row.id, link, contactId, responsibleId);
    return presentDeal(row);
  });
}

export async function updateDeal(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateCrmDealBody,
): Promise<CrmDeal> {
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const before = (await loadRecord(tx, actor, 'deal', id, true)) as unknown as DealRow;
    if (input.responsibleId !== undefined)
      await checkResponsible(tx, actor, input.responsibleId, 'body.responsibleId');
    await assertInAccount(tx, actor, 'contact', input.contactId, 'body.contactId');
    await assertInAccount(tx, actor, 'company', input.companyId, 'body.companyId');
    const stage = input.stageId ? await stageFor(tx, actor, before.pipeline_id, input.stageId) : null;
    const now = ctx.clock.now();
    const row = await tx
      .updateTable('crm_deals')
      .set({
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...(input.contactId !== undefined ? { contact_id: input.contactId } : {}),
        ...(input.companyId !== undefined ? { company_id: input.companyId } : {}),
        ...(input.responsibleId !== undefined ? { responsible_id: input.responsibleId } : {}),
        ...(input.source !== undefined ? { source: input.source } : {}),
        ...(stage && stage.id !== before.stage_id
          ? { stage_id: stage.id, closed_at: stage.semantics === 'open' ? null : now }
          : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    uow.events.emit(actor.accountId, 'crm.record.updated', ref('deal', id, row.responsible_id));
    if (row.stage_id !== before.stage_id) {
      uow.events.emit(actor.accountId, 'crm.stage.changed', {
        ...ref('deal', id, row.responsible_id),
        from: before.stage_id,
        to: row.stage_id,
      });
    }
    return presentDeal(row);
  });
}

/** Deleting a record unlinks the dialogs it was attached to and never touches their history. */
export async function deleteRecord(
  ctx: AppContext,
  actor: Actor,
  kind: RecordKind,
  id: string,
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const row = await loadRecord(uow.tx, actor, kind, id, true);
    await uow.tx
      .deleteFrom(TABLE[kind] as 'crm_leads')
      .where('id', '=', id)
      .execute();
    uow.events.emit(actor.accountId, 'crm.record.deleted', ref(kind, id, row.responsible_id));
  });
}

// ----- The client card (OP-2) -----------------------------------------------------------------

export async function dialogCard(ctx: AppContext, actor: Actor, dialogId: string): Promise<CrmDialogCard> {
  assertCrm(actor);
  return ctx.store.db.transaction().execute(async (tx) => {
    const link = await dialogLink(ctx, tx, actor, dialogId);
    const session = link.session;
    const contactRow = await tx
      .selectFrom('crm_contacts')
      .select(['id', 'company_id'])
      .where('account_id', '=', actor.accountId)
      .where((eb) =>
        session?.crm_contact_id ? eb('id', '=', session.crm_contact_id) : eb('client_id', '=', link.clientId),
      )
      .where(inScope(actor) as never)
      .executeTakeFirst();
    const contact = contactRow ? ((await presentContacts(tx, [contactRow.id]))[0] ?? null) : null;
    const company = contactRow?.company_id
      ? await tx
          .selectFrom('crm_companies')
          .selectAll()
          .where('id', '=', contactRow.company_id)
          .where(inScope(actor) as never)
          .executeTakeFirst()
      : undefined;
    const byContact = (table: 'crm_leads' | 'crm_deals', sessionId: string | null) =>
      tx
        .selectFrom(table as 'crm_leads')
        .selectAll()
        .where('account_id', '=', actor.accountId)
        .where((eb) =>
          eb.or([
            ...(contactRow ? [eb('contact_id', '=', contactRow.id)] : []),
            ...(sessionId ? [eb('id', '=', sessionId)] : []),
            eb.val(false),
          ]),
        )
        .where(inScope(actor) as never)
        .orderBy('created_at', 'desc')
        .limit(50)
        .execute();
    const leads = (await byContact('crm_leads', session?.crm_lead_id ?? null)) as LeadRow[];
    const deals = (await byContact('crm_deals', session?.crm_deal_id ?? null)) as unknown as DealRow[];
    const openLead = (lead: LeadRow) => (lead.status === 'new' || lead.status === 'in_progress' ? 0 : 1);
    return {
      dialogId: link.dialogId,
      consentMissing: link.consentMissing,
      contact,
      company: company ? presentCompany(company) : null,
      leads: leads.sort((a, b) => openLead(a) - openLead(b)).map(presentLead),
      deals: deals
        .sort((a, b) => Number(a.closed_at !== null) - Number(b.closed_at !== null))
        .map(presentDeal),
      session: {
        contactId: session?.crm_contact_id ?? null,
        leadId: session?.crm_lead_id ?? null,
        dealId: session?.crm_deal_id ?? null,
      },
    };
  });
}

// ----- Pipelines ------------------------------------------------------------------------------

export async function listPipelines(
  ctx: AppContext,
  actor: Actor,
  db: Tx | AppContext['store']['db'] = ctx.store.db,
): Promise<CrmPipeline[]> {
  assertCrm(actor);
  const pipelines = await db
    .selectFrom('crm_pipelines')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('position')
    .orderBy('created_at')
    .execute();
  const stages = await db
    .selectFrom('crm_stages')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('position')
    .execute();
  return pipelines.map((p) => ({
    id: p.id,
    name: p.name,
    isDefault: p.is_default,
    position: p.position,
    stages: stages
      .filter((s) => s.pipeline_id === p.id)
      .map((s) => ({ id: s.id, name: s.name, position: s.position, semantics: s.semantics })),
  }));
}

async function writeStages(
  tx: Tx,
  actor: Actor,
  pipelineId: string,
  stages: NonNullable<UpdateCrmPipelineBody['stages']>,
) {
  const existing = await tx
    .selectFrom('crm_stages')
    .select('id')
    .where('pipeline_id', '=', pipelineId)
    .execute();
  const ids = new Set(existing.map((s) => s.id));
  const errors: FieldError[] = [];
  stages.forEach((stage, index) => {
    if (stage.id && !ids.has(stage.id))
      errors.push({ field: `body.stages.${index}.id`, message: 'is not a stage of this pipeline' });
  });
  if (!stages.some((stage) => (stage.semantics ?? 'open') === 'open'))
    errors.push({ field: 'body.stages', message: 'needs at least one open stage' });
  if (errors.length > 0)
    throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  const kept = new Set(stages.flatMap((stage) => (stage.id ? [stage.id] : [])));
  const removed = [...ids].filter((id) => !kept.has(id));
  if (removed.length > 0) {
    const used = await tx
      .selectFrom('crm_deals')
      .select('stage_id')
      .where('stage_id', 'in', removed)
      .limit(1)
      .executeTakeFirst();
    if (used) {
      throw new AppError('conflict', 'A stage that is left out still has deals; move them first', [
        { field: 'body.stages', message: 'keeps every stage that has deals' },
      ]);
    }
    await tx.deleteFrom('crm_stages').where('id', 'in', removed).execute();
  }
  for (const [position, stage] of stages.entries()) {
    const values = { name: stage.name, position, semantics: stage.semantics ?? ('open' as const) };
    if (stage.id) await tx.updateTable('crm_stages').set(values).where('id', '=', stage.id).execute();
    else
      await tx
        .insertInto('crm_stages')
        .values({ ...values, account_id: actor.accountId, pipeline_id: pipelineId })
        .execute();
  }
}

export async function createPipeline(
  ctx: AppContext,
  actor: Actor,
  input: CrmPipelineBody,
): Promise<CrmPipeline> {
  authorize(actor, 'manageLines');
  return runInTransaction(ctx, async ({ tx }) => {
    const count = await tx
      .selectFrom('crm_pipelines')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', actor.accountId)
      .executeTakeFirstOrThrow();
    if (input.isDefault)
      await tx
        .updateTable('crm_pipelines')
        .set({ is_default: false })
        .where('account_id', '=', actor.accountId)
        .execute();
    const row = await tx
      .insertInto('crm_pipelines')
      .values({
        account_id: actor.accountId,
        name: input.name,
        is_default: input.isDefault ?? false,
        position: Number(count.n),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await writeStages(tx, actor, row.id, input.stages);
    return (await listPipelines(ctx, actor, tx)).find((p) => p.id === row.id)!;
  });
}

export async function updatePipeline(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: UpdateCrmPipelineBody,
): Promise<CrmPipeline> {
  authorize(actor, 'manageLines');
  return runInTransaction(ctx, async ({ tx }) => {
    const pipeline = await tx
      .selectFrom('crm_pipelines')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!pipeline) throw notFound('The pipeline');
    if (input.isDefault === false && pipeline.is_default)
      throw new AppError('validation_failed', 'body.isDefault: make another pipeline the default instead', [
        { field: 'body.isDefault', message: 'make another pipeline the default instead' },
      ]);
    if (input.isDefault && !pipeline.is_default)
      await tx
        .updateTable('crm_pipelines')
        .set({ is_default: false })
        .where('account_id', '=', actor.accountId)
        .execute();
    if (input.name !== undefined || input.isDefault) {
      await tx
        .updateTable('crm_pipelines')
        .set({
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.isDefault ? { is_default: true } : {}),
        })
        .where('id', '=', id)
        .execute();
    }
    if (input.stages) await writeStages(tx, actor, id, input.stages);
    return (await listPipelines(ctx, actor, tx)).find((p) => p.id === id)!;
  });
}

export async function deletePipeline(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageLines');
  await runInTransaction(ctx, async ({ tx }) => {
    const pipeline = await tx
      .selectFrom('crm_pipelines')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!pipeline) throw notFound('The pipeline');
    if (pipeline.is_default)
      throw new AppError(
        'conflict',
        'The default pipeline cannot be deleted; make another the default first',
      );
    const used = await tx
      .selectFrom('crm_deals')
      .select('id')
      .where('pipeline_id', '=', id)
      .limit(1)
      .executeTakeFirst();
    if (used) throw new AppError('conflict', 'The pipeline still has deals');
    await tx.deleteFrom('crm_pipelines').where('id', '=', id).execute();
  });
}
