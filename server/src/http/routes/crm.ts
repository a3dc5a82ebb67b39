import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ConvertCrmLeadBody,
  CrmActivityParams,
  CrmActivitySchema,
  CrmAdapterBody,
  CrmAdapterSchema,
  CrmCompanyBody,
  CrmCompanySchema,
  CrmContactBody,
  CrmContactSchema,
  CrmConversionSchema,
  CrmDealBody,
  CrmDealSchema,
  CrmDialogCardSchema,
  CrmImportBody,
  CrmImportResultSchema,
  CrmKindParams,
  CrmLeadBody,
  CrmLeadSchema,
  CrmLinkBody,
  CrmListQuery,
  CrmPage,
  CrmPipelineBody,
  CrmPipelineSchema,
  IdParams,
  IdSchema,
  MergeCrmContactsBody,
  MessageSchema,
  UpdateCrmCompanyBody,
  UpdateCrmContactBody,
  UpdateCrmDealBody,
  UpdateCrmLeadBody,
  UpdateCrmPipelineBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import * as adapter from '../../services/crm/adapter';
import * as conversion from '../../services/crm/conversion';
import * as csv from '../../services/crm/csv';
import * as crm from '../../services/crm/records';
import { actorOf } from '../auth';

const KIND = { contacts: 'contact', leads: 'lead', deals: 'deal' } as const;
const tags = ['crm'];
const scoped = 'Needs the `crm` scope; records outside it answer 404.';

