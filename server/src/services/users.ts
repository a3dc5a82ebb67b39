import type {
  BuiltInRoleKey,
  CreateUserBody,
  Presence,
  UpdateMeBody,
  UpdateUserBody,
  User,
  Workload,
} from '@openlines/contract';
import { OPERATOR_STATUSES } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError, invalidField, notFound } from '../errors';
import type { Database } from '../store/database';
import { type Actor, authorize } from './actor';
import { keysChanged, recordAudit } from './audit';
import { lockLines } from './locks';
import { assertPlanAllows } from './plan-limits';
import { changePresence } from './presence';
import { presentAbsence, presentUser } from './presenters';
import { redelegateLine, routeSession } from './routing';
import { hashPassword } from './secrets';
import { applySessionAction, SYSTEM } from './sessions';
import { runInTransaction, type Tx, type UnitOfWork } from './transaction';

type Reader = Database | Tx;

async function departmentIdsOf(db: Reader, userIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return map;
  const rows = await db
    .selectFrom('department_members')
    .select(['user_id', 'department_id'])
    .where('user_id', 'in', userIds)
    .orderBy('department_id')
    .execute();
  for (const row of rows) map.get(row.user_id)?.push(row.department_id);
  return map;
}

/** One user of the actor's account, or 404. */
export async function getUser(ctx: AppContext, actor: Actor, userId: string): Promise<User> {
  return loadUser(ctx.store.db, actor.accountId, userId);
}

export async function loadUser(db: Reader, accountId: string, userId: string): Promise<User> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row) throw notFound('The user');
  const departments = await departmentIdsOf(db, [row.id]);
  return presentUser(row, departments.get(row.id) ?? []);
}

/** The signed-in user with their account and permissions (GET /me). */
export async function loadMe(ctx: AppContext, accountId: string, userId: string) {
  const user = await loadUser(ctx.store.db, accountId, userId);
  const account = await ctx.store.db
    .selectFrom('accounts')
    .select(['id', 'name', 'plan_id'])
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  const role = await ctx.store.db
    .selectFrom('roles')
    .select('permissions')
    .where('id', '=', user.roleId)
    .executeTakeFirstOrThrow();
  return {
    user,
    account: { id: account.id, name: account.name, planId: account.plan_id },
    permissions: role.permissions,
  };
}

export async function listUsers(
  ctx: AppContext,
  actor: Actor,
  filter: { active?: boolean; departmentId?: string; search?: string },
): Promise<User[]> {
  let query = ctx.store.db
    .selectFrom('users')
    .selectAll('users')
    .where('users.account_id', '=', actor.accountId);
  if (filter.active !== undefined) query = query.where('users.active', '=', filter.active);
  if (filter.departmentId) {
    const departmentId = filter.departmentId;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('department_members')
          .select('user_id')
          .whereRef('department_members.user_id', '=', 'users.id')
          .where('department_members.department_id', '=', departmentId),
      ),
    );
  }
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb('users.name', 'ilike', pattern), eb('users.email', 'ilike', pattern)]),
    );
  }
  const rows = await query.orderBy('users.name').orderBy('users.id').execute();
  const departments = await departmentIdsOf(
    ctx.store.db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => presentUser(row, departments.get(row.id) ?? []));
}

async function assertRole(tx: Tx, accountId: string, roleId: string, field: string): Promise<void> {
  const role = await tx
    .selectFrom('roles')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', roleId)
    .executeTakeFirst();
  if (!role) throw invalidField(field, 'no such role in this account');
}

async function assertDepartments(tx: Tx, accountId: string, ids: string[], field: string): Promise<void> {
  if (ids.length === 0) return;
  const found = await tx
    .selectFrom('departments')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .execute();
  if (found.length !== new Set(ids).size)
    throw invalidField(field, 'contains a department not in this account');
}

