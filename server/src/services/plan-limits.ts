import type { PlanResource } from '@openlines/contract';
import { AppError } from '../errors';
import type { Database } from '../store/database';
import type { Tx } from './transaction';

type Reader = Database | Tx;

const NOUNS: Record<PlanResource, [string, string]> = {
  lines: ['line', 'lines'],
  operators: ['active user', 'active users'],
  channels: ['channel', 'channels'],
  storage: ['byte of attachments', 'bytes of attachments'],
};

function limitReached(resource: PlanResource, limit: number): AppError {
  const [one, many] = NOUNS[resource];
  const amount =
    resource === 'storage'
      ? `${Math.floor(limit / 1024 / 1024)} MB of attachments`
      : `${limit} ${limit === 1 ? one : many}`;
  return new AppError('plan_limit_reached', `Your plan allows ${amount}`, undefined, { limit, resource });
}

/** What an account uses of each limited resource (the operator's account list, the checks here). */
export async function accountUsage(db: Reader, accountId: string, resource: PlanResource): Promise<number> {
  switch (resource) {
    case 'lines': {
      const row = await db
        .selectFrom('lines')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }
    case 'operators': {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('active', '=', true)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }
    case 'channels': {
      const row = await db
        .selectFrom('channels')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }
    case 'storage': {
      const row = await db
        .selectFrom('files')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }
  }
}

/** The account's plan limit of a resource; null: none. */
async function planLimit(db: Reader, accountId: string, resource: PlanResource, lock: boolean) {
  let query = db
    .selectFrom('accounts')
    .innerJoin('plans', 'plans.id', 'accounts.plan_id')
    .select(['plans.max_lines', 'plans.max_users', 'plans.max_channels', 'plans.max_storage_bytes'])
    .where('accounts.id', '=', accountId);
  // The account row lock makes count-then-insert hold against concurrent creations.
  if (lock) query = query.forUpdate('accounts');
  const plan = await query.executeTakeFirstOrThrow();
  const limit = {
    lines: plan.max_lines,
    operators: plan.max_users,
    channels: plan.max_channels,
    storage: plan.max_storage_bytes,
  }[resource];
  return limit === null ? null : Number(limit);
}

/**
 * Refuses with `plan_limit_reached` (409, `limit` and `resource` in the problem) when adding
 * `adding` of a resource would pass the account's plan. Counted resources (lines, active users,
 * channels) lock the account row in the caller's transaction, so two creations at once cannot
 * both take the last place (when called in one: `tx.isTransaction`).
 */
export async function assertPlanAllows(
  tx: Reader,
  accountId: string,
  resource: Exclude<PlanResource, 'storage'>,
  adding = 1,
): Promise<void> {
  // Outside a transaction (a first check before talking to a platform) nothing is locked.
  const limit = await planLimit(tx, accountId, resource, tx.isTransaction);
  if (limit === null) return;
  if ((await accountUsage(tx, accountId, resource)) + adding > limit) throw limitReached(resource, limit);
}

/**
 * Refuses a file of `bytes` that would take the account's attachments past its plan's storage, in
 * one statement without a lock: uploads that run at the same moment may each pass it once.
 */
export async function assertStorageAllows(db: Database, accountId: string, bytes: number): Promise<void> {
  const row = await db
    .selectFrom('accounts')
    .innerJoin('plans', 'plans.id', 'accounts.plan_id')
    .select((eb) => [
      'plans.max_storage_bytes',
      eb
        .selectFrom('files')
        .select((inner) => inner.fn.coalesce(inner.fn.sum<number>('size'), inner.lit(0)).as('used'))
        .where('files.account_id', '=', accountId)
        .as('used'),
    ])
    .where('accounts.id', '=', accountId)
    .executeTakeFirstOrThrow();
  if (row.max_storage_bytes === null) return;
  const limit = Number(row.max_storage_bytes);
  if (Number(row.used ?? 0) + bytes > limit) throw limitReached('storage', limit);
}
