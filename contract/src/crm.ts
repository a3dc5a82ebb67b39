import { type Static, Type } from '@sinclair/typebox';
import { IdSchema, Timestamp } from './common';

/**
 * The built-in CRM (SPEC §12): contacts with several identities, companies, leads with statuses,
 * deals in pipelines with ordered stages. Every record has a responsible user and a source. The
 * `crm` scope (own / department / all, by the responsible user) decides which records a user sees
 * and edits; pipelines are edited by users who manage lines.
 */

const Title = Type.String({ minLength: 1, maxLength: 200 });
const Notes = Type.String({ maxLength: 5000 });
const Source = Type.String({ maxLength: 200 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const CrmLeadStatusSchema = Type.Union(
  [Type.Literal('new'), Type.Literal('in_progress'), Type.Literal('converted'), Type.Literal('junk')],
  { description: 'new / in progress / converted / junk' },
);
export type CrmLeadStatus = Static<typeof CrmLeadStatusSchema>;
export const CrmStageSemanticsSchema = Type.Union([
  Type.Literal('open'),
  Type.Literal('won'),
  Type.Literal('lost'),
]);

/** Who owns a record and where it came from: a channel kind, or `manual` / `api`. */
const recordFields = {
  id: IdSchema,
  responsibleId: Nullable(IdSchema),
  sourceKind: Type.String({ description: 'The channel kind the record came from, or manual / api' }),
  sourceChannelId: Nullable(IdSchema),
  source: Type.String({ description: 'CRM_SOURCE: the line name, or the chosen source id' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const CrmContactSchema = Type.Object(
  {
    ...recordFields,
    name: Type.String(),
    photoUrl: Nullable(Type.String()),
    notes: Type.String(),
    companyId: Nullable(IdSchema),
    /** The client of the dialogs this contact was created from, if any. */
    clientId: Nullable(IdSchema),
    phones: Type.Array(Type.String({ description: 'E.164' })),
    emails: Type.Array(Type.String()),
    /** Channel users (`<channel id>:<user id>`) the contact is recognised by. */
    channelUsers: Type.Array(Type.String()),
    /** AG-3: saved by hand although the client had not consented. */
    consentMissing: Type.Boolean(),
  },
  { title: 'CrmContact' },
);
export type CrmContact = Static<typeof CrmContactSchema>;

export const CrmCompanySchema = Type.Object(
  { ...recordFields, name: Type.String(), notes: Type.String() },
  { title: 'CrmCompany' },
);
export type CrmCompany = Static<typeof CrmCompanySchema>;

export const CrmLeadSchema = Type.Object(
  {
    ...recordFields,
    title: Type.String(),
    status: CrmLeadStatusSchema,
    contactId: Nullable(IdSchema),
    consentMissing: Type.Boolean(),
    /** The company a converted lead became (or was linked to); null before conversion. */
    companyId: Nullable(IdSchema),
  },
  { title: 'CrmLead' },
);
export type CrmLead = Static<typeof CrmLeadSchema>;

export const CrmDealSchema = Type.Object(
  {
    ...recordFields,
    title: Type.String(),
    pipelineId: IdSchema,
    stageId: IdSchema,
    contactId: Nullable(IdSchema),
    companyId: Nullable(IdSchema),
    consentMissing: Type.Boolean(),
    /** When the deal reached a won or lost stage; null while open. */
    closedAt: Nullable(Timestamp),
    /** The lead this deal was converted from, if any. */
    leadId: Nullable(IdSchema),
  },
  { title: 'CrmDeal' },
);
export type CrmDeal = Static<typeof CrmDealSchema>;

export const CrmStageSchema = Type.Object(
  { id: IdSchema, name: Type.String(), position: Type.Integer(), semantics: CrmStageSemanticsSchema },
  { title: 'CrmStage' },
);
export type CrmStage = Static<typeof CrmStageSchema>;

export const CrmPipelineSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    isDefault: Type.Boolean(),
    position: Type.Integer(),
    stages: Type.Array(CrmStageSchema),
  },
  { title: 'CrmPipeline' },
);
export type CrmPipeline = Static<typeof CrmPipelineSchema>;

/** A session as an activity on a record (CRM-3): opening it jumps to the dialog. */
export const CrmActivitySchema = Type.Object(
  {
    sessionId: IdSchema,
    dialogId: IdSchema,
    lineId: IdSchema,
    status: Type.String(),
    operatorId: Nullable(IdSchema),
    createdAt: Timestamp,
    closedAt: Nullable(Timestamp),
    rating: Nullable(Type.String()),
  },
  { title: 'CrmActivity' },
);
export type CrmActivity = Static<typeof CrmActivitySchema>;

/** One session on a record's timeline: the record (as `CrmKindParams`) and the session. */
export const CrmActivityParams = Type.Object(
  {
    kind: Type.Union([Type.Literal('contacts'), Type.Literal('leads'), Type.Literal('deals')]),
    id: IdSchema,
    sessionId: IdSchema,
  },
  { additionalProperties: false },
);

export const CrmListQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 200 })),
    responsibleId: Type.Optional(IdSchema),
    sourceKind: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    /** Leads: the status; deals: the stage id. */
    status: Type.Optional(CrmLeadStatusSchema),
    stageId: Type.Optional(IdSchema),
    pipelineId: Type.Optional(IdSchema),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    /** The `nextCursor` of the previous page. */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CrmListQuery = Static<typeof CrmListQuery>;

