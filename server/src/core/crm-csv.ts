import type { CrmImportRowError, CrmLeadStatus } from '@openlines/contract';
import { isUuid } from '@openlines/contract';
import { normaliseEmail, normalisePhone } from './crm';
import { fromSpreadsheet } from './csv-cells';

/**
 * CSV import and export of CRM records (issue 12), the pure part: the columns of each kind, and
 * the check of every row of an import. The service parses the file, loads what the rows refer to
 * (users by e-mail, stages by name, existing phones and e-mails, contact and company ids), calls
 * `checkImportRows`, and writes the records only when no row has an error.
 *
 * A file exported from here imports back as copies: the columns an export adds (`id`, times,
 * `sourceKind`, …) are read-only and ignored. Lists in a cell (phones, e-mails) are separated by
 * `;`. `responsible` is the user's e-mail; empty means the importing user.
 */

export type CsvKind = 'contact' | 'company' | 'lead' | 'deal';

/** The columns an import reads, per kind; the first is required. */
export const IMPORT_COLUMNS: Record<CsvKind, readonly string[]> = {
  contact: ['name', 'phones', 'emails', 'notes', 'photoUrl', 'companyId', 'responsible', 'source'],
  company: ['name', 'notes', 'responsible', 'source'],
  lead: ['title', 'status', 'contactId', 'companyId', 'responsible', 'source'],
  deal: ['title', 'pipeline', 'stage', 'contactId', 'companyId', 'responsible', 'source'],
};

/** Columns an export writes that an import ignores. */
export const READ_ONLY_COLUMNS = [
  'id',
  'sourceKind',
  'createdAt',
  'updatedAt',
  'closedAt',
  'leadId',
  'consentMissing',
];

/** The columns an export writes, per kind, in order. */
export const EXPORT_COLUMNS: Record<CsvKind, readonly string[]> = {
  contact: ['id', ...IMPORT_COLUMNS.contact, 'sourceKind', 'consentMissing', 'createdAt', 'updatedAt'],
  company: ['id', ...IMPORT_COLUMNS.company, 'sourceKind', 'createdAt', 'updatedAt'],
  lead: ['id', ...IMPORT_COLUMNS.lead, 'sourceKind', 'consentMissing', 'createdAt', 'updatedAt'],
  deal: [
    'id',
    ...IMPORT_COLUMNS.deal,
    'leadId',
    'sourceKind',
    'consentMissing',
    'closedAt',
    'createdAt',
    'updatedAt',
  ],
};

const LEAD_STATUSES: readonly CrmLeadStatus[] = ['new', 'in_progress', 'converted', 'junk'];
const MAX = { name: 200, notes: 5000, source: 200, photoUrl: 2000, list: 10 };

export interface ImportLookups {
  /** Users of the account by case-folded e-mail → id. */
  usersByEmail: ReadonlyMap<string, string>;
  /** The importing user: the responsible of a row that names none. */
  actorId: string;
  /** Contact and company ids of the account. */
  contactIds: ReadonlySet<string>;
  companyIds: ReadonlySet<string>;
  /** Phones and e-mails (`phone:+7…`, `email:a@b.c`) that already belong to a contact. */
  takenIdentities: ReadonlySet<string>;
  /** Pipelines by case-folded name, with their stages by case-folded name; and the default one. */
  pipelines: ReadonlyMap<string, { id: string; stages: ReadonlyMap<string, string>; firstStageId: string }>;
  defaultPipeline: string;
}

export interface ImportedRecord {
  /** Line of the file (the header is line 1). */
  row: number;
  name: string;
  responsibleId: string;
  source: string;
  notes: string;
  photoUrl: string | null;
  phones: string[];
  emails: string[];
  status: CrmLeadStatus;
  contactId: string | null;
  companyId: string | null;
  pipelineId: string | null;
  stageId: string | null;
}

/** Checks the header: every column known, the required one present. */
export function checkHeader(kind: CsvKind, header: readonly string[]): CrmImportRowError[] {
  const known = new Set([...IMPORT_COLUMNS[kind], ...READ_ONLY_COLUMNS]);
  const errors: CrmImportRowError[] = header.flatMap((column) =>
    known.has(column) ? [] : [{ row: 1, column, message: `is not a column of ${kind} imports` }],
  );
  const seen = new Set<string>();
  for (const column of header) {
    if (seen.has(column)) errors.push({ row: 1, column, message: 'appears twice' });
    seen.add(column);
  }
  const required = IMPORT_COLUMNS[kind][0]!;
  if (!header.includes(required)) errors.push({ row: 1, column: required, message: 'is required' });
  return errors;
}

const list = (cell: string) =>
  cell
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/**
 * Checks every row; returns the records to write, or every error found (with line and column). A
 * phone or e-mail that another contact has, or that two rows of the file share, is an error.
 */
