import type { Department, Permissions, Role } from '@openlines/contract';
import type { AppContext } from '../context';
import { AppError, invalidField, notFound } from '../errors';
import { type Actor, authorize } from './actor';
import { keysChanged, recordAudit } from './audit';
import { presentDepartment, presentRole } from './presenters';
import { runInTransaction, type Tx } from './transaction';

// Departments (a tree; a department's members) and roles (AR-1).

async function membersOf(tx: Tx | AppContext['store']['db'], departmentIds: string[]) {
  const map = new Map<string, string[]>(departmentIds.map((id) => [id, []]));
  if (departmentIds.length === 0) return map;
  const rows = await tx
    .selectFrom('department_members')
    .select(['department_id', 'user_id'])
    .where('department_id', 'in', departmentIds)
    .orderBy('user_id')
    .execute();
  for (const row of rows) map.get(row.department_id)?.push(row.user_id);
  return map;
}

export async function listDepartments(ctx: AppContext, actor: Actor): Promise<Department[]> {
  const rows = await ctx.store.db
    .selectFrom('departments')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('name')
    .execute();
  const members = await membersOf(
    ctx.store.db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => presentDepartment(row, members.get(row.id) ?? []));
}

async function loadDepartment(tx: Tx, accountId: string, id: string): Promise<Department> {
  const row = await tx
    .selectFrom('departments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('The department');
  const members = await membersOf(tx, [row.id]);
  return presentDepartment(row, members.get(row.id) ?? []);
}

/** A parent must be in the same account and must not be the department itself or below it. */
async function assertParent(
  tx: Tx,
  accountId: string,
  departmentId: string | null,
  parentId: string,
): Promise<void> {
  let cursor: string | null = parentId;
  const seen = new Set<string>();
  while (cursor) {
    if (cursor === departmentId)
      throw invalidField('body.parentId', 'would make a cycle in the department tree');
    if (seen.has(cursor)) break;
    seen.add(cursor);
    const parent: { parent_id: string | null } | undefined = await tx
      .selectFrom('departments')
      .select('parent_id')
      .where('account_id', '=', accountId)
      .where('id', '=', cursor)
      .executeTakeFirst();
    if (!parent) throw invalidField('body.parentId', 'no such department in this account');
    cursor = parent.parent_id;
  }
}

async function setMembers(
  tx: Tx,
  accountId: string,
  departmentId: string,
  memberIds: string[],
): Promise<void> {
  if (memberIds.length > 0) {
    const users = await tx
      .selectFrom('users')
      .select('id')
      .where('account_id', '=', accountId)
      .where('id', 'in', memberIds)
      .execute();
    if (users.length !== memberIds.length)
      throw invalidField('body.memberIds', 'contains a user not in this account');
  }
  await tx.deleteFrom('department_members').where('department_id', '=', departmentId).execute();
  if (memberIds.length > 0) {
    await tx
      .insertInto('department_members')
      .values(memberIds.map((user_id) => ({ account_id: accountId, department_id: departmentId, user_id })))
      .execute();
  }
}

export async function createDepartment(
  ctx: AppContext,
  actor: Actor,
  input: { name: string; parentId?: string | null; memberIds?: string[] },
): Promise<Department> {
  authorize(actor, 'manageUsers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    if (input.parentId) await assertParent(tx, actor.accountId, null, input.parentId);
    const row = await tx
      .insertInto('departments')
      .values({ account_id: actor.accountId, name: input.name, parent_id: input.parentId ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await setMembers(tx, actor.accountId, row.id, input.memberIds ?? []);
    events.emit(actor.accountId, 'department.changed', { departmentId: row.id, deleted: false });
    await recordAudit(
      tx,
      actor,
      { action: 'department.created', targetType: 'department', targetId: row.id },
      ctx.clock.now(),
    );
    return loadDepartment(tx, actor.accountId, row.id);
  });
}

export async function updateDepartment(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: { name?: string; parentId?: string | null; memberIds?: string[] },
): Promise<Department> {
  authorize(actor, 'manageUsers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    const before = await loadDepartment(tx, actor.accountId, id);
    if (input.parentId) await assertParent(tx, actor.accountId, id, input.parentId);
    if (input.name !== undefined || input.parentId !== undefined) {
      await tx
        .updateTable('departments')
        .set({
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.parentId !== undefined ? { parent_id: input.parentId } : {}),
        })
        .where('id', '=', id)
        .execute();
    }
    if (input.memberIds) await setMembers(tx, actor.accountId, id, input.memberIds);
    events.emit(actor.accountId, 'department.changed', { departmentId: id, deleted: false });
    const after = await loadDepartment(tx, actor.accountId, id);
    await recordAudit(
      tx,
      actor,
      {
        action: 'department.updated',
        targetType: 'department',
        targetId: id,
        changedKeys: keysChanged(before, after),
      },
      ctx.clock.now(),
    );
    return after;
  });
}

