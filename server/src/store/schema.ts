import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Kysely table types: one PostgreSQL schema for both PGlite and PostgreSQL. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp column with a database default (`now()`), optional on insert. */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface PlansTable {
  id: string;
  name: string;
  max_lines: number;
  max_users: number | null;
}

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  plan_id: string;
  /** The last event cursor handed out; bumped in the same transaction as the event row. */
  event_seq: Generated<number>;
  created_at: DefaultTimestamp;
}

export interface RolesTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  built_in: string | null;
  permissions: Json<import('@openlines/contract').Permissions>;
  created_at: DefaultTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  account_id: string;
  email: string;
  name: string;
  avatar_url: string | null;
  password_hash: string | null;
  role_id: string;
  active: Generated<boolean>;
  presence: Generated<'online' | 'away' | 'offline'>;
  presence_changed_at: DefaultTimestamp;
  created_at: DefaultTimestamp;
  deactivated_at: NullableTimestamp;
}

export interface DepartmentsTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  parent_id: string | null;
  created_at: DefaultTimestamp;
}

export interface DepartmentMembersTable {
  account_id: string;
  department_id: string;
  user_id: string;
}

export interface AbsencesTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  reason: string | null;
}

export interface AuthSessionsTable {
  /** SHA-256 of the session token; the token itself lives only in the browser's cookie. */
  token_hash: string;
  csrf_token: string;
  user_id: string;
  account_id: string;
  created_at: DefaultTimestamp;
  last_seen_at: DefaultTimestamp;
  expires_at: Timestamp;
  user_agent: string | null;
  ip: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  account_id: string;
  user_id: string;
  name: string;
  prefix: string;
  token_hash: string;
  created_at: DefaultTimestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface EventsTable {
  account_id: string;
  cursor: number;
  type: string;
  data: Json<unknown>;
  audience: Json<import('@openlines/contract').EventAudience>;
  created_at: DefaultTimestamp;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface DB {
  plans: PlansTable;
  accounts: AccountsTable;
  roles: RolesTable;
  users: UsersTable;
  departments: DepartmentsTable;
  department_members: DepartmentMembersTable;
  absences: AbsencesTable;
  auth_sessions: AuthSessionsTable;
  api_tokens: ApiTokensTable;
  events: EventsTable;
  server_settings: SettingsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;
export type AccountRow = Selectable<AccountsTable>;
export type DepartmentRow = Selectable<DepartmentsTable>;
export type AbsenceRow = Selectable<AbsencesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type EventRow = Selectable<EventsTable>;
