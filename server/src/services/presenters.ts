import type { Absence, ApiToken, Department, Role, User } from '@openlines/contract';
import type { AbsenceRow, ApiTokenRow, DepartmentRow, RoleRow, UserRow } from '../store/schema';

/** Rows never leave the server as they are: each API shape is built field by field here. */
export function presentUser(row: UserRow, departmentIds: string[]): User {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    name: row.name,
    avatarUrl: row.avatar_url,
    clientName: row.client_name,
    clientAvatarUrl: row.client_avatar_url,
    roleId: row.role_id,
    active: row.active,
    presence: row.presence,
    departmentIds,
    createdAt: row.created_at.toISOString(),
  };
}

export function presentRole(row: RoleRow): Role {
  return { id: row.id, name: row.name, builtIn: row.built_in, permissions: row.permissions };
}

export function presentDepartment(row: DepartmentRow, memberIds: string[]): Department {
  return { id: row.id, name: row.name, parentId: row.parent_id, memberIds };
}

export function presentApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at ? row.last_used_at.toISOString() : null,
  };
}

export function presentAbsence(row: AbsenceRow): Absence {
  return {
    id: row.id,
    userId: row.user_id,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    reason: row.reason,
  };
}