export async function deleteDepartment(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageUsers');
  await runInTransaction(ctx, async ({ tx, events }) => {
    await loadDepartment(tx, actor.accountId, id);
    const child = await tx
      .selectFrom('departments')
      .select('id')
      .where('parent_id', '=', id)
      .executeTakeFirst();
    if (child)
      throw new AppError('conflict', 'The department has sub-departments; move or delete them first');
    await tx.deleteFrom('departments').where('id', '=', id).execute();
    events.emit(actor.accountId, 'department.changed', { departmentId: id, deleted: true });
    await recordAudit(
      tx,
      actor,
      { action: 'department.deleted', targetType: 'department', targetId: id },
      ctx.clock.now(),
    );
  });
}

export async function listRoles(ctx: AppContext, actor: Actor): Promise<Role[]> {
  const rows = await ctx.store.db
    .selectFrom('roles')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  return rows.map(presentRole);
}

async function loadRole(tx: Tx, accountId: string, id: string) {
  const row = await tx
    .selectFrom('roles')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('The role');
  return row;
}

async function assertNameFree(tx: Tx, accountId: string, name: string, exceptId?: string): Promise<void> {
  let query = tx
    .selectFrom('roles')
    .select('id')
    .where('account_id', '=', accountId)
    .where('name', '=', name);
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst()) {
    throw new AppError('already_exists', 'A role with this name exists', [
      { field: 'body.name', message: 'is taken' },
    ]);
  }
}

export async function createRole(
  ctx: AppContext,
  actor: Actor,
  input: { name: string; permissions: Permissions },
) {
  authorize(actor, 'manageUsers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    await assertNameFree(tx, actor.accountId, input.name);
    const row = await tx
      .insertInto('roles')
      .values({
        account_id: actor.accountId,
        name: input.name,
        permissions: JSON.stringify(input.permissions),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'role.changed', { roleId: row.id, deleted: false });
    await recordAudit(
      tx,
      actor,
      { action: 'role.created', targetType: 'role', targetId: row.id },
      ctx.clock.now(),
    );
    return presentRole(row);
  });
}

export async function updateRole(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: { name?: string; permissions?: Permissions },
) {
  authorize(actor, 'manageUsers');
  return runInTransaction(ctx, async ({ tx, events }) => {
    const role = await loadRole(tx, actor.accountId, id);
    if (input.name !== undefined) await assertNameFree(tx, actor.accountId, input.name, id);
    // The administrator role keeps the right to manage users, or nobody could undo a mistake.
    if (role.built_in === 'administrator' && input.permissions && !input.permissions.manageUsers) {
      throw invalidField('body.permissions.manageUsers', 'the administrator role must keep it');
    }
    const row = await tx
      .updateTable('roles')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.permissions !== undefined ? { permissions: JSON.stringify(input.permissions) } : {}),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    events.emit(actor.accountId, 'role.changed', { roleId: id, deleted: false });
    await recordAudit(
      tx,
      actor,
      {
        action: 'role.updated',
        targetType: 'role',
        targetId: id,
        changedKeys: keysChanged(
          { name: role.name, permissions: role.permissions },
          { name: row.name, permissions: row.permissions },
        ),
      },
      ctx.clock.now(),
    );
    return presentRole(row);
  });
}

export async function deleteRole(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'manageUsers');
  await runInTransaction(ctx, async ({ tx, events }) => {
    const role = await loadRole(tx, actor.accountId, id);
    if (role.built_in) throw new AppError('conflict', 'Built-in roles cannot be deleted');
    const user = await tx.selectFrom('users').select('id').where('role_id', '=', id).executeTakeFirst();
    if (user) throw new AppError('conflict', 'Users still have this role; give them another role first');
    await tx.deleteFrom('roles').where('id', '=', id).execute();
    events.emit(actor.accountId, 'role.changed', { roleId: id, deleted: true });
    await recordAudit(
      tx,
      actor,
      { action: 'role.deleted', targetType: 'role', targetId: id },
      ctx.clock.now(),
    );
  });
}
