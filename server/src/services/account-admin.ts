import type {
  AccountStatus,
  AdminAccount,
  CreateAccountBody,
  CreatedAccount,
  Plan,
  PutPlanBody,
  UpdateAccountBody,
} from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { AppError, invalidField, notFound } from '../errors';
import type { AccountRowCount } from '../store/account-rows';
import type { Database } from '../store/database';
import { createAccount, DEFAULT_PLAN_ID } from './accounts';
import { channelRuntime, unregisterChannels } from './channels';
import { eraseAccount, unlinkErasedFiles } from './erasure';
import { accountUsage } from './plan-limits';
import { generatePassword } from './secrets';
import { runInTransaction, type Tx } from './transaction';

/**
 * What the server's operator does with accounts (tenants), from the CLI and the admin API
 * (issue 21). None of it acts as a user of an account: the caller is the operator, trusted by
 * ADMIN_TOKEN or by shell access to the server.
 */

type Reader = Database | Tx;

interface PlanRow {
  id: string;
  name: string;
  max_lines: number;
  max_users: number | null;
  max_channels: number | null;
  max_storage_bytes: number | null;
}

export function presentPlan(row: PlanRow): Plan {
  return {
    id: row.id,
    name: row.name,
    maxLines: row.max_lines,
    maxOperators: row.max_users,
    maxChannels: row.max_channels,
    maxStorageBytes: row.max_storage_bytes === null ? null : Number(row.max_storage_bytes),
  };
}

export async function listPlans(ctx: AppContext): Promise<Plan[]> {
  const rows = await ctx.store.db.selectFrom('plans').selectAll().orderBy('id').execute();
  return rows.map(presentPlan);
}

async function findPlan(db: Reader, planId: string): Promise<PlanRow | undefined> {
  return db.selectFrom('plans').selectAll().where('id', '=', planId).executeTakeFirst();
}

/**
 * Creates a plan or replaces its limits. The default plan's line limit is DEFAULT_PLAN_MAX_LINES
 * (set again on every start), so it is changed there, not here.
 */
export async function putPlan(ctx: AppContext, planId: string, input: PutPlanBody): Promise<Plan> {
  if (planId === DEFAULT_PLAN_ID && input.maxLines !== ctx.config.defaultPlanMaxLines) {
    throw invalidField(
      'body.maxLines',
      `the default plan's line limit is DEFAULT_PLAN_MAX_LINES (${ctx.config.defaultPlanMaxLines}); change it there`,
    );
  }
  const values = {
    name: input.name,
    max_lines: input.maxLines,
    max_users: input.maxOperators,
    max_channels: input.maxChannels,
    max_storage_bytes: input.maxStorageBytes,
  };
  const row = await ctx.store.db
    .insertInto('plans')
    .values({ id: planId, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return presentPlan(row);
}

async function presentAccounts(db: Reader, ids: string[] | null): Promise<AdminAccount[]> {
  let query = db
    .selectFrom('accounts')
    .innerJoin('plans', 'plans.id', 'accounts.plan_id')
    .select([
      'accounts.id',
      'accounts.name',
      'accounts.status',
      'accounts.suspended_at',
      'accounts.created_at',
      'plans.id as plan_id',
      'plans.name as plan_name',
      'plans.max_lines',
      'plans.max_users',
      'plans.max_channels',
      'plans.max_storage_bytes',
    ])
    .orderBy('accounts.created_at')
    .orderBy('accounts.id');
  if (ids) query = query.where('accounts.id', 'in', ids);
  const rows = await query.execute();
  const accounts: AdminAccount[] = [];
  for (const row of rows) {
    accounts.push({
      id: row.id,
      name: row.name,
      status: row.status,
      suspendedAt: row.suspended_at?.toISOString() ?? null,
      createdAt: row.created_at.toISOString(),
      plan: presentPlan({ ...row, id: row.plan_id, name: row.plan_name }),
      usage: {
        lines: await accountUsage(db, row.id, 'lines'),
        operators: await accountUsage(db, row.id, 'operators'),
        channels: await accountUsage(db, row.id, 'channels'),
        storageBytes: await accountUsage(db, row.id, 'storage'),
      },
    });
  }
  return accounts;
}

export function listAccounts(ctx: AppContext): Promise<AdminAccount[]> {
  return presentAccounts(ctx.store.db, null);
}

export async function getAccount(ctx: AppContext, accountId: string): Promise<AdminAccount> {
  const [account] = await presentAccounts(ctx.store.db, [accountId]);
  if (!account) throw notFound('The account');
  return account;
}

async function assertPlan(db: Reader, planId: string, field: string): Promise<void> {
  if (!(await findPlan(db, planId))) throw invalidField(field, 'no such plan');
}

/** A new account with its built-in roles and its first administrator. */
export async function createOperatedAccount(
  ctx: AppContext,
  input: CreateAccountBody,
): Promise<CreatedAccount> {
  const planId = input.planId ?? DEFAULT_PLAN_ID;
  await assertPlan(ctx.store.db, planId, 'body.planId');
  const password = input.admin.password ?? generatePassword();
  const { account, admin } = await createAccount(ctx, {
    accountName: input.name,
    planId,
    admin: { email: input.admin.email, name: input.admin.name, password },
  });
  return {
    account: await getAccount(ctx, account.id),
    admin: {
      id: admin.id,
      email: admin.email,
      ...(input.admin.password === undefined ? { password } : {}),
    },
  };
}

export async function updateOperatedAccount(
  ctx: AppContext,
  accountId: string,
  input: UpdateAccountBody,
): Promise<AdminAccount> {
  if (input.planId !== undefined) await assertPlan(ctx.store.db, input.planId, 'body.planId');
  const result = await ctx.store.db
    .updateTable('accounts')
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.planId !== undefined ? { plan_id: input.planId } : {}),
    })
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound('The account');
  return getAccount(ctx, accountId);
}

