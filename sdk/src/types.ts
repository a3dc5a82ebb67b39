import type {
  ChangePasswordBody,
  CreateAbsenceBody,
  CreateApiTokenBody,
  CreateDepartmentBody,
  CreatedApiTokenSchema,
  CreateRoleBody,
  SetPresenceBody,
  UpdateDepartmentBody,
  UpdateRoleBody,
  UserListQuery,
} from '@openlines/contract';
import type { Static } from '@sinclair/typebox';

// Request shapes, derived from the contract's schemas so that they cannot drift from the server.
// Type-only imports: the SDK bundles no schema code into the web app or the widget.

export type ChangePasswordInput = Static<typeof ChangePasswordBody>;
export type CreateApiTokenInput = Static<typeof CreateApiTokenBody>;
export type CreatedApiToken = Static<typeof CreatedApiTokenSchema>;
export type UserListFilter = Static<typeof UserListQuery>;
export type SetPresenceInput = Static<typeof SetPresenceBody>;
export type CreateAbsenceInput = Static<typeof CreateAbsenceBody>;
export type CreateDepartmentInput = Static<typeof CreateDepartmentBody>;
export type UpdateDepartmentInput = Static<typeof UpdateDepartmentBody>;
export type CreateRoleInput = Static<typeof CreateRoleBody>;
export type UpdateRoleInput = Static<typeof UpdateRoleBody>;

export interface Health {
  status: string;
}