export function checkImportRows(
  kind: CsvKind,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  lookups: ImportLookups,
): { records: ImportedRecord[]; errors: CrmImportRowError[] } {
  const errors: CrmImportRowError[] = [];
  const records: ImportedRecord[] = [];
  const inFile = new Map<string, number>();
  rows.forEach((cells, index) => {
    const row = index + 2;
    const before = errors.length;
    const fail = (column: string, message: string) => errors.push({ row, column, message });
    const cell = (column: string) => {
      const at = header.indexOf(column);
      return at < 0 ? '' : fromSpreadsheet((cells[at] ?? '').trim());
    };
    if (cells.length !== header.length)
      fail('', `has ${cells.length} cells; the header has ${header.length}`);
    const nameColumn = IMPORT_COLUMNS[kind][0]!;
    const name = cell(nameColumn);
    if (name.length === 0) fail(nameColumn, 'is required');
    else if (name.length > MAX.name) fail(nameColumn, `is longer than ${MAX.name} characters`);
    const notes = cell('notes');
    if (notes.length > MAX.notes) fail('notes', `is longer than ${MAX.notes} characters`);
    const source = cell('source');
    if (source.length > MAX.source) fail('source', `is longer than ${MAX.source} characters`);
    const photoUrl = cell('photoUrl');
    if (photoUrl && (photoUrl.length > MAX.photoUrl || !/^https?:\/\/\S+$/i.test(photoUrl)))
      fail('photoUrl', 'is not an http(s) URL');

    const responsible = cell('responsible').toLowerCase();
    const responsibleId = responsible ? lookups.usersByEmail.get(responsible) : lookups.actorId;
    if (!responsibleId) fail('responsible', 'is not the e-mail of a user of this account');

    const identities = (column: 'phones' | 'emails', normalise: (raw: string) => string | null) => {
      const values: string[] = [];
      const items = list(cell(column));
      if (items.length > MAX.list) fail(column, `has more than ${MAX.list} items`);
      for (const raw of items) {
        const value = normalise(raw);
        const key = `${column === 'phones' ? 'phone' : 'email'}:${value}`;
        if (!value)
          fail(
            column,
            column === 'phones'
              ? `${raw} is not a valid phone number (use the +country format)`
              : `${raw} is not an e-mail address`,
          );
        else if (lookups.takenIdentities.has(key)) fail(column, `${value} belongs to another contact`);
        else if (inFile.has(key) && inFile.get(key) !== row)
          fail(column, `${value} is also on line ${inFile.get(key)}`);
        else if (!values.includes(value)) {
          values.push(value);
          inFile.set(key, row);
        }
      }
      return values;
    };
    const phones = kind === 'contact' ? identities('phones', (raw) => normalisePhone(raw)) : [];
    const emails = kind === 'contact' ? identities('emails', normaliseEmail) : [];

    const reference = (column: 'contactId' | 'companyId', known: ReadonlySet<string>) => {
      const id = cell(column);
      if (!id) return null;
      if (!isUuid(id) || !known.has(id.toLowerCase())) {
        fail(column, `no such ${column === 'contactId' ? 'contact' : 'company'}`);
        return null;
      }
      return id.toLowerCase();
    };
    const contactId = kind === 'lead' || kind === 'deal' ? reference('contactId', lookups.contactIds) : null;
    const companyId = kind !== 'company' ? reference('companyId', lookups.companyIds) : null;

    let status: CrmLeadStatus = 'new';
    if (kind === 'lead' && cell('status')) {
      const given = cell('status') as CrmLeadStatus;
      if (LEAD_STATUSES.includes(given)) status = given;
      else fail('status', `must be one of ${LEAD_STATUSES.join(', ')}`);
    }

    let pipelineId: string | null = null;
    let stageId: string | null = null;
    if (kind === 'deal') {
      const pipelineName = cell('pipeline').toLowerCase();
      const pipeline = lookups.pipelines.get(pipelineName || lookups.defaultPipeline);
      if (!pipeline) fail('pipeline', 'is not the name of a pipeline');
      else {
        pipelineId = pipeline.id;
        const stageName = cell('stage').toLowerCase();
        stageId = stageName ? (pipeline.stages.get(stageName) ?? null) : pipeline.firstStageId;
        if (!stageId) fail('stage', 'is not the name of a stage of the pipeline');
      }
    }
    if (errors.length > before || !responsibleId) return;
    records.push({
      row,
      name,
      responsibleId,
      source,
      notes,
      photoUrl: photoUrl || null,
      phones,
      emails,
      status,
      contactId,
      companyId,
      pipelineId,
      stageId,
    });
  });
  return { records, errors };
}
