import { randomUUID } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type { AppContext } from '../../context';
import {
  channelIdentity,
  crmSourceOf,
  decideNewSessionCrm,
  type Identity,
  type IdentityMatch,
  type KnownClient,
  lookupIdentities,
  type NewSessionCrmDecision,
  pickKnownClient,
  recordTitleOf,
  responsibleAfterTransfer,
} from '../../core/crm';
import type { LineRow, SessionRow } from '../../store/schema';
import type { Tx, UnitOfWork } from '../transaction';

/**
 * The CRM at a session's start (CRM-2, Q-9, AG-3, CRM-3). The lean start (services/session-start)
 * looks every client of its batch up in one statement and writes what the decision asks for inside
 * its one write statement (`crmWriteParts`); the general intake and a consent given later run the
 * same lookup and the same parts as a statement of their own. A message in a session that is
 * already open never comes here.
 */

/** Who is looked up: the channel user, with the phone and e-mail the channel gave. */
export interface CrmLookupQuery {
  accountId: string;
  channelId: string;
  externalId: string;
  phone: string | null;
  email: string | null;
}

/**
 * What the built-in CRM knows of each client, in one statement for all of them; `external` when
 * the account uses an external CRM instead (CRM-4, services/crm/sync.ts), which the built-in one
 * then leaves alone — the same statement tells, so choosing an adapter costs the intake nothing.
 */
export interface CrmLookup {
  external: boolean;
  known: KnownClient | null;
}

export async function lookupCrmClients(tx: Tx, queries: readonly CrmLookupQuery[]): Promise<CrmLookup[]> {
  if (queries.length === 0) return [];
  const input = queries.flatMap((query, idx) =>
    lookupIdentities(query).map((identity, rank) => ({
      idx,
      rank,
      account_id: query.accountId,
      kind: identity.kind,
      value: identity.value,
    })),
  );
  const rows = await sql<{
    idx: number;
    rank: number;
    contact_id: string | null;
    responsible_id: string | null;
    open_lead: { id: string; responsibleId: string | null } | null;
    open_deal: { id: string; responsibleId: string | null } | null;
    external: boolean;
  }>`select i.idx, i.rank, c.id as contact_id, c.responsible_id,
      (select jsonb_build_object('id', l.id, 'responsibleId', l.responsible_id) from crm_leads l
        where l.contact_id = c.id and l.status in ('new', 'in_progress')
        order by l.created_at desc limit 1) as open_lead,
      (select jsonb_build_object('id', d.id, 'responsibleId', d.responsible_id) from crm_deals d
        where d.contact_id = c.id and d.closed_at is null
        order by d.created_at desc limit 1) as open_deal,
      exists (select 1 from crm_adapters a where a.account_id = i.account_id) as external
    from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
      as i(idx int, rank int, account_id uuid, kind text, value text)
    left join crm_contact_identities ci on ci.account_id = i.account_id and ci.kind = i.kind and ci.value = i.value
    left join crm_contacts c on c.id = ci.contact_id`.execute(tx);
  const matches = queries.map((): IdentityMatch[] => []);
  const external = queries.map(() => false);
  for (const row of rows.rows) {
    const idx = Number(row.idx);
    if (row.external) external[idx] = true;
    if (row.contact_id === null) continue;
    matches[idx]!.push({
      rank: Number(row.rank),
      contactId: row.contact_id,
      responsibleId: row.responsible_id,
      openLead: row.open_lead,
      openDeal: row.open_deal,
    });
  }
  return matches.map((found, idx) => ({
    external: external[idx]!,
    known: external[idx] ? null : pickKnownClient(found),
  }));
}

/** Everything a session start writes in the CRM, with ids made here. */
export interface CrmStartWrite {
  accountId: string;
  /** A new contact for an unknown client. */
  contact: { id: string; name: string; clientId: string } | null;
  /** Identities to add to the session's contact; a new contact's must be new (a race fails). */
  identities: Identity[];
  lead: { id: string; title: string } | null;
  deal: { id: string; title: string } | null;
  responsibleId: string | null;
  sourceKind: string;
  sourceChannelId: string;
  source: string;
  /** What the session is attached to. */
  session: { contactId: string | null; leadId: string | null; dealId: string | null };
}

