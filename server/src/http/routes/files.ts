import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AttachmentSchema } from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import { openFile, storeFile } from '../../services/files';
import { actorOf } from '../auth';
import { readUploadedFile } from '../uploads';

const FileParams = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    signature: Type.String({ minLength: 1, maxLength: 100 }),
    name: Type.String({ maxLength: 400 }),
  },
  { additionalProperties: false },
);

export const fileRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/files',
    {
      schema: {
        tags: ['files'],
        summary:
          'Upload an attachment (multipart/form-data, one part named "file"); send its result in a message',
        consumes: ['multipart/form-data'],
        response: { 201: AttachmentSchema },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const part = await readUploadedFile(
        request,
        ctx.config.maxUploadBytes,
        `Files may be at most ${ctx.config.maxUploadBytes} bytes`,
      );
      const data = part.data;
      const stored = await storeFile(
        ctx,
        {
          accountId: actor.accountId,
          name: part.filename,
          mimeType: part.mimetype,
          data,
          uploadedBy: { kind: 'user', id: actor.userId },
        },
        ctx.publicUrl.value,
      );
      return reply.status(201).send(stored.attachment);
    },
  );

  app.get(
    '/files/:id/:signature/:name',
    {
      config: { public: true },
      schema: {
        tags: ['files'],
        summary: 'Download an attachment by its link (the link is the permission)',
        params: FileParams,
      },
    },
    async (request, reply) => {
      const file = await openFile(ctx, request.params.id, request.params.signature);
      const disposition = `${file.inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`;
      return reply
        .header('content-type', file.inline ? file.mimeType : 'application/octet-stream')
        .header('content-length', String(file.size))
        .header('content-disposition', disposition)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=86400')
        .send(file.stream);
    },
  );
};
