import { createHash } from 'node:crypto';
import type { ConsentRecord } from '@openlines/contract';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import type { Database } from '../../store/database';
import type { ChannelRow, LineRow } from '../../store/schema';
import type { Actor } from '../actor';
import { attachCrmToSession } from '../crm/intake';
import { touchDialog } from '../dialog-events';
import { loadVisibleDialog } from '../dialogs';
import { lockLines } from '../locks';
import { runInTransaction, type Tx, type UnitOfWork } from '../transaction';
import { clientDialogOn } from './lookup';

/**
 * Consent to process personal data (AG-1..AG-3). Each change of a line's agreement text is a new
 * version; a consent names the version the client agreed to, with when, where and how.
 */

/** The current version of the line's agreement, created on first use after each text change. */
export async function currentAgreementVersion(tx: Tx, line: LineRow, now: Date): Promise<string> {
  const latest = await tx
    .selectFrom('agreement_versions')
    .select(['id', 'version', 'text'])
    .where('line_id', '=', line.id)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (latest && latest.text === line.settings.agreement.text) return latest.id;
  const created = await tx
    .insertInto('agreement_versions')
    .values({
      account_id: line.account_id,
      line_id: line.id,
      version: (latest?.version ?? 0) + 1,
      text: line.settings.agreement.text,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['line_id', 'version']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (created) return created.id;
  // Another transaction versioned the same change first.
  return currentAgreementVersion(tx, line, now);
}

/** Whether the client has consented to the line's current agreement text. */
export async function hasConsent(tx: Tx, line: LineRow, clientId: string, now: Date): Promise<boolean> {
  const version = await currentAgreementVersion(tx, line, now);
  const consent = await tx
    .selectFrom('consents')
    .select('id')
    .where('client_id', '=', clientId)
    .where('agreement_version_id', '=', version)
    .where('decision', '=', 'given')
    .executeTakeFirst();
  return consent !== undefined;
}

/**
 * The client's decision on the line's current agreement text: given wins over refused, null when
 * they have taken none. A refusal is recorded and is no consent (AG-3), but the client is not asked
 * again for the same text (AG-2: the widget's "I do not agree" is an answer).
 */
export async function consentDecision(
  tx: Tx,
  line: LineRow,
  clientId: string,
  now: Date,
): Promise<'given' | 'refused' | null> {
  const version = await currentAgreementVersion(tx, line, now);
  const rows = await tx
    .selectFrom('consents')
    .select('decision')
    .where('client_id', '=', clientId)
    .where('agreement_version_id', '=', version)
    .execute();
  if (rows.some((row) => row.decision === 'given')) return 'given';
  return rows.length > 0 ? 'refused' : null;
}

/**
 * Whether the client decided (either way) on the line's agreement as its text is now, read without
 * versioning anything: the widget's start asks it before the visitor writes.
 */
export async function decidedOnCurrentText(
  db: Database,
  line: Pick<LineRow, 'id' | 'settings'>,
  clientId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('consents')
    .innerJoin('agreement_versions', 'agreement_versions.id', 'consents.agreement_version_id')
    .select('consents.id')
    .where('consents.client_id', '=', clientId)
    .where('agreement_versions.line_id', '=', line.id)
    .where('agreement_versions.text', '=', line.settings.agreement.text)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Records a consent decision in the caller's transaction; a consent also marks the session.
 * Idempotent per client, agreement version and decision. The dialog is touched, so operators'
 * apps refresh its timeline (GET /dialogs/{id}/consents) where the record shows (issue 18).
 */
export async function writeConsent(
  ctx: AppContext,
  uow: UnitOfWork,
  input: {
    line: LineRow;
    clientId: string;
    channelId: string;
    sessionId: string | null;
    dialogId: string;
    how: 'button' | 'reply' | 'api';
    decision?: 'given' | 'refused';
    /** When the client decided, if before now (the widget's button pressed before the first message). */
    at?: Date;
  },
): Promise<void> {
  const now = input.at ?? ctx.clock.now();
  const decision = input.decision ?? 'given';
  const version = await currentAgreementVersion(uow.tx, input.line, now);
  await uow.tx
    .insertInto('consents')
    .values({
      account_id: input.line.account_id,
      client_id: input.clientId,
      agreement_version_id: version,
      channel_id: input.channelId,
      session_id: input.sessionId,
      how: input.how,
      decision,
      given_at: now,
    })
    .onConflict((oc) => oc.columns(['client_id', 'agreement_version_id', 'decision']).doNothing())
    .execute();
  if (input.sessionId && decision === 'given') {
    const session = await uow.tx
      .updateTable('sessions')
      .set({ consent_given_at: now })
      .where('id', '=', input.sessionId)
      .where('consent_given_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    // AG-3 held the CRM back until now: with consent, the session's client is looked up and saved.
    if (session && input.line.settings.crm.enabled && !session.crm_contact_id) {
      const client = await uow.tx
        .selectFrom('clients')
        .innerJoin('client_identities', 'client_identities.client_id', 'clients.id')
        .innerJoin('channels', 'channels.id', 'client_identities.channel_id')
        .select([
          'clients.name',
          'clients.email',
          'clients.phone',
          'client_identities.external_id',
          'channels.kind',
        ])
        .where('clients.id', '=', input.clientId)
        .where('client_identities.channel_id', '=', input.channelId)
        .executeTakeFirst();
      if (client) {
        await attachCrmToSession(ctx, uow, {
          line: input.line,
          accountId: input.line.account_id,
          channel: { id: input.channelId, kind: client.kind },
          client: {
            id: input.clientId,
            name: client.name,
            externalId: client.external_id,
            phone: client.phone,
            email: client.email,
          },
          consentMissing: false,
          known: null,
          session,
        });
      }
    }
  }
  touchDialog(ctx, uow, input.line.account_id, input.dialogId);
}

/** AG-2 in the widget: the visitor pressed the consent button. */
export async function recordConsent(
  ctx: AppContext,
  input: {
    channel: ChannelRow;
    clientExternalId: string;
    how: 'button' | 'reply';
    decision?: 'given' | 'refused';
  },
): Promise<void> {
  await runInTransaction(ctx, async (uow) => {
    const found = await clientDialogOn(uow.tx, input.channel, input.clientExternalId);
    if (!found) throw new AppError('not_found', 'There is no conversation to consent in yet');
    await lockLines(uow.tx, [found.line.id]);
    await writeConsent(ctx, uow, {
      line: found.line,
      clientId: found.dialog.client_id,
      channelId: input.channel.id,
      sessionId: found.session?.id ?? null,
      dialogId: found.dialog.id,
      how: input.how,
      decision: input.decision ?? 'given',
    });
  });
}

/**
 * AG-3: no CRM record may be saved for a client who has not consented on a line that requires it.
 * The CRM's save actions call this and show its reason to the operator.
 */
export async function assertConsentForCrm(
  ctx: AppContext,
  accountId: string,
  dialogId: string,
): Promise<void> {
  const dialog = await ctx.store.db
    .selectFrom('dialogs')
    .innerJoin('lines', 'lines.id', 'dialogs.line_id')
    .selectAll('lines')
    .select(['dialogs.client_id as client_id'])
    .where('dialogs.id', '=', dialogId)
    .where('dialogs.account_id', '=', accountId)
    .executeTakeFirst();
  if (!dialog) throw new AppError('not_found', 'The dialog does not exist');
  if (!dialog.settings.agreement.required) return;
  const given = await ctx.store.db
    .transaction()
    .execute((tx) => hasConsent(tx, dialog, dialog.client_id, ctx.clock.now()));
  if (!given) {
    throw new AppError(
      'consent_required',
      'The client has not consented to the processing of personal data, so no CRM record may be saved for them',
    );
  }
}

/** The consent records of a client (on one line, or on all), oldest first, as the API shows them. */
export async function listConsents(
  db: Database,
  accountId: string,
  filter: { clientId: string; lineId?: string },
): Promise<ConsentRecord[]> {
  let query = db
    .selectFrom('consents')
    .innerJoin('agreement_versions', 'agreement_versions.id', 'consents.agreement_version_id')
    .select([
      'consents.id',
      'consents.client_id',
      'consents.decision',
      'consents.how',
      'consents.channel_id',
      'consents.session_id',
      'consents.given_at',
      'agreement_versions.line_id',
      'agreement_versions.version',
      'agreement_versions.text',
    ])
    .where('consents.account_id', '=', accountId)
    .where('consents.client_id', '=', filter.clientId);
  if (filter.lineId) query = query.where('agreement_versions.line_id', '=', filter.lineId);
  const rows = await query.orderBy('consents.given_at').orderBy('consents.id').execute();
  return rows.map((row) => ({
    id: row.id,
    clientId: row.client_id,
    decision: row.decision,
    how: row.how,
    channelId: row.channel_id,
    sessionId: row.session_id,
    at: new Date(row.given_at).toISOString(),
    agreement: {
      lineId: row.line_id,
      version: row.version,
      textSha256: createHash('sha256').update(row.text).digest('hex'),
    },
  }));
}

/** AG-2 in the operator's timeline: the consent decisions of the dialog's client on its line. */
export async function listDialogConsents(ctx: AppContext, actor: Actor, dialogId: string) {
  const dialog = await loadVisibleDialog(ctx.store.db, actor, dialogId);
  return listConsents(ctx.store.db, actor.accountId, { clientId: dialog.client_id, lineId: dialog.line_id });
}