export interface CrmStartInput {
  line: LineRow;
  accountId: string;
  channel: { id: string; kind: string };
  client: { id: string; name: string; externalId: string; phone: string | null; email: string | null };
  consentMissing: boolean;
  known: KnownClient | null;
}

/** The decision for a new session and what it writes (null: nothing). */
export function planCrmStart(
  input: CrmStartInput,
  responsibleId: string | null,
): { decision: NewSessionCrmDecision; write: CrmStartWrite | null } {
  const settings = input.line.settings.crm;
  const decision = decideNewSessionCrm({
    settings,
    consentMissing: input.consentMissing,
    known: input.known,
  });
  const base = {
    accountId: input.accountId,
    // A line's set person, else the operator who got the session (null while it waits).
    responsibleId: settings.responsibleUserId ?? responsibleId,
    sourceKind: input.channel.kind,
    sourceChannelId: input.channel.id,
    source: crmSourceOf(settings, input.line.name),
  };
  const title = recordTitleOf(input.client.name, input.line.name);
  const record = (kind: 'lead' | 'deal' | null) => ({
    lead: kind === 'lead' ? { id: randomUUID(), title } : null,
    deal: kind === 'deal' ? { id: randomUUID(), title } : null,
  });
  const ownChannel = channelIdentity(input.channel.id, input.client.externalId);
  switch (decision.kind) {
    case 'off':
    case 'no_consent':
      return { decision, write: null };
    case 'attach':
      return {
        decision,
        write: {
          ...base,
          contact: null,
          identities: [ownChannel],
          lead: null,
          deal: null,
          session: {
            contactId: decision.contactId,
            leadId: decision.record.kind === 'lead' ? decision.record.id : null,
            dealId: decision.record.kind === 'deal' ? decision.record.id : null,
          },
        },
      };
    case 'known': {
      const created = record(decision.create);
      return {
        decision,
        write: {
          ...base,
          contact: null,
          identities: [ownChannel],
          ...created,
          session: {
            contactId: decision.contactId,
            leadId: created.lead?.id ?? null,
            dealId: created.deal?.id ?? null,
          },
        },
      };
    }
    case 'new': {
      // `CRM_CREATE = none`: nothing until an operator creates it from the dialog.
      if (decision.create === null) return { decision, write: null };
      const created = record(decision.create);
      const contactId = randomUUID();
      return {
        decision,
        write: {
          ...base,
          contact: { id: contactId, name: input.client.name, clientId: input.client.id },
          identities: lookupIdentities({
            channelId: input.channel.id,
            externalId: input.client.externalId,
            phone: input.client.phone,
            email: input.client.email,
          }),
          ...created,
          session: { contactId, leadId: created.lead?.id ?? null, dealId: created.deal?.id ?? null },
        },
      };
    }
  }
}

/**
 * The CTEs that write a start's CRM rows, to join into one statement. The deal goes into the
 * account's default pipeline at its first stage. Names start with `crm_` so they do not collide.
 */
