import type { CrmContact } from '@openlines/contract';
import { OpenlinesError } from '@openlines/sdk';
import { describe, expect, it } from 'vitest';
import {
  crmListQuery,
  crmSourceKinds,
  mergeProblem,
  mergeRows,
  mergeTake,
  NO_CRM_FILTERS,
  sourceKindLabel,
} from './crm';
import { makeTranslate } from './i18n';

function contact(overrides: Partial<CrmContact> = {}): CrmContact {
  return {
    id: 'c1',
    responsibleId: 'u1',
    sourceKind: 'manual',
    sourceChannelId: null,
    source: '',
    createdAt: '2026-03-02T10:00:00.000Z',
    updatedAt: '2026-03-02T10:00:00.000Z',
    name: 'Anna',
    photoUrl: null,
    notes: '',
    companyId: null,
    clientId: null,
    phones: [],
    emails: [],
    channelUsers: [],
    consentMissing: false,
    ...overrides,
  };
}

describe('CRM list filters', () => {
  it('leaves empty filters out and takes in the whole last day', () => {
    expect(crmListQuery(NO_CRM_FILTERS)).toEqual({});
    const query = crmListQuery({
      ...NO_CRM_FILTERS,
      search: '  anna ',
      sourceKind: 'telegram',
      pipelineId: 'p1',
      stageId: 's1',
      from: '2026-03-01',
      to: '2026-03-01',
    });
    expect(query).toMatchObject({ search: 'anna', sourceKind: 'telegram', pipelineId: 'p1', stageId: 's1' });
    const span = Date.parse(query.createdTo!) - Date.parse(query.createdFrom!);
    expect(span).toBeGreaterThanOrEqual(23 * 3600_000);
    expect(span).toBeLessThanOrEqual(25 * 3600_000);
  });

  it('offers the channel kinds and the CRM’s own sources once each, named in the language', () => {
    expect(crmSourceKinds(['widget', 'api'])).toEqual(['widget', 'api', 'manual', 'import']);
    const ru = makeTranslate('ru');
    expect(sourceKindLabel(ru, 'manual')).toBe('Вручную');
    expect(sourceKindLabel(ru, 'widget')).toBe('Виджет на сайте');
    expect(sourceKindLabel(makeTranslate('en'), 'pigeon')).toBe('pigeon');
  });
});

describe('merging contacts', () => {
  const survivor = contact({ id: 'a', name: 'Anna', notes: 'VIP', responsibleId: 'u1' });
  const duplicate = contact({
    id: 'b',
    name: 'Anna Petrova',
    notes: '',
    companyId: 'co1',
    responsibleId: 'u1',
  });

  it('asks only where both have different values', () => {
    const rows = mergeRows(survivor, duplicate);
    expect(rows.map((row) => [row.field, row.choice])).toEqual([
      ['name', true],
      ['photoUrl', false],
      ['notes', false],
      ['companyId', false],
      ['responsibleId', false],
    ]);
    expect(rows.find((row) => row.field === 'notes')).toMatchObject({ survivor: 'VIP', duplicate: null });
  });

  it('takes the fields chosen from the duplicate, ignoring choices where there is none', () => {
    const rows = mergeRows(survivor, duplicate);
    expect(mergeTake(rows, {})).toEqual([]);
    expect(mergeTake(rows, { name: 'duplicate', companyId: 'duplicate', notes: 'survivor' })).toEqual([
      'name',
    ]);
  });

  it('tells the same contact twice and a missing duplicate apart from other failures', () => {
    const problem = (status: number, code: string, field?: string) =>
      new OpenlinesError({
        type: 'about:blank',
        title: code,
        status,
        code,
        ...(field ? { errors: [{ field, message: 'no such contact' }] } : {}),
      } as ConstructorParameters<typeof OpenlinesError>[0]);
    expect(mergeProblem(null, 'a', 'a')).toBe('self');
    expect(mergeProblem(problem(400, 'validation_failed', 'body.duplicateId'), 'a', 'b')).toBe('missing');
    expect(mergeProblem(problem(400, 'validation_failed', 'body.take'), 'a', 'b')).toBeNull();
    expect(mergeProblem(problem(404, 'not_found'), 'a', 'b')).toBeNull();
    expect(mergeProblem(new TypeError('offline'), 'a', 'b')).toBeNull();
  });
});
