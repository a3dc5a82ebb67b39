import { describe, expect, it } from 'vitest';
import { checkHeader, checkImportRows, type ImportLookups } from './crm-csv';
import { fromSpreadsheet, spreadsheetSafe } from './csv-cells';

const lookups: ImportLookups = {
  usersByEmail: new Map([['op@x.test', 'u-op']]),
  actorId: 'u-me',
  contactIds: new Set(['00000000-0000-4000-8000-000000000001']),
  companyIds: new Set(),
  takenIdentities: new Set(['email:taken@x.test']),
  pipelines: new Map([
    [
      'sales',
      {
        id: 'p1',
        stages: new Map([
          ['new', 's1'],
          ['won', 's2'],
        ]),
        firstStageId: 's1',
      },
    ],
  ]),
  defaultPipeline: 'sales',
};

describe('checkHeader', () => {
  it.each([
    ['contact', ['name', 'phones', 'id', 'createdAt'], []],
    ['contact', ['phones'], [{ row: 1, column: 'name', message: 'is required' }]],
    [
      'company',
      ['name', 'phones'],
      [{ row: 1, column: 'phones', message: 'is not a column of company imports' }],
    ],
    ['lead', ['title', 'title'], [{ row: 1, column: 'title', message: 'appears twice' }]],
  ] as const)('%s %j', (kind, header, errors) => {
    expect(checkHeader(kind, header)).toEqual(errors);
  });
});

describe('checkImportRows', () => {
  it.each([
    [
      'a contact with defaults',
      'contact',
      ['name', 'phones', 'emails'],
      [['Ann', '+7 916 123-45-67; ', 'A@X.test']],
      [],
      {
        name: 'Ann',
        phones: ['+79161234567'],
        emails: ['a@x.test'],
        responsibleId: 'u-me',
      },
    ],
    [
      'a taken e-mail',
      'contact',
      ['name', 'emails'],
      [['Ann', 'taken@x.test']],
      [{ row: 2, column: 'emails', message: 'taken@x.test belongs to another contact' }],
      null,
    ],
    [
      'a responsible by e-mail, any case',
      'company',
      ['name', 'responsible'],
      [['Co', 'OP@x.test']],
      [],
      { responsibleId: 'u-op' },
    ],
    [
      'a short row',
      'company',
      ['name', 'notes'],
      [['Co']],
      [{ row: 2, column: '', message: 'has 1 cells; the header has 2' }],
      null,
    ],
    [
      'a deal in the default pipeline’s first stage',
      'deal',
      ['title'],
      [['D']],
      [],
      { pipelineId: 'p1', stageId: 's1' },
    ],
    [
      'a deal’s stage by name',
      'deal',
      ['title', 'pipeline', 'stage'],
      [['D', 'Sales', 'WON']],
      [],
      { stageId: 's2' },
    ],
    [
      'an unknown contact id',
      'lead',
      ['title', 'contactId'],
      [['L', 'not-an-id']],
      [{ row: 2, column: 'contactId', message: 'no such contact' }],
      null,
    ],
    ['an apostrophe-defused name reads back', 'company', ['name'], [["'=SUM(A1)"]], [], { name: '=SUM(A1)' }],
  ] as const)('%s', (_name, kind, header, rows, errors, record) => {
    const result = checkImportRows(kind, header, rows, lookups);
    expect(result.errors).toEqual(errors);
    if (record) expect(result.records[0]).toMatchObject(record);
    else expect(result.records).toEqual([]);
  });

  it('two rows sharing a phone: the second names the first', () => {
    const result = checkImportRows(
      'contact',
      ['name', 'phones'],
      [
        ['A', '+16502530001'],
        ['B', '+1 650 253 0001'],
      ],
      lookups,
    );
    expect(result.errors).toEqual([{ row: 3, column: 'phones', message: '+16502530001 is also on line 2' }]);
  });
});

describe('spreadsheet cells', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+7916', "'+7916"],
    ['plain', 'plain'],
  ])('%s', (text, safe) => {
    expect(spreadsheetSafe(text)).toBe(safe);
    expect(fromSpreadsheet(safe)).toBe(text);
  });
});