export function CrmPage<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });
}

/** AG-3: saving a record for a client without consent needs `confirmed: true`. */
const linkFields = {
  /** Attach the dialog's current (or latest) session and its client to the record. */
  dialogId: Type.Optional(IdSchema),
  confirmed: Type.Optional(Type.Boolean({ description: 'AG-3: save although the client has not consented' })),
};
const PhoneList = Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 });
const EmailList = Type.Array(Type.String({ minLength: 1, maxLength: 254 }), { maxItems: 10 });

export const CrmContactBody = Type.Object(
  {
    name: Title,
    phones: Type.Optional(PhoneList),
    emails: Type.Optional(EmailList),
    notes: Type.Optional(Notes),
    photoUrl: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2000 }))),
    companyId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
    ...linkFields,
  },
  { additionalProperties: false },
);
export type CrmContactBody = Static<typeof CrmContactBody>;
export const UpdateCrmContactBody = Type.Object(
  {
    name: Type.Optional(Title),
    phones: Type.Optional(PhoneList),
    emails: Type.Optional(EmailList),
    notes: Type.Optional(Notes),
    photoUrl: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2000 }))),
    companyId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCrmContactBody = Static<typeof UpdateCrmContactBody>;

export const CrmCompanyBody = Type.Object(
  {
    name: Title,
    notes: Type.Optional(Notes),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
  },
  { additionalProperties: false },
);
export type CrmCompanyBody = Static<typeof CrmCompanyBody>;
export const UpdateCrmCompanyBody = Type.Partial(CrmCompanyBody, {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateCrmCompanyBody = Static<typeof UpdateCrmCompanyBody>;

export const CrmLeadBody = Type.Object(
  {
    title: Title,
    status: Type.Optional(CrmLeadStatusSchema),
    contactId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
    ...linkFields,
  },
  { additionalProperties: false },
);
export type CrmLeadBody = Static<typeof CrmLeadBody>;
export const UpdateCrmLeadBody = Type.Object(
  {
    title: Type.Optional(Title),
    status: Type.Optional(CrmLeadStatusSchema),
    contactId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCrmLeadBody = Static<typeof UpdateCrmLeadBody>;

export const CrmDealBody = Type.Object(
  {
    title: Title,
    /** Default: the default pipeline. */
    pipelineId: Type.Optional(IdSchema),
    /** Default: the pipeline's first stage. */
    stageId: Type.Optional(IdSchema),
    contactId: Type.Optional(Nullable(IdSchema)),
    companyId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
    ...linkFields,
  },
  { additionalProperties: false },
);
export type CrmDealBody = Static<typeof CrmDealBody>;
export const UpdateCrmDealBody = Type.Object(
  {
    title: Type.Optional(Title),
    stageId: Type.Optional(IdSchema),
    contactId: Type.Optional(Nullable(IdSchema)),
    companyId: Type.Optional(Nullable(IdSchema)),
    responsibleId: Type.Optional(Nullable(IdSchema)),
    source: Type.Optional(Source),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCrmDealBody = Static<typeof UpdateCrmDealBody>;

const StageInput = Type.Object(
  {
    /** An existing stage of this pipeline; without it, a new stage. */
    id: Type.Optional(IdSchema),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    semantics: Type.Optional(CrmStageSemanticsSchema),
  },
  { additionalProperties: false },
);
export const CrmPipelineBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    /** The stages in order; a stage left out is deleted (refused while deals are in it). */
    stages: Type.Array(StageInput, { minItems: 1, maxItems: 30 }),
    isDefault: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CrmPipelineBody = Static<typeof CrmPipelineBody>;
export const UpdateCrmPipelineBody = Type.Partial(CrmPipelineBody, {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateCrmPipelineBody = Static<typeof UpdateCrmPipelineBody>;

export const CrmLinkBody = Type.Object(
  { dialogId: IdSchema, confirmed: linkFields.confirmed },
  { additionalProperties: false },
);
export type CrmLinkBody = Static<typeof CrmLinkBody>;

export const CrmKindParams = Type.Object(
  {
    kind: Type.Union([Type.Literal('contacts'), Type.Literal('leads'), Type.Literal('deals')]),
    id: IdSchema,
  },
  { additionalProperties: false },
);

/** The client card's CRM block (OP-2): what the dialog's client is in the CRM. */
export const CrmDialogCardSchema = Type.Object(
  {
    dialogId: IdSchema,
    /** The line asks for consent and the client has not given it (AG-3). */
    consentMissing: Type.Boolean(),
    contact: Nullable(CrmContactSchema),
    company: Nullable(CrmCompanySchema),
    /** The contact's leads and deals, open ones first. */
    leads: Type.Array(CrmLeadSchema),
    deals: Type.Array(CrmDealSchema),
    /** What the dialog's current session is attached to. */
    session: Type.Object({
      contactId: Nullable(IdSchema),
      leadId: Nullable(IdSchema),
      dealId: Nullable(IdSchema),
    }),
  },
  { title: 'CrmDialogCard' },
);
export type CrmDialogCard = Static<typeof CrmDialogCardSchema>;

// ----- Lead conversion, merging, CSV (issue 12) ---------------------------------------------

/**
 * Converting a lead (Bitrix24 semantics): the lead becomes `converted` and keeps its sessions;
 * it gets a contact (an existing one, the one it already names, or a new one), optionally a
 * company (existing or new) and a deal (unless `deal` is false). The lead's sessions are attached
 * to the contact and the deal too, so the history shows on every record.
 */
export const ConvertCrmLeadBody = Type.Object(
  {
    /** An existing contact; default: the lead's contact, else a new one named `contactName`. */
    contactId: Type.Optional(IdSchema),
    /** The new contact's name; default: the lead's title. */
    contactName: Type.Optional(Title),
    /** An existing company for the contact and the deal. */
    companyId: Type.Optional(IdSchema),
    /** A new company with this name (not with `companyId`). */
    companyName: Type.Optional(Title),
    /** Make a deal (default true). */
    deal: Type.Optional(Type.Boolean()),
    /** The deal's title; default: the lead's title. */
    dealTitle: Type.Optional(Title),
    /** Default: the default pipeline. */
    pipelineId: Type.Optional(IdSchema),
    /** Default: the pipeline's first stage. */
    stageId: Type.Optional(IdSchema),
  },
  { additionalProperties: false },
);
export type ConvertCrmLeadBody = Static<typeof ConvertCrmLeadBody>;

export const CrmConversionSchema = Type.Object(
  {
    lead: CrmLeadSchema,
    contact: CrmContactSchema,
    company: Nullable(CrmCompanySchema),
    deal: Nullable(CrmDealSchema),
  },
  { title: 'CrmConversion' },
);
export type CrmConversion = Static<typeof CrmConversionSchema>;

/** The contact fields a merge may take from the duplicate instead of the survivor. */
export const CRM_MERGE_FIELDS = ['name', 'photoUrl', 'notes', 'companyId', 'responsibleId'] as const;
export type CrmMergeField = (typeof CRM_MERGE_FIELDS)[number];

/**
 * Merging two contacts that are one person: the record in the path survives, `duplicateId` is
 * deleted after its identities, dialogs, leads and deals moved to the survivor. The survivor keeps
 * its own fields except those named in `take`, which come from the duplicate.
 */
export const MergeCrmContactsBody = Type.Object(
  {
    duplicateId: IdSchema,
    take: Type.Optional(
      Type.Array(Type.Union(CRM_MERGE_FIELDS.map((field) => Type.Literal(field))), {
        maxItems: CRM_MERGE_FIELDS.length,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);
export type MergeCrmContactsBody = Static<typeof MergeCrmContactsBody>;

export const CrmRecordsParams = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('contacts'),
      Type.Literal('companies'),
      Type.Literal('leads'),
      Type.Literal('deals'),
    ]),
  },
  { additionalProperties: false },
);

/** The largest CSV an import takes, in characters, and its most rows. */
export const MAX_CRM_IMPORT_CHARS = 2_000_000;
export const MAX_CRM_IMPORT_ROWS = 5000;

/**
 * A CSV import: every row is checked first; one bad row and nothing is written. A file with
 * errors answers 400 `validation_failed`: `errors` names each as `body.csv.<line>.<column>`, and
 * `rows` lists them as `CrmImportRowError`s.
 */
export const CrmImportBody = Type.Object(
  {
    /** The file: a header row naming the columns (docs/crm.md lists them), then one row per record. */
    csv: Type.String({ minLength: 1, maxLength: MAX_CRM_IMPORT_CHARS }),
    /** Check only; write nothing. */
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CrmImportBody = Static<typeof CrmImportBody>;

export const CrmImportRowErrorSchema = Type.Object({
  /** The line of the file (the header is line 1). */
  row: Type.Integer(),
  /** The column. */
  column: Type.String(),
  message: Type.String(),
});
export type CrmImportRowError = Static<typeof CrmImportRowErrorSchema>;

export const CrmImportResultSchema = Type.Object(
  {
    /** Records written (0 with `dryRun`). */
    created: Type.Integer(),
    /** Rows checked. */
    rows: Type.Integer(),
    dryRun: Type.Boolean(),
  },
  { title: 'CrmImportResult' },
);
export type CrmImportResult = Static<typeof CrmImportResultSchema>;

// ----- External CRMs (CRM-4; docs/crm.md "External CRMs") ------------------------------------------

/** The CRMs a session can go to: the built-in one, or an external one's REST API through an adapter. */
export const CRM_ADAPTER_KINDS = ['builtin', 'rest'] as const;
export type CrmAdapterKind = (typeof CRM_ADAPTER_KINDS)[number];

/** `PUT /crm/adapter`: which CRM the account uses; `rest` needs its base URL and API token. */
export const CrmAdapterBody = Type.Object(
  {
    kind: Type.Union(CRM_ADAPTER_KINDS.map((kind) => Type.Literal(kind))),
    /** The external CRM's API root, `http(s)://…`; required for `rest`. */
    baseUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    /** Sent as `Authorization: Bearer …`; required when the kind or URL changes, else kept. */
    token: Type.Optional(Type.String({ minLength: 8, maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CrmAdapterBody = Static<typeof CrmAdapterBody>;

/** The account's CRM (the token is never shown back) and how its sync jobs stand. */
export const CrmAdapterSchema = Type.Object(
  {
    kind: Type.Union(CRM_ADAPTER_KINDS.map((kind) => Type.Literal(kind))),
    baseUrl: Nullable(Type.String()),
    hasToken: Type.Boolean(),
    /** Sync jobs still waiting (a failing CRM makes them retry, never drop). */
    pending: Type.Integer({ minimum: 0 }),
    /** The last failure of a waiting job, if any. */
    lastError: Nullable(Type.String()),
    updatedAt: Nullable(Timestamp),
  },
  { additionalProperties: false },
);
export type CrmAdapter = Static<typeof CrmAdapterSchema>;
