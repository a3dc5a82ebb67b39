import type { ConvertCrmLeadBody, CrmLeadStatus, CrmMergeField, FieldError } from '@openlines/contract';

/**
 * Lead conversion and contact merging (issue 12): the pure decisions. Conversion follows Bitrix24:
 * a lead that is still open (new / in progress) becomes `converted` and yields a contact (the one
 * chosen, the one it already names, or a new one), optionally a company (chosen or new) and a
 * deal; the lead itself stays, with its sessions, as the history.
 */

export type ConversionPlan = {
  contact: { kind: 'existing'; id: string } | { kind: 'new'; name: string };
  company: { kind: 'existing'; id: string } | { kind: 'new'; name: string } | { kind: 'none' };
  deal: { title: string; pipelineId?: string; stageId?: string } | null;
};

export type ConversionDecision =
  | { kind: 'convert'; plan: ConversionPlan }
  | { kind: 'refuse'; errors: FieldError[] };

export function planLeadConversion(
  lead: { title: string; status: CrmLeadStatus; contactId: string | null; companyId: string | null },
  input: ConvertCrmLeadBody,
): ConversionDecision {
  const errors: FieldError[] = [];
  if (lead.status === 'converted' || lead.status === 'junk')
    errors.push({ field: 'lead.status', message: `a ${lead.status} lead cannot be converted` });
  if (input.companyId && input.companyName)
    errors.push({ field: 'body.companyName', message: 'give either companyId or companyName' });
  if (input.contactId && input.contactName)
    errors.push({ field: 'body.contactName', message: 'give either contactId or contactName' });
  const wantsDeal = input.deal !== false;
  if (!wantsDeal) {
    for (const field of ['dealTitle', 'pipelineId', 'stageId'] as const) {
      if (input[field] !== undefined)
        errors.push({ field: `body.${field}`, message: 'only with a deal (deal is false)' });
    }
  }
  if (errors.length > 0) return { kind: 'refuse', errors };
  const contactId = input.contactId ?? (input.contactName ? null : lead.contactId);
  const companyId = input.companyId ?? (input.companyName ? null : lead.companyId);
  return {
    kind: 'convert',
    plan: {
      contact: contactId
        ? { kind: 'existing', id: contactId }
        : { kind: 'new', name: input.contactName ?? lead.title },
      company: companyId
        ? { kind: 'existing', id: companyId }
        : input.companyName
          ? { kind: 'new', name: input.companyName }
          : { kind: 'none' },
      deal: wantsDeal
        ? {
            title: input.dealTitle ?? lead.title,
            ...(input.pipelineId ? { pipelineId: input.pipelineId } : {}),
            ...(input.stageId ? { stageId: input.stageId } : {}),
          }
        : null,
    },
  };
}

export interface MergeableContact {
  name: string;
  photoUrl: string | null;
  notes: string;
  companyId: string | null;
  responsibleId: string | null;
  consentMissing: boolean;
}

/**
 * The survivor's fields after a merge: its own, except those named in `take`, which come from the
 * duplicate; a field the survivor leaves empty (no photo, no notes, no company) is filled from the
 * duplicate so nothing known is lost. Consent is missing if it was missing on either.
 */
export function mergedContactFields(
  survivor: MergeableContact,
  duplicate: MergeableContact,
  take: readonly CrmMergeField[],
): MergeableContact {
  const pick = <K extends CrmMergeField>(field: K, empty: (value: MergeableContact[K]) => boolean) =>
    take.includes(field) || empty(survivor[field]) ? duplicate[field] : survivor[field];
  return {
    name: pick('name', () => false),
    photoUrl: pick('photoUrl', (value) => value === null),
    notes: pick('notes', (value) => value === ''),
    companyId: pick('companyId', (value) => value === null),
    responsibleId: pick('responsibleId', () => false),
    consentMissing: survivor.consentMissing || duplicate.consentMissing,
  };
}