async function setMemberships(
  tx: Tx,
  accountId: string,
  userId: string,
  departmentIds: string[],
): Promise<void> {
  await tx.deleteFrom('department_members').where('user_id', '=', userId).execute();
  if (departmentIds.length === 0) return;
  await tx
    .insertInto('department_members')
    .values(departmentIds.map((department_id) => ({ account_id: accountId, department_id, user_id: userId })))
    .execute();
}

/** The id of one of the account's built-in roles, or null if it was deleted. */
export async function findBuiltInRoleId(
  db: Reader,
  accountId: string,
  key: BuiltInRoleKey,
): Promise<string | null> {
  const role = await db
    .selectFrom('roles')
    .select('id')
    .where('account_id', '=', accountId)
    .where('built_in', '=', key)
    .executeTakeFirst();
  return role?.id ?? null;
}

async function operatorRoleId(tx: Tx, accountId: string): Promise<string> {
  const roleId = await findBuiltInRoleId(tx, accountId, 'operator');
  if (!roleId) throw new AppError('conflict', 'The account has no operator role; pass roleId');
  return roleId;
}

/** A user found by e-mail across all accounts (e-mails are unique case-insensitively). */
export async function findUserByEmail(db: Reader, email: string) {
  const row = await db
    .selectFrom('users')
    .select(['id', 'account_id', 'email', 'name', 'active'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
    .executeTakeFirst();
  return row ?? null;
}

export async function createUser(ctx: AppContext, actor: Actor, input: CreateUserBody): Promise<User> {
  authorize(actor, 'manageUsers');
  return createAccountUser(ctx, actor.accountId, input, actor);
}

/**
 * Creates a user in an account without an acting user, for trusted callers that have none (the
 * CLI; audited as the system). Routes go through createUser, which checks the actor's permission
 * first and passes the actor for the audit log.
 */
export async function createAccountUser(
  ctx: AppContext,
  accountId: string,
  input: CreateUserBody,
  actor: Actor | null = null,
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  return runInTransaction(ctx, async ({ tx, events }) => {
    await assertPlanAllows(tx, accountId, 'operators');
    const roleId = input.roleId ?? (await operatorRoleId(tx, accountId));
    if (input.roleId) await assertRole(tx, accountId, input.roleId, 'body.roleId');
    const departmentIds = input.departmentIds ?? [];
    await assertDepartments(tx, accountId, departmentIds, 'body.departmentIds');
    const taken = await tx
      .selectFrom('users')
      .select('id')
      .where((eb) => eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()))
      .executeTakeFirst();
    if (taken)
      throw new AppError('already_exists', 'A user with this e-mail already exists', [
        { field: 'body.email', message: 'is already taken' },
      ]);
    const row = await tx
      .insertInto('users')
      .values({
        account_id: accountId,
        email: input.email,
        name: input.name,
        avatar_url: input.avatarUrl ?? null,
        password_hash: passwordHash,
        role_id: roleId,
        created_at: ctx.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await setMemberships(tx, accountId, row.id, departmentIds);
    const user = presentUser(row, departmentIds);
    events.emit(accountId, 'user.created', { user });
    await recordAudit(
      tx,
      { accountId, userId: actor?.userId ?? null },
      { action: 'user.created', targetType: 'user', targetId: row.id },
      ctx.clock.now(),
    );
    return user;
  });
}

export async function updateUser(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  input: UpdateUserBody,
): Promise<User> {
  authorize(actor, 'manageUsers');
  return runInTransaction(ctx, async (uow) => {
    const { tx, events } = uow;
    // Lines whose sessions the user holds are locked first (routing lock order), so that a
    // dismissed operator's dialogs can go back to their queues in this same transaction.
    const held = input.active === false ? await heldSessionLines(tx, actor.accountId, userId) : [];
    await lockLines(tx, held);
    const current = await loadUser(tx, actor.accountId, userId);
    if (input.active === false && userId === actor.userId) {
      throw invalidField('body.active', 'you cannot deactivate yourself');
    }
    if (input.roleId) await assertRole(tx, actor.accountId, input.roleId, 'body.roleId');
    // Bringing a dismissed user back takes a place of the plan's active users.
    if (input.active === true && !current.active) await assertPlanAllows(tx, actor.accountId, 'operators');
    if (input.departmentIds) {
      await assertDepartments(tx, actor.accountId, input.departmentIds, 'body.departmentIds');
      await setMemberships(tx, actor.accountId, userId, input.departmentIds);
    }
    const deactivating = input.active === false && current.active;
    await tx
      .updateTable('users')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.roleId !== undefined ? { role_id: input.roleId } : {}),
        ...(input.avatarUrl !== undefined ? { avatar_url: input.avatarUrl } : {}),
        ...clientProfileChanges(input),
        ...(input.active !== undefined ? { active: input.active } : {}),
        ...(deactivating ? { deactivated_at: ctx.clock.now(), presence: 'offline' as const } : {}),
        ...(input.active === true ? { deactivated_at: null } : {}),
      })
      .where('id', '=', userId)
      .execute();
    if (deactivating) {
      // A dismissed user is signed out everywhere at once: sessions and API tokens stop working.
      await tx.deleteFrom('auth_sessions').where('user_id', '=', userId).execute();
      await tx
        .updateTable('api_tokens')
        .set({ revoked_at: ctx.clock.now() })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .execute();
      events.emit(actor.accountId, 'user.deactivated', { userId });
      if (current.presence !== 'offline') {
        events.emit(actor.accountId, 'presence.changed', { userId, presence: 'offline' });
      }
      await releaseSessionsOf(ctx, uow, actor.accountId, userId);
    }
    const user = await loadUser(tx, actor.accountId, userId);
    events.emit(actor.accountId, 'user.updated', { user });
    const audited = (u: User) => ({
      name: u.name,
      roleId: u.roleId,
      avatarUrl: u.avatarUrl,
      clientName: u.clientName,
      clientAvatarUrl: u.clientAvatarUrl,
      active: u.active,
      departmentIds: u.departmentIds,
    });
    await recordAudit(
      tx,
      actor,
      {
        action: 'user.updated',
        targetType: 'user',
        targetId: userId,
        changedKeys: keysChanged(audited(current), audited(user)),
      },
      ctx.clock.now(),
    );
    return user;
  });
}

