import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { exportClientData } from '../../services/client-export';
import { actorOf } from '../auth';

export const clientExportRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/clients/:id/export',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Everything stored about one client, as a zip (needs managePersonalData; audited)',
        description:
          'A client’s right of access (152-FZ art. 14, GDPR art. 15). The zip is streamed: `client.json` (client record, identities, widget visitor records, dialogs, sessions and their state changes, consent decisions with the agreement text version, CRM rows linked to the client, the list of files), `messages.json` (every message of the client’s dialogs) and `files/<id>/<name>` (the attachments). The export is written to the audit log.',
        params: IdParams,
        produces: ['application/zip'],
        response: {
          // A stream, never serialised: the schema only describes it in the OpenAPI document.
          200: Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'The zip' }),
        },
      },
    },
    async (request, reply) => {
      const exported = await exportClientData(ctx, actorOf(request), request.params.id);
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${exported.fileName}"`)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(exported.stream);
    },
  );
};
