import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EditMessageBody, MessageParams, MessageSchema } from '@openlines/contract';
import type { AppContext } from '../../context';
import { deleteMessage, editMessage } from '../../services/message-edits';
import { actorOf } from '../auth';

/** An operator's edit and deletion of their own messages (issue 19; services/message-edits). */
export const messageEditRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.patch(
    '/dialogs/:id/messages/:messageId',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          'Edit my message: colleagues and the widget see the new text at once; Telegram edits its copy',
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: MessageSchema },
      },
    },
    async (request) =>
      editMessage(ctx, actorOf(request), request.params.id, request.params.messageId, request.body),
  );
  app.delete(
    '/dialogs/:id/messages/:messageId',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          'Delete my message: it stays in the timeline as "deleted"; the widget and Telegram remove it',
        params: MessageParams,
        response: { 200: MessageSchema },
      },
    },
    async (request) => deleteMessage(ctx, actorOf(request), request.params.id, request.params.messageId),
  );
};