/** The client-facing name and photo (Q-8) of a body, as columns; a blank name goes back to the profile's. */
function clientProfileChanges(input: UpdateMeBody): {
  client_name?: string | null;
  client_avatar_url?: string | null;
} {
  return {
    ...(input.clientName !== undefined ? { client_name: input.clientName?.trim() || null } : {}),
    ...(input.clientAvatarUrl !== undefined ? { client_avatar_url: input.clientAvatarUrl } : {}),
  };
}

/**
 * An operator sets the name and photo clients see them under (Q-8) for themselves; anyone signed in
 * may, as it is their own profile. Shown on lines whose operator data is `profile`.
 */
export async function updateMe(ctx: AppContext, actor: Actor, input: UpdateMeBody): Promise<User> {
  return runInTransaction(ctx, async ({ tx, events }) => {
    const current = await loadUser(tx, actor.accountId, actor.userId);
    await tx
      .updateTable('users')
      .set(clientProfileChanges(input))
      .where('account_id', '=', actor.accountId)
      .where('id', '=', actor.userId)
      .execute();
    const user = await loadUser(tx, actor.accountId, actor.userId);
    events.emit(actor.accountId, 'user.updated', { user });
    await recordAudit(
      tx,
      actor,
      {
        action: 'user.updated',
        targetType: 'user',
        targetId: actor.userId,
        changedKeys: keysChanged(
          { clientName: current.clientName, clientAvatarUrl: current.clientAvatarUrl },
          { clientName: user.clientName, clientAvatarUrl: user.clientAvatarUrl },
        ),
      },
      ctx.clock.now(),
    );
    return user;
  });
}

