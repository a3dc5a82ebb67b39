import { Readable } from 'node:stream';
import type { CrmImportBody, CrmImportResult, CrmImportRowError, CrmListQuery } from '@openlines/contract';
import { MAX_CRM_IMPORT_ROWS } from '@openlines/contract';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import type { AppContext } from '../../context';
import {
  type CsvKind,
  checkHeader,
  checkImportRows,
  EXPORT_COLUMNS,
  type ImportedRecord,
} from '../../core/crm-csv';
import { spreadsheetSafe } from '../../core/csv-cells';
import { AppError } from '../../errors';
import { isUniqueViolation } from '../../store/errors';
import { type Actor, authorizeScope } from '../actor';
import { runInTransaction } from '../transaction';
import {
  type CompanyRow,
  checkResponsible,
  type DealRow,
  type LeadRow,
  listPage,
  presentContacts,
  ref,
  type SourceRow,
} from './records';

/**
 * CSV export and import of contacts, companies, leads and deals (issue 12). The export is streamed
 * page by page (the list's filters and the actor's scope apply), so a large CRM never sits in
 * memory whole. The import checks every row first (core/crm-csv) and writes all of them in one
 * transaction, or none: a file with one bad row answers its per-row report and changes nothing.
 */

const PAGE = 200;

type Cell = string | number | boolean | null;

async function exportContext(ctx: AppContext, actor: Actor) {
  const users = await ctx.store.db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('account_id', '=', actor.accountId)
    .execute();
  const stages = await ctx.store.db
    .selectFrom('crm_stages')
    .innerJoin('crm_pipelines', 'crm_pipelines.id', 'crm_stages.pipeline_id')
    .select([
      'crm_stages.id',
      'crm_stages.name as stage',
      'crm_pipelines.id as pipelineId',
      'crm_pipelines.name as pipeline',
    ])
    .where('crm_stages.account_id', '=', actor.accountId)
    .execute();
  return {
    email: new Map(users.map((u) => [u.id, u.email])),
    stage: new Map(stages.map((s) => [s.id, s])),
  };
}

/** One page's rows as CSV cells, in EXPORT_COLUMNS order. */
async function cellsOf(
  ctx: AppContext,
  kind: CsvKind,
  rows: SourceRow[],
  names: Awaited<ReturnType<typeof exportContext>>,
): Promise<Cell[][]> {
  const common = (row: SourceRow) => ({
    id: row.id,
    responsible: row.responsible_id ? (names.email.get(row.responsible_id) ?? '') : '',
    source: row.source,
    sourceKind: row.source_kind,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  });
  let objects: Record<string, Cell>[];
  if (kind === 'contact') {
    const contacts = await presentContacts(
      ctx.store.db,
      rows.map((row) => row.id),
    );
    objects = contacts.map((c, index) => ({
      ...common(rows[index]!),
      name: c.name,
      phones: c.phones.join('; '),
      emails: c.emails.join('; '),
      notes: c.notes,
      photoUrl: c.photoUrl,
      companyId: c.companyId,
      consentMissing: c.consentMissing,
    }));
  } else if (kind === 'company') {
    objects = (rows as CompanyRow[]).map((row) => ({ ...common(row), name: row.name, notes: row.notes }));
  } else if (kind === 'lead') {
    objects = (rows as LeadRow[]).map((row) => ({
      ...common(row),
      title: row.title,
      status: row.status,
      contactId: row.contact_id,
      companyId: row.company_id,
      consentMissing: row.consent_missing,
    }));
  } else {
    objects = (rows as unknown as DealRow[]).map((row) => {
      const stage = names.stage.get(row.stage_id);
      return {
        ...common(row),
        title: row.title,
        pipeline: stage?.pipeline ?? '',
        stage: stage?.stage ?? '',
        contactId: row.contact_id,
        companyId: row.company_id,
        leadId: row.lead_id,
        consentMissing: row.consent_missing,
        closedAt: row.closed_at?.toISOString() ?? null,
      };
    });
  }
  return objects.map((object) =>
    EXPORT_COLUMNS[kind].map((column) => {
      const value = object[column] ?? null;
      return typeof value === 'string' ? spreadsheetSafe(value) : value;
    }),
  );
}

/**
 * The records the actor may see (the list's filters apply; `cursor` and `limit` do not), as a CSV
 * stream: a header row, then the records newest change first. The scope is checked before the
 * first byte is sent.
 */