export function crmWriteParts(write: CrmStartWrite, prefix: string, now: Date): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [];
  const source = sql`${write.responsibleId}::uuid, ${write.sourceChannelId}::uuid, ${write.sourceKind}::text, ${write.source}::text, ${now}::timestamptz, ${now}::timestamptz`;
  const cols = sql`responsible_id, source_channel_id, source_kind, source, created_at, updated_at`;
  const contactId = write.session.contactId;
  if (write.contact) {
    const c = write.contact;
    parts.push(sql`${sql.id(`${prefix}c`)} as (
      insert into crm_contacts (id, account_id, client_id, name, ${cols})
      values (${c.id}::uuid, ${write.accountId}::uuid, ${c.clientId}::uuid, ${c.name}::text, ${source})
    )`);
  }
  if (write.identities.length > 0 && contactId) {
    const values = sql.join(
      write.identities.map(
        (identity) =>
          sql`(${write.accountId}::uuid, ${contactId}::uuid, ${identity.kind}::text, ${identity.value}::text)`,
      ),
    );
    // A known contact's new channel user may already be theirs; a new contact's identities must be
    // new: another start that took one first made this one fail, and the intake runs it again.
    parts.push(sql`${sql.id(`${prefix}i`)} as (
      insert into crm_contact_identities (account_id, contact_id, kind, value) values ${values}
      ${write.contact ? sql`` : sql`on conflict do nothing`}
    )`);
  }
  if (write.lead) {
    parts.push(sql`${sql.id(`${prefix}l`)} as (
      insert into crm_leads (id, account_id, contact_id, title, ${cols})
      values (${write.lead.id}::uuid, ${write.accountId}::uuid, ${contactId}::uuid, ${write.lead.title}::text, ${source})
    )`);
  }
  if (write.deal) {
    parts.push(sql`${sql.id(`${prefix}d`)} as (
      insert into crm_deals (id, account_id, contact_id, pipeline_id, stage_id, title, ${cols})
      select ${write.deal.id}::uuid, ${write.accountId}::uuid, ${contactId}::uuid, p.id, s.id, ${write.deal.title}::text, ${source}
      from crm_pipelines p join crm_stages s on s.pipeline_id = p.id
      where p.account_id = ${write.accountId} and p.is_default
      order by s.position limit 1
      returning id
    )`);
  }
  return parts;
}

/** The session's link to its deal: null when the account has no default pipeline to put it in. */
export function crmDealRef(write: CrmStartWrite | null, prefix: string): RawBuilder<unknown> {
  return write?.deal ? sql`(select id from ${sql.id(`${prefix}d`)})` : sql`null::uuid`;
}

/** The events a start's CRM write makes: records created, the session attached. */
export function emitCrmStart(
  uow: UnitOfWork,
  write: CrmStartWrite,
  session: { id: string; dialogId: string },
): void {
  const ref = (kind: 'contact' | 'lead' | 'deal', id: string) => ({
    kind,
    id,
    responsibleId: write.responsibleId,
  });
  if (write.contact)
    uow.events.emit(write.accountId, 'crm.record.created', { record: ref('contact', write.contact.id) });
  if (write.lead)
    uow.events.emit(write.accountId, 'crm.record.created', { record: ref('lead', write.lead.id) });
  if (write.deal)
    uow.events.emit(write.accountId, 'crm.record.created', { record: ref('deal', write.deal.id) });
  const attached = write.session.dealId
    ? ref('deal', write.session.dealId)
    : write.session.leadId
      ? ref('lead', write.session.leadId)
      : write.session.contactId
        ? ref('contact', write.session.contactId)
        : null;
  if (attached) {
    uow.events.emit(write.accountId, 'crm.session.attached', {
      record: attached,
      dialogId: session.dialogId,
      sessionId: session.id,
    });
  }
}

/**
 * A session opened outside the lean start (the general intake, a consent given later): the same
 * lookup, decision and parts, in one statement that also attaches the session.
 */
export async function attachCrmToSession(
  ctx: AppContext,
  uow: UnitOfWork,
  input: CrmStartInput & { session: SessionRow },
): Promise<SessionRow> {
  const { session } = input;
  if (!input.line.settings.crm.enabled) return session;
  const [lookup] = await lookupCrmClients(uow.tx, [
    {
      accountId: input.accountId,
      channelId: input.channel.id,
      externalId: input.client.externalId,
      phone: input.client.phone,
      email: input.client.email,
    },
  ]);
  // An external CRM gets the session from its sync jobs instead (services/crm/sync.ts).
  if (!lookup || lookup.external) return session;
  const known = input.consentMissing ? null : lookup.known;
  const { write } = planCrmStart({ ...input, known }, session.operator_id);
  if (!write) return session;
  const now = ctx.clock.now();
  const parts = crmWriteParts(write, 'crm_', now);
  const updated = await sql<SessionRow>`
    with ${sql.join(parts)}
    update sessions set crm_contact_id = ${write.session.contactId}::uuid, crm_lead_id = ${write.session.leadId}::uuid,
      crm_deal_id = ${crmDealRef(write, 'crm_')}
    where id = ${session.id}
    returning *`.execute(uow.tx);
  emitCrmStart(uow, write, { id: session.id, dialogId: session.dialog_id });
  return updated.rows[0] ?? session;
}

