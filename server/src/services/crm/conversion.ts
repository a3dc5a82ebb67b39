import type {
  ConvertCrmLeadBody,
  CrmContact,
  CrmConversion,
  FieldError,
  MergeCrmContactsBody,
} from '@openlines/contract';
import type { AppContext } from '../../context';
import { mergedContactFields, planLeadConversion } from '../../core/crm-conversion';
import { AppError } from '../../errors';
import type { Actor } from '../actor';
import { recordAudit } from '../audit';
import { touchDialog } from '../dialog-events';
import { runInTransaction, type Tx, type UnitOfWork } from '../transaction';
import {
  checkResponsible,
  type DealRow,
  type LeadRow,
  loadRecord,
  presentCompany,
  presentContacts,
  presentDeal,
  presentLead,
  type RecordKind,
  recogniseClientAsContact,
  ref,
  stageFor,
} from './records';

/**
 * Lead conversion and contact merging (issue 12). Each is one transaction: the records it writes,
 * the sessions it moves and the events (and for a merge the audit entry) commit together.
 */

/** A record named in the body that the actor may not see is a 400 naming the field, not a 404. */
async function loadNamed(tx: Tx, actor: Actor, kind: RecordKind, id: string, field: string, lock = false) {
  try {
    return await loadRecord(tx, actor, kind, id, lock);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found')
      throw new AppError('validation_failed', `${field}: no such ${kind}`, [
        { field, message: `no such ${kind}` },
      ]);
    throw error;
  }
}

