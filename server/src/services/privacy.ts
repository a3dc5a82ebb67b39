import {
  type EraseClientBody,
  type ErasureSummary,
  isOpen,
  type PrivacySettings,
  type UpdatePrivacySettingsBody,
} from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError, notFound } from '../errors';
import { type Actor, authorize } from './actor';
import { recordAudit } from './audit';
import { eraseClients } from './erasure';
import { lockLines } from './locks';
import { runInTransaction } from './transaction';

/**
 * A client's right to erasure on request (152-FZ art. 14, 21; GDPR art. 17), for an admin with the
 * `managePersonalData` permission, confirmed by the client's name. A client in an open session is
 * refused: close their dialogs first, so no operator is answering someone who no longer exists.
 */
export async function eraseClientOnRequest(
  ctx: AppContext,
  actor: Actor,
  clientId: string,
  body: EraseClientBody,
): Promise<ErasureSummary> {
  authorize(actor, 'managePersonalData');
  return runInTransaction(ctx, async (uow) => {
    const client = await uow.tx
      .selectFrom('clients')
      .select(['id', 'name'])
      .where('account_id', '=', actor.accountId)
      .where('id', '=', clientId)
      .executeTakeFirst();
    if (!client) throw notFound('The client');
    const dialogs = await uow.tx
      .selectFrom('dialogs')
      .select(['id', 'line_id'])
      .where('client_id', '=', clientId)
      .execute();
    // The lines' routing locks keep a message of this client from being taken meanwhile.
    await lockLines(
      uow.tx,
      dialogs.map((dialog) => dialog.line_id),
    );
    if (body.confirm !== client.name) {
      throw new AppError(
        'confirmation_required',
        "Erasing a client cannot be undone; repeat with the client's name",
        [{ field: 'body.confirm', message: "must equal the client's name" }],
      );
    }
    const sessions =
      dialogs.length > 0
        ? await uow.tx
            .selectFrom('sessions')
            .select('status')
            .where(
              'dialog_id',
              'in',
              dialogs.map((dialog) => dialog.id),
            )
            .execute()
        : [];
    if (sessions.some((session) => isOpen(session.status))) {
      throw new AppError('invalid_state', "The client's dialog is open; close it before erasing the client");
    }
    return eraseClients(ctx, uow, {
      accountId: actor.accountId,
      actorUserId: actor.userId,
      clientIds: [clientId],
      mode: body.mode,
    });
  });
}

export async function getPrivacySettings(ctx: AppContext, actor: Actor): Promise<PrivacySettings> {
  authorize(actor, 'managePersonalData');
  const row = await ctx.store.db
    .selectFrom('accounts')
    .select('message_retention_days')
    .where('id', '=', actor.accountId)
    .executeTakeFirstOrThrow();
  return {
    messageRetentionDays: row.message_retention_days,
    eventRetentionHours: ctx.config.eventRetentionHours,
  };
}

export async function updatePrivacySettings(
  ctx: AppContext,
  actor: Actor,
  body: UpdatePrivacySettingsBody,
): Promise<PrivacySettings> {
  authorize(actor, 'managePersonalData');
  await runInTransaction(ctx, async ({ tx }) => {
    await tx
      .updateTable('accounts')
      .set({ message_retention_days: body.messageRetentionDays })
      .where('id', '=', actor.accountId)
      .execute();
    await recordAudit(
      tx,
      actor,
      {
        action: 'account.privacy_updated',
        targetType: 'account',
        targetId: actor.accountId,
        changedKeys: ['messageRetentionDays'],
      },
      ctx.clock.now(),
    );
  });
  return getPrivacySettings(ctx, actor);
}
