import type { CrmAdapter, CrmAdapterBody } from '@openlines/contract';
import type { AppContext } from '../../context';
import { checkWebhookTarget, WebhookTargetError } from '../../delivery/webhook-target';
import { invalidField } from '../../errors';
import type { CrmAdapterRow } from '../../store/schema';
import { type Actor, authorize } from '../actor';
import { openJson, sealJson } from '../secret-box';
import { runInTransaction } from '../transaction';

/**
 * Which CRM an account uses (CRM-4; docs/crm.md "External CRMs"): the built-in one (no row), or an
 * external one through an adapter (crm-adapters/). Chosen by administrators with
 * `manageIntegrations`; the API token is sealed with the server's secret box and never shown back.
 */

/** The API token of an account's adapter (sealed with the account id as associated data). */
export function crmAdapterTokenOf(ctx: AppContext, row: Pick<CrmAdapterRow, 'account_id' | 'token'>): string {
  return openJson<string>(ctx.encryptionKey, row.token, `crm-adapter:${row.account_id}`);
}

async function present(
  ctx: AppContext,
  accountId: string,
  row: CrmAdapterRow | undefined,
): Promise<CrmAdapter> {
  const waiting = await ctx.store.db
    .selectFrom('crm_sync_jobs')
    .select((eb) => eb.fn.countAll<number>().as('pending'))
    .where('account_id', '=', accountId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  // A failure recorded on a job that still waits: the one due last.
  const failing = await ctx.store.db
    .selectFrom('crm_sync_jobs')
    .select('last_error')
    .where('account_id', '=', accountId)
    .where('state', '=', 'pending')
    .where('last_error', 'is not', null)
    .orderBy('next_attempt_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    kind: row ? (row.kind as CrmAdapter['kind']) : 'builtin',
    baseUrl: row?.base_url ?? null,
    hasToken: row !== undefined,
    pending: Number(waiting?.pending ?? 0),
    lastError: failing?.last_error ?? null,
    updatedAt: row?.updated_at.toISOString() ?? null,
  };
}

export async function getCrmAdapter(ctx: AppContext, actor: Actor): Promise<CrmAdapter> {
  authorize(actor, 'manageIntegrations');
  const row = await ctx.store.db
    .selectFrom('crm_adapters')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .executeTakeFirst();
  return present(ctx, actor.accountId, row);
}

/**
 * Sets the account's CRM. `builtin` removes the adapter (its waiting jobs stay, and go out if it is
 * chosen again); `rest` needs a public http(s) base URL and, when it is new or its URL changes, a
 * token. Sessions that started before the change are not sent.
 */
export async function setCrmAdapter(
  ctx: AppContext,
  actor: Actor,
  body: CrmAdapterBody,
): Promise<CrmAdapter> {
  authorize(actor, 'manageIntegrations');
  const accountId = actor.accountId;
  const now = ctx.clock.now();
  if (body.kind === 'builtin') {
    await ctx.store.db.deleteFrom('crm_adapters').where('account_id', '=', accountId).execute();
    return present(ctx, accountId, undefined);
  }
  if (!body.baseUrl) throw invalidField('body.baseUrl', 'The external CRM needs its API base URL');
  let url: URL;
  try {
    url = new URL(body.baseUrl);
  } catch {
    throw invalidField('body.baseUrl', 'Not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalidField('body.baseUrl', 'The URL must start with https:// or http://');
  if (url.username || url.password)
    throw invalidField('body.baseUrl', 'Put the credentials in the token, not the URL');
  try {
    await checkWebhookTarget(body.baseUrl, ctx.config.webhooksAllowPrivateTargets);
  } catch (error) {
    if (error instanceof WebhookTargetError) throw invalidField('body.baseUrl', error.message);
    throw error;
  }
  const row = await runInTransaction(ctx, async ({ tx }) => {
    const current = await tx
      .selectFrom('crm_adapters')
      .selectAll()
      .where('account_id', '=', accountId)
      .forUpdate()
      .executeTakeFirst();
    const same = current !== undefined && current.kind === body.kind && current.base_url === body.baseUrl;
    if (!body.token && !same) throw invalidField('body.token', 'A new CRM or URL needs its API token');
    const token = body.token
      ? sealJson(ctx.encryptionKey, body.token, `crm-adapter:${accountId}`)
      : current!.token;
    if (current) {
      return tx
        .updateTable('crm_adapters')
        .set({ kind: body.kind, base_url: body.baseUrl!, token, updated_at: now })
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    // The feed starts at the end of the log: the account's past is not replayed into the new CRM.
    const seq = await tx
      .selectFrom('accounts')
      .select('event_seq')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    return tx
      .insertInto('crm_adapters')
      .values({
        account_id: accountId,
        kind: body.kind,
        base_url: body.baseUrl!,
        token,
        cursor: Number(seq.event_seq),
        enabled_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  return present(ctx, accountId, row);
}
