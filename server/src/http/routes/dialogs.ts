import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CloseBody,
  ConsentRecordSchema,
  DialogListQuery,
  DialogPageSchema,
  DialogSchema,
  IdParams,
  InviteBody,
  MessageListQuery,
  MessageSchema,
  SendMessageBody,
  SupervisorRatingBody,
  TransferBody,
  TransitionSchema,
  TypingBody,
} from '@openlines/contract';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context';
import {
  closeDialog,
  inviteToDialog,
  leaveDialog,
  markSpam,
  operatorTyping,
  sendMessage,
  setPinned,
  skipDialog,
  takeDialog,
  transferDialog,
} from '../../services/actions';
import { listDialogConsents } from '../../services/automation/consent';
import { rateBySupervisor } from '../../services/automation/rating';
import { getDialog, listDialogs, listMessages, listTransitions } from '../../services/dialogs';
import { actorOf } from '../auth';

const Action = (summary: string) => ({
  schema: { tags: ['dialogs'], summary, params: IdParams, response: { 200: DialogSchema } },
});

export const dialogRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/dialogs',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Dialogs I may see: the queue, mine, or all, with filters, a page at a time (OP-1)',
        querystring: DialogListQuery,
        response: { 200: DialogPageSchema },
      },
    },
    async (request) => listDialogs(ctx, actorOf(request), request.query),
  );
  app.get(
    '/dialogs/:id',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'One dialog with its client and current session',
        params: IdParams,
        response: { 200: DialogSchema },
      },
    },
    async (request) => getDialog(ctx, actorOf(request), request.params.id),
  );
  app.get(
    '/dialogs/:id/messages',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Message history across sessions, oldest first; page back with before=<createdAt>',
        params: IdParams,
        querystring: MessageListQuery,
        response: { 200: Type.Array(MessageSchema) },
      },
    },
    async (request) => listMessages(ctx, actorOf(request), request.params.id, request.query),
  );
  app.get(
    '/dialogs/:id/transitions',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Every session state change with time, actor and reason (SPEC §15)',
        params: IdParams,
        response: { 200: Type.Array(TransitionSchema) },
      },
    },
    async (request) => listTransitions(ctx, actorOf(request), request.params.id),
  );
  app.get(
    '/dialogs/:id/consents',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          "The client's consent decisions on the dialog's line (AG-2), oldest first, with the agreement text version",
        params: IdParams,
        response: { 200: Type.Array(ConsentRecordSchema) },
      },
    },
    async (request) => listDialogConsents(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/messages',
    {
      schema: {
        tags: ['dialogs'],
        summary:
          'Send a message to the client, or a private note (which may mention colleagues); answering a waiting dialog takes it',
        params: IdParams,
        body: SendMessageBody,
        response: { 201: MessageSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await sendMessage(ctx, actorOf(request), request.params.id, request.body)),
  );
  app.post(
    '/dialogs/:id/take',
    Action('Take a waiting dialog (from the queue or an offer)'),
    async (request) => takeDialog(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/skip',
    Action('Give the dialog back to the queue; it goes to the next operator'),
    async (request) => skipDialog(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/transfer',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Transfer to an operator or to another line',
        params: IdParams,
        body: TransferBody,
        response: { 200: DialogSchema },
      },
    },
    async (request) => transferDialog(ctx, actorOf(request), request.params.id, request.body),
  );
  app.post(
    '/dialogs/:id/invite',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Invite a colleague to consult (private) or hand the dialog over',
        params: IdParams,
        body: InviteBody,
        response: { 200: DialogSchema },
      },
    },
    async (request) => inviteToDialog(ctx, actorOf(request), request.params.id, request.body),
  );
  app.post('/dialogs/:id/leave', Action('Stop consulting on a dialog'), async (request) =>
    leaveDialog(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/close',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Close the session (confirmed: true when the line asks to confirm)',
        params: IdParams,
        body: Type.Optional(CloseBody),
        response: { 200: DialogSchema },
      },
    },
    async (request) =>
      closeDialog(ctx, actorOf(request), request.params.id, request.body?.confirmed === true),
  );
  app.post(
    '/dialogs/:id/spam',
    Action('Mark the client as spam: closes, and their next messages are not routed'),
    async (request) => markSpam(ctx, actorOf(request), request.params.id),
  );
  app.post(
    '/dialogs/:id/pin',
    Action('Pin: the client’s next sessions come back to this operator'),
    async (request) => setPinned(ctx, actorOf(request), request.params.id, true),
  );
  app.post('/dialogs/:id/unpin', Action('Unpin the dialog'), async (request) =>
    setPinned(ctx, actorOf(request), request.params.id, false),
  );
  app.post(
    '/sessions/:id/supervisor-rating',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Rate a session as a supervisor: 1–5 and/or a comment (QR-3)',
        params: IdParams,
        body: SupervisorRatingBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await rateBySupervisor(ctx, actorOf(request), request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );
  app.post(
    '/dialogs/:id/typing',
    {
      schema: {
        tags: ['dialogs'],
        summary: 'Typing indicator; not stored',
        params: IdParams,
        body: TypingBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await operatorTyping(ctx, actorOf(request), request.params.id, request.body.text ?? null);
      return reply.status(204).send(null);
    },
  );
};