export async function exportRecords(
  ctx: AppContext,
  actor: Actor,
  kind: CsvKind,
  query: CrmListQuery,
): Promise<Readable> {
  authorizeScope(actor, 'crm', 'own');
  const names = await exportContext(ctx, actor);
  const filters = { ...query, cursor: undefined, limit: PAGE };
  async function* pages(): AsyncGenerator<Cell[]> {
    yield [...EXPORT_COLUMNS[kind]];
    let cursor: string | undefined;
    do {
      const page = await listPage(ctx, actor, kind, { ...filters, ...(cursor ? { cursor } : {}) });
      for (const cells of await cellsOf(ctx, kind, page.rows, names)) yield cells;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  const csv = stringify({
    record_delimiter: 'windows',
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  return Readable.from(pages()).pipe(csv);
}

/** The per-row report as a 400 problem: each error named `body.csv.<line>.<column>`, and `rows`. */
function importFailed(errors: CrmImportRowError[]): AppError {
  const shown = errors.slice(0, 200);
  return new AppError(
    'validation_failed',
    `${errors.length} error(s) in the file; nothing was imported. ${shown
      .slice(0, 3)
      .map((e) => `Line ${e.row}${e.column ? `, ${e.column}` : ''}: ${e.message}`)
      .join('; ')}`,
    shown.map((e) => ({
      field: `body.csv.${e.row}${e.column ? `.${e.column}` : ''}`,
      message: e.message,
      rule: 'invalid',
    })),
    { rows: shown },
  );
}

/** Parses the file; a file that is not CSV is one error on the line where it broke. */
function parseCsv(text: string): { header: string[]; rows: string[][] } {
  try {
    const lines = parse(text.replace(/^\uFEFF/, ''), {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: false,
    }) as string[][];
    const [header = [], ...rows] = lines;
    return { header: header.map((column) => column.trim()), rows };
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    throw importFailed([
      { row: line, column: '', message: `is not valid CSV: ${(error as Error).message.split('\n')[0]}` },
    ]);
  }
}

async function importLookups(
  ctx: AppContext,
  actor: Actor,
  kind: CsvKind,
  header: string[],
  rows: string[][],
) {
  const db = ctx.store.db;
  const users = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('account_id', '=', actor.accountId)
    .execute();
  const column = (name: string) => {
    const at = header.indexOf(name);
    return at < 0
      ? []
      : rows
          .map((cells) => (cells[at] ?? '').trim().toLowerCase())
          .filter((id) => /^[0-9a-f-]{36}$/.test(id));
  };
  const ids = async (table: 'crm_contacts' | 'crm_companies', wanted: string[]) =>
    wanted.length === 0
      ? new Set<string>()
      : new Set(
          (
            await db
              .selectFrom(table)
              .select('id')
              .where('account_id', '=', actor.accountId)
              .where('id', 'in', [...new Set(wanted)])
              .execute()
          ).map((row) => row.id),
        );
  const identities =
    kind === 'contact'
      ? await db
          .selectFrom('crm_contact_identities')
          .select(['kind', 'value'])
          .where('account_id', '=', actor.accountId)
          .where('kind', 'in', ['phone', 'email'])
          .execute()
      : [];
  const pipelines = await db
    .selectFrom('crm_pipelines')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .execute();
  const stages = await db
    .selectFrom('crm_stages')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('position')
    .execute();
  const defaultPipeline = pipelines.find((p) => p.is_default) ?? pipelines[0];
  return {
    usersByEmail: new Map(users.map((u) => [u.email.toLowerCase(), u.id])),
    actorId: actor.userId,
    contactIds: await ids('crm_contacts', column('contactId')),
    companyIds: await ids('crm_companies', column('companyId')),
    takenIdentities: new Set(identities.map((i) => `${i.kind}:${i.value}`)),
    pipelines: new Map(
      pipelines.map((p) => {
        const own = stages.filter((s) => s.pipeline_id === p.id);
        return [
          p.name.toLowerCase(),
          {
            id: p.id,
            stages: new Map(own.map((s) => [s.name.toLowerCase(), s.id])),
            firstStageId: own[0]?.id ?? '',
          },
        ];
      }),
    ),
    defaultPipeline: defaultPipeline?.name.toLowerCase() ?? '',
  };
}

/**
 * Imports a CSV of one kind of record. Every row is checked first; with any error (or `dryRun`)
 * nothing is written and the report lists each error by line and column. Otherwise every record
 * is written in one transaction, with source `import` and one `crm.record.created` event each.
 */
export async function importRecords(
  ctx: AppContext,
  actor: Actor,
  kind: CsvKind,
  input: CrmImportBody,
): Promise<CrmImportResult> {
  authorizeScope(actor, 'crm', 'own');
  const { header, rows } = parseCsv(input.csv);
  if (rows.length > MAX_CRM_IMPORT_ROWS)
    throw importFailed([
      {
        row: MAX_CRM_IMPORT_ROWS + 2,
        column: '',
        message: `the file has more than ${MAX_CRM_IMPORT_ROWS} rows`,
      },
    ]);
  const headerErrors = checkHeader(kind, header);
  if (headerErrors.length > 0) throw importFailed(headerErrors);
  const lookups = await importLookups(ctx, actor, kind, header, rows);
  const { records, errors } = checkImportRows(kind, header, rows, lookups);
  // Responsibles outside the importer's scope are row errors too.
  const allowed = new Map<string, boolean>();
  for (const record of records) {
    if (!allowed.has(record.responsibleId)) {
      allowed.set(
        record.responsibleId,
        await checkResponsible(ctx.store.db as never, actor, record.responsibleId, 'responsible').then(
          () => true,
          () => false,
        ),
      );
    }
    if (!allowed.get(record.responsibleId))
      errors.push({
        row: record.row,
        column: 'responsible',
        message: 'must be a user inside your CRM scope',
      });
  }
  errors.sort((a, b) => a.row - b.row);
  if (errors.length > 0) throw importFailed(errors);
  if (input.dryRun) return { created: 0, rows: rows.length, dryRun: true };
  try {
    await runInTransaction(ctx, async (uow) => writeRecords(ctx, uow, actor, kind, records));
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError(
        'conflict',
        'A phone or e-mail of the file was given to another contact meanwhile; nothing was imported',
      );
    throw error;
  }
  return { created: records.length, rows: rows.length, dryRun: false };
}

async function writeRecords(
  ctx: AppContext,
  uow: Parameters<Parameters<typeof runInTransaction>[1]>[0],
  actor: Actor,
  kind: CsvKind,
  records: ImportedRecord[],
) {
  const { tx } = uow;
  const now = ctx.clock.now();
  const base = (r: ImportedRecord) => ({
    account_id: actor.accountId,
    responsible_id: r.responsibleId,
    source_kind: 'import',
    source: r.source,
    created_at: now,
    updated_at: now,
  });
  for (let start = 0; start < records.length; start += PAGE) {
    const chunk = records.slice(start, start + PAGE);
    let ids: string[];
    if (kind === 'contact') {
      ids = (
        await tx
          .insertInto('crm_contacts')
          .values(
            chunk.map((r) => ({
              ...base(r),
              name: r.name,
              notes: r.notes,
              photo_url: r.photoUrl,
              company_id: r.companyId,
            })),
          )
          .returning('id')
          .execute()
      ).map((row) => row.id);
      const identities = chunk.flatMap((r, index) => [
        ...r.phones.map((value) => ({
          account_id: actor.accountId,
          contact_id: ids[index]!,
          kind: 'phone' as const,
          value,
        })),
        ...r.emails.map((value) => ({
          account_id: actor.accountId,
          contact_id: ids[index]!,
          kind: 'email' as const,
          value,
        })),
      ]);
      // A phone or e-mail taken meanwhile fails the unique key: the whole import rolls back.
      if (identities.length > 0) await tx.insertInto('crm_contact_identities').values(identities).execute();
    } else if (kind === 'company') {
      ids = (
        await tx
          .insertInto('crm_companies')
          .values(chunk.map((r) => ({ ...base(r), name: r.name, notes: r.notes })))
          .returning('id')
          .execute()
      ).map((row) => row.id);
    } else if (kind === 'lead') {
      ids = (
        await tx
          .insertInto('crm_leads')
          .values(
            chunk.map((r) => ({
              ...base(r),
              title: r.name,
              status: r.status,
              contact_id: r.contactId,
              company_id: r.companyId,
            })),
          )
          .returning('id')
          .execute()
      ).map((row) => row.id);
    } else {
      const semantics = new Map(
        (
          await tx
            .selectFrom('crm_stages')
            .select(['id', 'semantics'])
            .where('account_id', '=', actor.accountId)
            .execute()
        ).map((s) => [s.id, s.semantics]),
      );
      ids = (
        await tx
          .insertInto('crm_deals')
          .values(
            chunk.map((r) => ({
              ...base(r),
              title: r.name,
              pipeline_id: r.pipelineId!,
              stage_id: r.stageId!,
              contact_id: r.contactId,
              company_id: r.companyId,
              closed_at: semantics.get(r.stageId!) === 'open' ? null : now,
            })),
          )
          .returning('id')
          .execute()
      ).map((row) => row.id);
    }
    chunk.forEach((r, index) => {
      uow.events.emit(actor.accountId, 'crm.record.created', ref(kind, ids[index]!, r.responsibleId));
    });
  }
}