export async function setPresence(ctx: AppContext, actor: Actor, presence: Presence): Promise<User> {
  await changePresence(ctx, actor.accountId, actor.userId, presence);
  return loadUser(ctx.store.db, actor.accountId, actor.userId);
}

export async function listAbsences(ctx: AppContext, actor: Actor, userId: string) {
  if (userId !== actor.userId) authorize(actor, 'manageUsers');
  await loadUser(ctx.store.db, actor.accountId, userId);
  const rows = await ctx.store.db
    .selectFrom('absences')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('user_id', '=', userId)
    .orderBy('starts_at')
    .execute();
  return rows.map(presentAbsence);
}

export async function createAbsence(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  input: { startsAt: string; endsAt: string; reason?: string },
) {
  if (userId !== actor.userId) authorize(actor, 'manageUsers');
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (!(endsAt > startsAt)) throw invalidField('body.endsAt', 'must be after startsAt');
  return runInTransaction(ctx, async ({ tx, events }) => {
    await loadUser(tx, actor.accountId, userId);
    const row = await tx
      .insertInto('absences')
      .values({
        account_id: actor.accountId,
        user_id: userId,
        starts_at: startsAt,
        ends_at: endsAt,
        reason: input.reason ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'user.updated', { user: await loadUser(tx, actor.accountId, userId) });
    return presentAbsence(row);
  });
}

export async function deleteAbsence(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  absenceId: string,
): Promise<void> {
  if (userId !== actor.userId) authorize(actor, 'manageUsers');
  const result = await ctx.store.db
    .deleteFrom('absences')
    .where('account_id', '=', actor.accountId)
    .where('user_id', '=', userId)
    .where('id', '=', absenceId)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('The absence');
}

async function heldSessionLines(tx: Tx, accountId: string, userId: string): Promise<string[]> {
  const rows = await tx
    .selectFrom('sessions')
    .select('line_id')
    .distinct()
    .where('account_id', '=', accountId)
    .where('operator_id', '=', userId)
    .where('status', 'in', OPERATOR_STATUSES)
    .execute();
  return rows.map((row) => row.line_id);
}

/** A dismissed operator's open dialogs go back to their lines' queues and on to colleagues. */
async function releaseSessionsOf(
  ctx: AppContext,
  uow: UnitOfWork,
  accountId: string,
  userId: string,
): Promise<void> {
  const sessions = await uow.tx
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('operator_id', '=', userId)
    .where('status', 'in', OPERATOR_STATUSES)
    .forUpdate()
    .execute();
  for (const session of sessions) {
    const queued = await applySessionAction(
      ctx,
      uow,
      session,
      { type: 'skip' },
      SYSTEM,
      'operator_deactivated',
    );
    await routeSession(ctx, uow, queued);
  }
  for (const lineId of new Set(sessions.map((s) => s.line_id)))
    await redelegateLine(ctx, uow, accountId, lineId);
}

/** Who is online and how many dialogs each holds: for choosing a colleague to transfer to (OP-3). */
export async function listWorkload(ctx: AppContext, actor: Actor): Promise<Workload[]> {
  const rows = await ctx.store.db
    .selectFrom('users')
    .leftJoin('sessions', (join) =>
      join.onRef('sessions.operator_id', '=', 'users.id').on('sessions.status', 'in', OPERATOR_STATUSES),
    )
    .select(['users.id', 'users.presence', (eb) => eb.fn.count<number>('sessions.id').as('open')])
    .where('users.account_id', '=', actor.accountId)
    .where('users.active', '=', true)
    .groupBy(['users.id', 'users.presence'])
    .orderBy('users.id')
    .execute();
  return rows.map((row) => ({ userId: row.id, presence: row.presence, openSessions: Number(row.open) }));
}