/**
 * Suspends or resumes an account, in one transaction with its channels' copy of the state (the
 * inbound path reads it there). Suspended: sign-in and every request of its users and tokens
 * answer 403 `account_suspended`, its sockets are closed, and its channels take no messages
 * (webhooks and the widget answer 403 `account_suspended`, pollers leave the platform's queue as
 * it is). A message already being stored when it happens is stored whole.
 */
export async function setAccountStatus(
  ctx: AppContext,
  accountId: string,
  status: AccountStatus,
): Promise<AdminAccount> {
  await runInTransaction(ctx, async ({ tx, events }) => {
    const current = await tx
      .selectFrom('accounts')
      .select('status')
      .where('id', '=', accountId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound('The account');
    if (current.status === status) return;
    await tx
      .updateTable('accounts')
      .set({ status, suspended_at: status === 'suspended' ? ctx.clock.now() : null })
      .where('id', '=', accountId)
      .execute();
    const channels = await tx
      .updateTable('channels')
      .set({ account_suspended: status === 'suspended' })
      .where('account_id', '=', accountId)
      .returning('id')
      .execute();
    // Every process drops its cached copy of these channels and sets up their pollers again.
    for (const channel of channels) {
      events.emit(
        accountId,
        'channel.changed',
        { channelId: channel.id, deleted: false },
        { permission: 'manageLines' },
      );
    }
    if (status === 'suspended') events.emit(accountId, 'account.suspended', { accountId });
  });
  return getAccount(ctx, accountId);
}

export interface DeletedAccount {
  files: number;
  rows: AccountRowCount[];
}

/**
 * Deletes an account and everything of it: first it is suspended (its channels stop taking
 * messages, its users are refused), then its files' bytes are removed, then all of its rows in one
 * transaction (store/account-rows, children before parents). Interrupted at any step, it can run
 * again and finish.
 */
export async function deleteOperatedAccount(ctx: AppContext, accountId: string): Promise<DeletedAccount> {
  await setAccountStatus(ctx, accountId, 'suspended');
  const files = await ctx.store.db
    .selectFrom('files')
    .select(sql<number>`count(*)::int`.as('count'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  // What the channels registered on their platforms (Telegram webhooks) is removed once they are
  // gone; their secrets are read first, as the rows holding them are erased.
  const channels = await ctx.store.db
    .selectFrom('channels')
    .selectAll()
    .where('account_id', '=', accountId)
    .execute();
  // The one erasure routine (services/erasure): every row goes in one transaction and the files'
  // ids are queued; their bytes are removed now, and by the privacy worker if this stops halfway.
  const rows = await runInTransaction(ctx, ({ tx }) => eraseAccount(ctx, tx, accountId, null));
  await unregisterChannels(
    ctx,
    channels.map((row) => channelRuntime(ctx, row)),
  );
  for (let round = 0; round < 1000 && (await unlinkErasedFiles(ctx)) > 0; round++);
  const remainingAccounts = await ctx.store.db.selectFrom('accounts').select('id').limit(1).execute();
  if (remainingAccounts.length === 0) {
    ctx.log.warn({ accountId }, 'the last account was deleted; the next start creates a new first account');
  }
  return { files: files.count, rows };
}

/** The account ids the CLI's `--account` and the admin API name, checked. */
export async function requireAccount(db: Reader, accountId: string): Promise<void> {
  const row = await db.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'The account does not exist');
}