/** The built-in CRM (SPEC §12) under /api/v1/crm. */
export const crmRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const resource = <B, U, R>(
    path: string,
    item: Parameters<typeof Type.Array>[0],
    body: Parameters<typeof Type.Array>[0],
    update: Parameters<typeof Type.Array>[0],
    handlers: {
      list: (
        actor: ReturnType<typeof actorOf>,
        query: typeof CrmListQuery.static,
      ) => Promise<{ items: unknown[]; nextCursor: string | null }>;
      get: (actor: ReturnType<typeof actorOf>, id: string) => Promise<R>;
      create: (actor: ReturnType<typeof actorOf>, input: B) => Promise<R>;
      update: (actor: ReturnType<typeof actorOf>, id: string, input: U) => Promise<R>;
      kind: 'contact' | 'company' | 'lead' | 'deal';
    },
  ) => {
    app.get(
      `/crm/${path}`,
      {
        schema: {
          tags,
          summary: `List ${path}: search, filters, newest change first, cursor pages. ${scoped}`,
          querystring: CrmListQuery,
          response: { 200: CrmPage(item) },
        },
      },
      async (request) => handlers.list(actorOf(request), request.query),
    );
    app.get(
      `/crm/${path}/:id`,
      { schema: { tags, summary: `One of the ${path}`, params: IdParams, response: { 200: item } } },
      async (request) => handlers.get(actorOf(request), request.params.id),
    );
    app.post(
      `/crm/${path}`,
      { schema: { tags, summary: `Create one of the ${path}. ${scoped}`, body, response: { 201: item } } },
      async (request, reply) =>
        reply.status(201).send(await handlers.create(actorOf(request), request.body as B)),
    );
    app.patch(
      `/crm/${path}/:id`,
      {
        schema: {
          tags,
          summary: `Change one of the ${path}`,
          params: IdParams,
          body: update,
          response: { 200: item },
        },
      },
      async (request) => handlers.update(actorOf(request), request.params.id, request.body as U),
    );
    app.delete(
      `/crm/${path}/:id`,
      {
        schema: {
          tags,
          summary: `Delete one of the ${path}; attached dialogs stay, unlinked`,
          params: IdParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await crm.deleteRecord(ctx, actorOf(request), handlers.kind, request.params.id);
        return reply.status(204).send(null);
      },
    );
    app.get(
      `/crm/${path}/export`,
      {
        schema: {
          tags,
          summary: `Every one of the ${path} the list's filters select, as CSV (streamed; \`cursor\` and \`limit\` are ignored). ${scoped}`,
          querystring: CrmListQuery,
          produces: ['text/csv'],
          response: {
            200: {
              description: 'A header row, then one row per record (docs/crm.md lists the columns)',
              content: { 'text/csv': { schema: Type.String() } },
            },
          },
        },
      },
      async (request, reply) => {
        const stream = await csv.exportRecords(ctx, actorOf(request), handlers.kind, request.query);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${path}.csv"`)
          .send(stream as unknown as string);
      },
    );
    app.post(
      `/crm/${path}/import`,
      {
        schema: {
          tags,
          summary: `Import ${path} from CSV: every row is checked first; with any error nothing is written and the 400 problem lists each error by line and column (\`rows\`); with dryRun nothing is written either. ${scoped}`,
          body: CrmImportBody,
          response: { 200: CrmImportResultSchema },
        },
      },
      async (request) => csv.importRecords(ctx, actorOf(request), handlers.kind, request.body),
    );
  };

  resource('contacts', CrmContactSchema, CrmContactBody, UpdateCrmContactBody, {
    kind: 'contact',
    list: (actor, query) => crm.listContacts(ctx, actor, query),
    get: (actor, id) => crm.getContact(ctx, actor, id),
    create: (actor, input: typeof CrmContactBody.static) => crm.createContact(ctx, actor, input),
    update: (actor, id, input: typeof UpdateCrmContactBody.static) =>
      crm.updateContact(ctx, actor, id, input),
  });
  resource('companies', CrmCompanySchema, CrmCompanyBody, UpdateCrmCompanyBody, {
    kind: 'company',
    list: (actor, query) => crm.listCompanies(ctx, actor, query),
    get: (actor, id) => crm.getCompany(ctx, actor, id),
    create: (actor, input: typeof CrmCompanyBody.static) => crm.createCompany(ctx, actor, input),
    update: (actor, id, input: typeof UpdateCrmCompanyBody.static) =>
      crm.updateCompany(ctx, actor, id, input),
  });
  resource('leads', CrmLeadSchema, CrmLeadBody, UpdateCrmLeadBody, {
    kind: 'lead',
    list: (actor, query) => crm.listLeads(ctx, actor, query),
    get: (actor, id) => crm.getLead(ctx, actor, id),
    create: (actor, input: typeof CrmLeadBody.static) => crm.createLead(ctx, actor, input),
    update: (actor, id, input: typeof UpdateCrmLeadBody.static) => crm.updateLead(ctx, actor, id, input),
  });
  resource('deals', CrmDealSchema, CrmDealBody, UpdateCrmDealBody, {
    kind: 'deal',
    list: (actor, query) => crm.listDeals(ctx, actor, query),
    get: (actor, id) => crm.getDeal(ctx, actor, id),
    create: (actor, input: typeof CrmDealBody.static) => crm.createDeal(ctx, actor, input),
    update: (actor, id, input: typeof UpdateCrmDealBody.static) => crm.updateDeal(ctx, actor, id, input),
  });

  app.post(
    '/crm/leads/:id/convert',
    {
      schema: {
        tags,
        summary:
          'Convert an open lead into a contact (existing or new), optionally a company, and a deal; the lead becomes converted and keeps its dialogs, which the contact and deal get too',
        params: IdParams,
        body: ConvertCrmLeadBody,
        response: { 200: CrmConversionSchema },
      },
    },
    async (request) => conversion.convertLead(ctx, actorOf(request), request.params.id, request.body),
  );
  app.post(
    '/crm/contacts/:id/merge',
    {
      schema: {
        tags,
        summary:
          'Merge a duplicate contact into this one: its phones, e-mails, channel users, dialogs, leads and deals move here, the fields named in `take` come from it, and it is deleted (audited)',
        params: IdParams,
        body: MergeCrmContactsBody,
        response: { 200: CrmContactSchema },
      },
    },
    async (request) => conversion.mergeContacts(ctx, actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/crm/:kind/:id/dialogs',
    {
      schema: {
        tags,
        summary:
          'Attach a dialog (its current or latest session; a contact also becomes its client’s). AG-3: without the client’s consent, answers 409 consent_required unless `confirmed`.',
        params: CrmKindParams,
        body: CrmLinkBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await crm.linkDialog(ctx, actorOf(request), KIND[request.params.kind], request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    '/crm/:kind/:id/dialogs/:dialogId',
    {
      schema: {
        tags,
        summary: 'Detach a dialog from the record',
        params: Type.Object(
          { ...CrmKindParams.properties, dialogId: IdSchema },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { kind, id, dialogId } = request.params;
      await crm.unlinkDialog(ctx, actorOf(request), KIND[kind], id, dialogId);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/crm/:kind/:id/activities',
    {
      schema: {
        tags,
        summary: 'The sessions attached to the record, newest first (CRM-3)',
        params: CrmKindParams,
        response: { 200: Type.Array(CrmActivitySchema) },
      },
    },
    async (request) =>
      crm.recordActivities(ctx, actorOf(request), KIND[request.params.kind], request.params.id),
  );
  app.get(
    '/crm/:kind/:id/activities/:sessionId/messages',
    {
      schema: {
        tags,
        summary:
          'The transcript of one session on the record’s timeline, oldest first, without private notes (CRM-3; at most 500 messages). Whoever sees the record sees it; a session not attached to the record answers 404.',
        params: CrmActivityParams,
        response: { 200: Type.Array(MessageSchema) },
      },
    },
    async (request) => {
      const { kind, id, sessionId } = request.params;
      return crm.activityTranscript(ctx, actorOf(request), KIND[kind], id, sessionId);
    },
  );
  app.get(
    '/crm/dialogs/:id',
    {
      schema: {
        tags,
        summary: 'The client card’s CRM block for a dialog (OP-2)',
        params: IdParams,
        response: { 200: CrmDialogCardSchema },
      },
    },
    async (request) => crm.dialogCard(ctx, actorOf(request), request.params.id),
  );

  app.get(
    '/crm/pipelines',
    {
      schema: {
        tags,
        summary: 'Deal pipelines with their stages in order',
        response: { 200: Type.Array(CrmPipelineSchema) },
      },
    },
    async (request) => crm.listPipelines(ctx, actorOf(request)),
  );
  app.post(
    '/crm/pipelines',
    {
      schema: {
        tags,
        summary: 'Add a pipeline (needs manageLines)',
        body: CrmPipelineBody,
        response: { 201: CrmPipelineSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await crm.createPipeline(ctx, actorOf(request), request.body)),
  );
  app.patch(
    '/crm/pipelines/:id',
    {
      schema: {
        tags,
        summary: 'Rename a pipeline, make it the default, or set its stages in order (needs manageLines)',
        params: IdParams,
        body: UpdateCrmPipelineBody,
        response: { 200: CrmPipelineSchema },
      },
    },
    async (request) => crm.updatePipeline(ctx, actorOf(request), request.params.id, request.body),
  );
  app.delete(
    '/crm/pipelines/:id',
    {
      schema: {
        tags,
        summary: 'Delete a pipeline without deals that is not the default (needs manageLines)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await crm.deletePipeline(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/crm/adapter',
    {
      schema: {
        tags,
        summary:
          "The account's CRM: built-in or an external one's adapter, and its waiting sync jobs (needs manageIntegrations)",
        response: { 200: CrmAdapterSchema },
      },
    },
    async (request) => adapter.getCrmAdapter(ctx, actorOf(request)),
  );
  app.put(
    '/crm/adapter',
    {
      schema: {
        tags,
        summary:
          'Choose the built-in CRM or an external one (`rest`: base URL + API token, kept encrypted; needs manageIntegrations)',
        body: CrmAdapterBody,
        response: { 200: CrmAdapterSchema },
      },
    },
    async (request) => adapter.setCrmAdapter(ctx, actorOf(request), request.body),
  );
};
