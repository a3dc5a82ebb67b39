import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EraseClientBody,
  ErasureSummarySchema,
  IdParams,
  PrivacySettingsSchema,
  UpdatePrivacySettingsBody,
} from '@openlines/contract';
import type { AppContext } from '../../context';
import { eraseClientOnRequest, getPrivacySettings, updatePrivacySettings } from '../../services/privacy';
import { actorOf } from '../auth';

/** A client's right to erasure and the account's retention (docs/privacy.md); managePersonalData. */
export const privacyRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/clients/:id/erase',
    {
      schema: {
        tags: ['privacy'],
        summary:
          "Erase or anonymise a client's personal data (needs managePersonalData; confirm with the client's name)",
        params: IdParams,
        body: EraseClientBody,
        response: { 200: ErasureSummarySchema },
      },
    },
    async (request) => eraseClientOnRequest(ctx, actorOf(request), request.params.id, request.body),
  );
  app.get(
    '/privacy/settings',
    {
      schema: {
        tags: ['privacy'],
        summary: "The account's retention of messages and files (needs managePersonalData)",
        response: { 200: PrivacySettingsSchema },
      },
    },
    async (request) => getPrivacySettings(ctx, actorOf(request)),
  );
  app.patch(
    '/privacy/settings',
    {
      schema: {
        tags: ['privacy'],
        summary: "Change the account's retention (days, or null to keep; needs managePersonalData)",
        body: UpdatePrivacySettingsBody,
        response: { 200: PrivacySettingsSchema },
      },
    },
    async (request) => updatePrivacySettings(ctx, actorOf(request), request.body),
  );
};