/**
 * The session changed hands: a record nobody is responsible for yet goes to its new holder, and a
 * transfer changes the responsible when the line says so (`CRM_TRANSFER_CHANGE`). Costs nothing for
 * a session the CRM is not attached to.
 */
export async function crmOnHolderChange(
  ctx: AppContext,
  uow: UnitOfWork,
  session: SessionRow,
  transfer: boolean,
): Promise<void> {
  if (!transfer) return crmOnSessionsTaken(ctx, uow, [session]);
  const ids = [session.crm_contact_id, session.crm_lead_id, session.crm_deal_id];
  if (!session.operator_id || ids.every((id) => id === null)) return;
  // Only a transfer needs the line's settings: taking a record nobody owns needs none.
  const line = transfer
    ? await uow.tx.selectFrom('lines').select('settings').where('id', '=', session.line_id).executeTakeFirst()
    : undefined;
  // A line with a set responsible person keeps them on a transfer.
  const force =
    line !== undefined &&
    !line.settings.crm.responsibleUserId &&
    responsibleAfterTransfer(line.settings.crm, null, session.operator_id) !== null;
  const to = session.operator_id;
  const now = ctx.clock.now();
  const set = (table: 'crm_contacts' | 'crm_leads' | 'crm_deals', id: string | null, kind: string) =>
    sql`${sql.id(kind)} as (
      update ${sql.table(table)} set responsible_id = ${to}::uuid, updated_at = ${now}::timestamptz
      where id = ${id}::uuid and (responsible_id is null or (${force}::boolean and responsible_id <> ${to}::uuid))
      returning id, ${sql.lit(kind)}::text as kind
    )`;
  const changed = await sql<{ id: string; kind: 'contact' | 'lead' | 'deal' }>`
    with ${set('crm_contacts', session.crm_contact_id, 'contact')}, ${set('crm_leads', session.crm_lead_id, 'lead')},
      ${set('crm_deals', session.crm_deal_id, 'deal')}
    select * from contact union all select * from lead union all select * from deal`.execute(uow.tx);
  for (const row of changed.rows) {
    uow.events.emit(session.account_id, 'crm.record.updated', {
      record: { kind: row.kind, id: row.id, responsibleId: to },
    });
  }
}

/**
 * Sessions taken by (or given to) their operators, not transferred: each record nobody is
 * responsible for yet goes to that operator. One statement for them all, so a routing round's
 * assignments cost one, not one each; nothing for sessions the CRM is not attached to. A record
 * two of these sessions share goes to the first of them.
 */
export async function crmOnSessionsTaken(
  ctx: AppContext,
  uow: UnitOfWork,
  sessions: readonly SessionRow[],
): Promise<void> {
  const seen = new Set<string>();
  const targets: { kind: 'contact' | 'lead' | 'deal'; id: string; to: string }[] = [];
  for (const session of sessions) {
    if (!session.operator_id) continue;
    for (const [kind, id] of [
      ['contact', session.crm_contact_id],
      ['lead', session.crm_lead_id],
      ['deal', session.crm_deal_id],
    ] as const) {
      if (id === null || seen.has(`${kind}:${id}`)) continue;
      seen.add(`${kind}:${id}`);
      targets.push({ kind, id, to: session.operator_id });
    }
  }
  if (targets.length === 0) return;
  const accountId = sessions[0]!.account_id;
  const now = ctx.clock.now();
  const set = (table: 'crm_contacts' | 'crm_leads' | 'crm_deals', kind: string) =>
    sql`${sql.id(kind)} as (
      update ${sql.table(table)} as r set responsible_id = v.to, updated_at = ${now}::timestamptz
      from v where v.kind = ${kind} and r.id = v.id and r.responsible_id is null
      returning r.id, ${sql.lit(kind)}::text as kind, v.to as responsible
    )`;
  const changed = await sql<{ id: string; kind: 'contact' | 'lead' | 'deal'; responsible: string }>`
    with v as (select * from jsonb_to_recordset(${JSON.stringify(targets)}::jsonb) as v(kind text, id uuid, "to" uuid)),
      ${set('crm_contacts', 'contact')}, ${set('crm_leads', 'lead')}, ${set('crm_deals', 'deal')}
    select * from contact union all select * from lead union all select * from deal`.execute(uow.tx);
  for (const row of changed.rows) {
    uow.events.emit(accountId, 'crm.record.updated', {
      record: { kind: row.kind, id: row.id, responsibleId: row.responsible },
    });
  }
}