/** The latest session's client of a lead: a contact made by conversion is recognised by their channel users. */
async function adoptLeadClient(uow: UnitOfWork, actor: Actor, leadId: string, contactId: string) {
  const { tx } = uow;
  const session = await tx
    .selectFrom('sessions')
    .innerJoin('dialogs', 'dialogs.id', 'sessions.dialog_id')
    .select('dialogs.client_id')
    .where('sessions.account_id', '=', actor.accountId)
    .where('sessions.crm_lead_id', '=', leadId)
    .orderBy('sessions.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!session) return;
  await recogniseClientAsContact(tx, actor.accountId, contactId, session.client_id);
}

/**
 * Converts an open lead (Bitrix24 semantics): it becomes `converted` and names the contact and
 * company it became; a deal made from it names the lead. Every session of the lead is attached to
 * the contact and the deal as well (where it had none), so the dialog history shows on each record
 * while the lead keeps it too. New records inherit the lead's responsible, source and AG-3 note.
 */
export async function convertLead(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: ConvertCrmLeadBody,
): Promise<CrmConversion> {
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    const lead = (await loadRecord(tx, actor, 'lead', id, true)) as unknown as LeadRow & {
      source_channel_id: string | null;
    };
    const decision = planLeadConversion(
      { title: lead.title, status: lead.status, contactId: lead.contact_id, companyId: lead.company_id },
      input,
    );
    if (decision.kind === 'refuse') {
      const statusError = decision.errors.find((e) => e.field === 'lead.status');
      if (statusError) throw new AppError('conflict', `The lead is ${lead.status}; ${statusError.message}`);
      throw new AppError(
        'validation_failed',
        decision.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        decision.errors,
      );
    }
    const { plan } = decision;
    const now = ctx.clock.now();
    const inherited = {
      account_id: actor.accountId,
      responsible_id: lead.responsible_id,
      source_kind: lead.source_kind,
      source_channel_id: lead.source_channel_id,
      source: lead.source,
      created_at: now,
      updated_at: now,
    };

    let companyId: string | null = null;
    if (plan.company.kind === 'existing') {
      await loadNamed(
        tx,
        actor,
        'company',
        plan.company.id,
        input.companyId ? 'body.companyId' : 'lead.companyId',
      );
      companyId = plan.company.id;
    } else if (plan.company.kind === 'new') {
      const company = await tx
        .insertInto('crm_companies')
        .values({ ...inherited, name: plan.company.name })
        .returning('id')
        .executeTakeFirstOrThrow();
      companyId = company.id;
      uow.events.emit(actor.accountId, 'crm.record.created', ref('company', company.id, lead.responsible_id));
    }

    let contactId: string;
    if (plan.contact.kind === 'existing') {
      const contact = await loadNamed(
        tx,
        actor,
        'contact',
        plan.contact.id,
        input.contactId ? 'body.contactId' : 'lead.contactId',
        true,
      );
      contactId = plan.contact.id;
      if (companyId && !contact.company_id) {
        await tx
          .updateTable('crm_contacts')
          .set({ company_id: companyId, updated_at: now })
          .where('id', '=', contactId)
          .execute();
        uow.events.emit(
          actor.accountId,
          'crm.record.updated',
          ref('contact', contactId, contact.responsible_id),
        );
      }
    } else {
      const contact = await tx
        .insertInto('crm_contacts')
        .values({
          ...inherited,
          name: plan.contact.name,
          company_id: companyId,
          consent_missing: lead.consent_missing,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      contactId = contact.id;
      await adoptLeadClient(uow, actor, id, contactId);
      uow.events.emit(actor.accountId, 'crm.record.created', ref('contact', contactId, lead.responsible_id));
    }

    let deal: DealRow | null = null;
    if (plan.deal) {
      const stage = await stageFor(tx, actor, plan.deal.pipelineId, plan.deal.stageId);
      deal = (await tx
        .insertInto('crm_deals')
        .values({
          ...inherited,
          title: plan.deal.title,
          pipeline_id: stage.pipeline_id,
          stage_id: stage.id,
          contact_id: contactId,
          company_id: companyId,
          lead_id: id,
          consent_missing: lead.consent_missing,
          closed_at: stage.semantics === 'open' ? null : now,
        })
        .returningAll()
        .executeTakeFirstOrThrow()) as DealRow;
      uow.events.emit(actor.accountId, 'crm.record.created', ref('deal', deal.id, lead.responsible_id));
    }

    const converted = (await tx
      .updateTable('crm_leads')
      .set({ status: 'converted', contact_id: contactId, company_id: companyId, updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()) as LeadRow;
    // The lead keeps its sessions; the contact and the deal get them too (CRM-3).
    await tx
      .updateTable('sessions')
      .set((eb) => ({
        crm_contact_id: eb.fn.coalesce('crm_contact_id', eb.val(contactId)),
        ...(deal ? { crm_deal_id: eb.fn.coalesce('crm_deal_id', eb.val(deal.id)) } : {}),
      }))
      .where('account_id', '=', actor.accountId)
      .where('crm_lead_id', '=', id)
      .execute();

    const leadRef = ref('lead', id, lead.responsible_id);
    uow.events.emit(actor.accountId, 'crm.record.updated', leadRef);
    uow.events.emit(actor.accountId, 'crm.stage.changed', { ...leadRef, from: lead.status, to: 'converted' });
    uow.events.emit(actor.accountId, 'crm.record.converted', {
      ...leadRef,
      contactId,
      companyId,
      dealId: deal?.id ?? null,
    });

    const company = companyId
      ? await tx.selectFrom('crm_companies').selectAll().where('id', '=', companyId).executeTakeFirstOrThrow()
      : null;
    return {
      lead: presentLead(converted),
      contact: (await presentContacts(tx, [contactId]))[0]!,
      company: company ? presentCompany(company) : null,
      deal: deal ? presentDeal(deal) : null,
    };
  });
}

/**
 * Merges a duplicate contact into the survivor: the duplicate's identities, sessions, leads and
 * deals move to the survivor, the survivor takes the fields named in `take` (and those it lacks)
 * from the duplicate, and the duplicate is deleted. The audit log records who merged which two.
 */
export async function mergeContacts(
  ctx: AppContext,
  actor: Actor,
  survivorId: string,
  input: MergeCrmContactsBody,
): Promise<CrmContact> {
  if (input.duplicateId === survivorId) {
    const errors: FieldError[] = [{ field: 'body.duplicateId', message: 'must be another contact' }];
    throw new AppError('validation_failed', 'body.duplicateId: must be another contact', errors);
  }
  return runInTransaction(ctx, async (uow) => {
    const { tx } = uow;
    // Both rows are locked in id order, so two merges of the same pair cannot deadlock.
    const [firstId, secondId] = [survivorId, input.duplicateId].sort();
    const rows = new Map<string, Awaited<ReturnType<typeof loadRecord>>>();
    for (const contactId of [firstId!, secondId!]) {
      rows.set(
        contactId,
        contactId === survivorId
          ? await loadRecord(tx, actor, 'contact', contactId, true)
          : await loadNamed(tx, actor, 'contact', contactId, 'body.duplicateId', true),
      );
    }
    const survivor = rows.get(survivorId)!;
    const duplicate = rows.get(input.duplicateId)!;
    const fieldsOf = (row: typeof survivor) => ({
      name: row.name as string,
      photoUrl: row.photo_url as string | null,
      notes: row.notes as string,
      companyId: row.company_id as string | null,
      responsibleId: row.responsible_id,
      consentMissing: row.consent_missing as boolean,
    });
    const take = input.take ?? [];
    const merged = mergedContactFields(fieldsOf(survivor), fieldsOf(duplicate), take);
    if (merged.responsibleId !== survivor.responsible_id)
      await checkResponsible(tx, actor, merged.responsibleId, 'body.take');

    const from = input.duplicateId;
    await tx
      .updateTable('crm_contact_identities')
      .set({ contact_id: survivorId })
      .where('contact_id', '=', from)
      .execute();
    await tx
      .updateTable('sessions')
      .set({ crm_contact_id: survivorId })
      .where('crm_contact_id', '=', from)
      .execute();
    await tx
      .updateTable('crm_leads')
      .set({ contact_id: survivorId })
      .where('contact_id', '=', from)
      .execute();
    await tx
      .updateTable('crm_deals')
      .set({ contact_id: survivorId })
      .where('contact_id', '=', from)
      .execute();
    await tx.deleteFrom('crm_contacts').where('id', '=', from).execute();
    const clientId = (survivor.client_id as string | null) ?? (duplicate.client_id as string | null);
    const now = ctx.clock.now();
    await tx
      .updateTable('crm_contacts')
      .set({
        name: merged.name,
        photo_url: merged.photoUrl,
        notes: merged.notes,
        company_id: merged.companyId,
        responsible_id: merged.responsibleId,
        consent_missing: merged.consentMissing,
        client_id: clientId,
        updated_at: now,
      })
      .where('id', '=', survivorId)
      .execute();
    // OP-2: the dialogs of the survivor's client show the name it keeps.
    if (clientId && merged.name !== survivor.name) {
      await tx.updateTable('clients').set({ name: merged.name }).where('id', '=', clientId).execute();
      const dialogs = await tx.selectFrom('dialogs').select('id').where('client_id', '=', clientId).execute();
      for (const dialog of dialogs) touchDialog(ctx, uow, actor.accountId, dialog.id);
    }
    await recordAudit(
      tx,
      actor,
      {
        action: 'crm.contacts_merged',
        targetType: 'crm_contact',
        targetId: survivorId,
        changedKeys: [`duplicate:${from}`, ...take.map((field) => `take:${field}`)],
      },
      now,
    );
    uow.events.emit(actor.accountId, 'crm.record.deleted', ref('contact', from, duplicate.responsible_id));
    uow.events.emit(actor.accountId, 'crm.record.updated', ref('contact', survivorId, merged.responsibleId));
    return (await presentContacts(tx, [survivorId]))[0]!;
  });
}
