import { BUILT_IN_ROLES, type BuiltInRoleKey } from '@openlines/contract';
import { sql } from 'kysely';
import type { AppContext } from '../context';
import { DEFAULT_PIPELINE_NAME, DEFAULT_STAGES } from '../core/crm';
import { AppError } from '../errors';
import type { Database } from '../store/database';
import { generatePassword, hashPassword } from './secrets';
import { runInTransaction, type Tx } from './transaction';

export const DEFAULT_PLAN_ID = 'default';
export const FIRST_ADMIN_EMAIL = 'admin@openlines.local';
const FIRST_RUN_LOCK = 7_020_001;

/** The embedded default plan (LN-1); its limit follows DEFAULT_PLAN_MAX_LINES on every start. */
export async function ensureDefaultPlan(ctx: AppContext): Promise<void> {
  await ctx.store.db
    .insertInto('plans')
    .values({
      id: DEFAULT_PLAN_ID,
      name: 'Default',
      max_lines: ctx.config.defaultPlanMaxLines,
      max_users: null,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet({ max_lines: ctx.config.defaultPlanMaxLines }))
    .execute();
}

export interface NewAccount {
  accountName: string;
  planId?: string;
  admin: { email: string; name: string; password: string };
}

export async function createAccount(ctx: AppContext, input: NewAccount) {
  const passwordHash = await hashPassword(input.admin.password);
  return runInTransaction(ctx, ({ tx }) => insertAccount(tx, input, passwordHash));
}

/** The same, with the administrator's password already hashed (a verified sign-up, services/signup). */
export function createAccountWithPasswordHash(
  ctx: AppContext,
  input: Omit<NewAccount, 'admin'> & { admin: { email: string; name: string } },
  passwordHash: string,
) {
  return runInTransaction(ctx, ({ tx }) =>
    insertAccount(tx, { ...input, admin: { ...input.admin, password: '' } }, passwordHash),
  );
}

async function insertAccount(tx: Tx, input: NewAccount, passwordHash: string) {
  const account = await tx
    .insertInto('accounts')
    .values({ name: input.accountName, plan_id: input.planId ?? DEFAULT_PLAN_ID })
    .returningAll()
    .executeTakeFirstOrThrow();
  const roles = await createBuiltInRoles(tx, account.id);
  await createDefaultPipeline(tx, account.id);
  const taken = await tx
    .selectFrom('users')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', input.admin.email.toLowerCase()))
    .executeTakeFirst();
  if (taken) throw new AppError('already_exists', 'A user with this e-mail already exists');
  const admin = await tx
    .insertInto('users')
    .values({
      account_id: account.id,
      email: input.admin.email,
      name: input.admin.name,
      password_hash: passwordHash,
      role_id: roles.administrator,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { account, admin };
}

/** Every account starts with one sales pipeline (CRM-1); admins edit it (services/crm). */
async function createDefaultPipeline(tx: Tx, accountId: string): Promise<void> {
  const pipeline = await tx
    .insertInto('crm_pipelines')
    .values({ account_id: accountId, name: DEFAULT_PIPELINE_NAME, is_default: true, position: 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('crm_stages')
    .values(
      DEFAULT_STAGES.map((stage, position) => ({
        account_id: accountId,
        pipeline_id: pipeline.id,
        name: stage.name,
        position,
        semantics: stage.semantics,
      })),
    )
    .execute();
}

async function createBuiltInRoles(tx: Tx, accountId: string): Promise<Record<BuiltInRoleKey, string>> {
  const ids = {} as Record<BuiltInRoleKey, string>;
  for (const [key, role] of Object.entries(BUILT_IN_ROLES) as [
    BuiltInRoleKey,
    (typeof BUILT_IN_ROLES)[BuiltInRoleKey],
  ][]) {
    const row = await tx
      .insertInto('roles')
      .values({
        account_id: accountId,
        name: role.name,
        built_in: key,
        permissions: JSON.stringify(role.permissions),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids[key] = row.id;
  }
  return ids;
}

/** An account by id, or null (the CLI's `--account`). */
export async function findAccount(db: Database, accountId: string) {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'name'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  return row ?? null;
}

/** The oldest account: on a one-account installation, the account. */
export async function firstAccount(db: Database) {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'name'])
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row ?? null;
}

export interface FirstRun {
  email: string;
  password: string;
}

/**
 * On the very first start (no account yet) creates the account and its administrator with a
 * one-time password that is printed once and stored only as a hash.
 */
export async function bootstrapFirstRun(ctx: AppContext): Promise<FirstRun | null> {
  await ensureDefaultPlan(ctx);
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return runInTransaction(ctx, async ({ tx }) => {
    // Two processes starting together on one database must not both create a first account.
    await sql`select pg_advisory_xact_lock(${FIRST_RUN_LOCK})`.execute(tx);
    const existing = await tx.selectFrom('accounts').select('id').limit(1).executeTakeFirst();
    if (existing) return null;
    await insertAccount(
      tx,
      { accountName: 'Openlines', admin: { email: FIRST_ADMIN_EMAIL, name: 'Administrator', password } },
      passwordHash,
    );
    return { email: FIRST_ADMIN_EMAIL, password };
  });
}