/** Q-9 outside the lean start: the responsible of what the session is attached to. */
export async function crmResponsibleOf(tx: Tx, session: SessionRow): Promise<string | null> {
  if (!session.crm_contact_id && !session.crm_lead_id && !session.crm_deal_id) return null;
  const row = await sql<{ responsible: string | null }>`select coalesce(
      (select responsible_id from crm_deals where id = ${session.crm_deal_id}::uuid),
      (select responsible_id from crm_leads where id = ${session.crm_lead_id}::uuid),
      (select responsible_id from crm_contacts where id = ${session.crm_contact_id}::uuid)) as responsible`.execute(
    tx,
  );
  return row.rows[0]?.responsible ?? null;
}

/**
 * AA-2: the contact form feeds the CRM. The client's contact gets the name, phone and e-mail they
 * gave; a client the CRM does not know yet is looked up by them (a returning client is found) or
 * saved per `CRM_CREATE`. Nothing is written without consent when the line asks for it (AG-3).
 */
export async function crmFromContactForm(
  ctx: AppContext,
  uow: UnitOfWork,
  input: {
    line: LineRow;
    channel: { id: string; kind: string };
    clientId: string;
    externalId: string;
    session: SessionRow | null;
    fields: { name?: string; email?: string; phone?: string };
    consentMissing: boolean;
  },
): Promise<void> {
  const { line, session, fields } = input;
  if (!line.settings.crm.enabled || input.consentMissing) return;
  const { tx } = uow;
  const contact = await tx
    .selectFrom('crm_contacts')
    .select(['id', 'responsible_id'])
    .where('account_id', '=', line.account_id)
    .where((eb) =>
      session?.crm_contact_id ? eb('id', '=', session.crm_contact_id) : eb('client_id', '=', input.clientId),
    )
    .executeTakeFirst();
  if (!contact) {
    if (!session) return;
    const client = await tx
      .selectFrom('clients')
      .select(['name', 'email', 'phone'])
      .where('id', '=', input.clientId)
      .executeTakeFirstOrThrow();
    await attachCrmToSession(ctx, uow, {
      line,
      accountId: line.account_id,
      channel: input.channel,
      client: {
        id: input.clientId,
        name: client.name,
        externalId: input.externalId,
        phone: client.phone,
        email: client.email,
      },
      consentMissing: false,
      known: null,
      session,
    });
    return;
  }
  const identities = lookupIdentities({
    channelId: input.channel.id,
    externalId: input.externalId,
    phone: fields.phone ?? null,
    email: fields.email ?? null,
  });
  await tx
    .insertInto('crm_contact_identities')
    .values(
      identities.map((identity) => ({ account_id: line.account_id, contact_id: contact.id, ...identity })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  await tx
    .updateTable('crm_contacts')
    .set({ ...(fields.name ? { name: fields.name } : {}), updated_at: ctx.clock.now() })
    .where('id', '=', contact.id)
    .execute();
  uow.events.emit(line.account_id, 'crm.record.updated', {
    record: { kind: 'contact', id: contact.id, responsibleId: contact.responsible_id },
  });
}
