import {
  CRM_MERGE_FIELDS,
  type CrmContact,
  type CrmLeadStatus,
  type CrmListQuery,
  type CrmMergeField,
  type FieldError,
} from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import type { Translate } from './i18n';

/** What a CRM list's filter form holds (dates are `YYYY-MM-DD`, local days). */
export interface CrmListFilters {
  search: string;
  responsibleId: string;
  sourceKind: string;
  /** Leads only. */
  status: string;
  /** Deals only. */
  pipelineId: string;
  stageId: string;
  from: string;
  to: string;
}

export const NO_CRM_FILTERS: CrmListFilters = {
  search: '',
  responsibleId: '',
  sourceKind: '',
  status: '',
  pipelineId: '',
  stageId: '',
  from: '',
  to: '',
};

/** The list's filters as the API takes them: empty ones left out, `to` takes in its whole day. */
export function crmListQuery(filters: CrmListFilters): CrmListQuery {
  const day = (value: string, plus = 0) => {
    const date = new Date(`${value}T00:00:00`);
    date.setDate(date.getDate() + plus);
    return date.toISOString();
  };
  const search = filters.search.trim();
  return {
    ...(search ? { search } : {}),
    ...(filters.responsibleId ? { responsibleId: filters.responsibleId } : {}),
    ...(filters.sourceKind ? { sourceKind: filters.sourceKind } : {}),
    ...(filters.status ? { status: filters.status as CrmLeadStatus } : {}),
    ...(filters.pipelineId ? { pipelineId: filters.pipelineId } : {}),
    ...(filters.stageId ? { stageId: filters.stageId } : {}),
    ...(filters.from ? { createdFrom: day(filters.from) } : {}),
    ...(filters.to ? { createdTo: day(filters.to, 1) } : {}),
  };
}

/** Sources a record has without a channel: made by hand, through the API, from a CSV file. */
export const CRM_OWN_SOURCE_KINDS = ['manual', 'api', 'import'] as const;

/** The source kinds to filter by: the channel kinds this server has, then the CRM's own. */
export function crmSourceKinds(channelKinds: readonly string[]): string[] {
  return [...new Set([...channelKinds, ...CRM_OWN_SOURCE_KINDS])];
}

/** A record's source kind as people call it; one this build has no text for shows its code. */
export function sourceKindLabel(t: Translate, kind: string): string {
  for (const key of [`crm.sourceKind.${kind}`, `channels.kind.${kind}`]) if (t.has(key)) return t(key);
  return kind;
}

/** One row of the merge screen: a field, both contacts' values, and whether they differ. */
export interface MergeRow {
  field: CrmMergeField;
  survivor: string | null;
  duplicate: string | null;
  /** Both have a value and they differ: the user chooses. Otherwise the merge keeps the one there is. */
  choice: boolean;
}

/** The merge screen's rows, in the API's field order (`CRM_MERGE_FIELDS`). */
export function mergeRows(survivor: CrmContact, duplicate: CrmContact): MergeRow[] {
  const value = (contact: CrmContact, field: CrmMergeField): string | null => {
    const raw = contact[field];
    return raw === null || raw === '' ? null : raw;
  };
  return CRM_MERGE_FIELDS.map((field) => {
    const a = value(survivor, field);
    const b = value(duplicate, field);
    return { field, survivor: a, duplicate: b, choice: a !== null && b !== null && a !== b };
  });
}

/** The `take` of a merge: the fields the user chose the duplicate's value for, where there is a choice. */
export function mergeTake(
  rows: readonly MergeRow[],
  chosen: Partial<Record<CrmMergeField, 'survivor' | 'duplicate'>>,
): CrmMergeField[] {
  return rows.filter((row) => row.choice && chosen[row.field] === 'duplicate').map((row) => row.field);
}

/**
 * Why a merge was refused, when it is about the duplicate: the same contact twice, or one that
 * does not exist or is not in the user's scope (the server names `body.duplicateId` for both; a
 * duplicate that cannot be read answers 404 before).
 */
export function mergeProblem(
  error: unknown,
  survivorId: string,
  duplicateId: string,
): 'self' | 'missing' | null {
  if (survivorId === duplicateId) return 'self';
  if (!(error instanceof OpenlinesError)) return null;
  const fields = error.errors as FieldError[];
  return fields.some((field) => field.field === 'body.duplicateId') ? 'missing' : null;
}
