import { type Static, Type } from '@sinclair/typebox';
import { Email, IdSchema, Name, Timestamp } from './common';
import { PermissionsSchema } from './permissions';

export const PresenceSchema = Type.Union([
  Type.Literal('online'),
  Type.Literal('away'),
  Type.Literal('offline'),
]);
export type Presence = Static<typeof PresenceSchema>;

export const PasswordSchema = Type.String({
  minLength: 10,
  maxLength: 200,
  description: 'At least 10 characters',
});

export const UserSchema = Type.Object(
  {
    id: IdSchema,
    accountId: IdSchema,
    email: Type.String(),
    name: Type.String(),
    avatarUrl: Type.Union([Type.String(), Type.Null()]),
    clientName: Type.Union([Type.String(), Type.Null()], {
      description:
        'Q-8: the name clients see instead of `name` on lines that show the profile; null = `name`',
    }),
    clientAvatarUrl: Type.Union([Type.String(), Type.Null()], {
      description: 'Q-8: the photo clients see instead of `avatarUrl`; null = `avatarUrl`',
    }),
    roleId: IdSchema,
    active: Type.Boolean({ description: 'False once the user is deactivated ("dismissed")' }),
    presence: PresenceSchema,
    departmentIds: Type.Array(IdSchema),
    createdAt: Timestamp,
  },
  { title: 'User' },
);
export type User = Static<typeof UserSchema>;

export const MeSchema = Type.Object(
  {
    user: UserSchema,
    account: Type.Object({ id: IdSchema, name: Type.String(), planId: Type.String() }),
    permissions: PermissionsSchema,
    csrfToken: Type.Optional(Type.String({ description: 'Send as X-CSRF-Token on unsafe requests' })),
  },
  { title: 'Me' },
);
export type Me = Static<typeof MeSchema>;

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Name,
    password: PasswordSchema,
    roleId: Type.Optional(IdSchema),
    avatarUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    departmentIds: Type.Optional(Type.Array(IdSchema, { maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

/** An http(s) URL of a photo: one uploaded through /api/files, or anywhere on the web. */
const PhotoUrl = Type.String({
  format: 'uri',
  maxLength: 2000,
  pattern: '^https?://\\S+$',
  description: 'An http(s) URL',
});

/** The name and photo an operator is shown to clients under; null goes back to the profile's. */
const ClientProfileFields = {
  clientName: Type.Optional(Type.Union([Name, Type.Null()])),
  clientAvatarUrl: Type.Optional(Type.Union([PhotoUrl, Type.Null()])),
};

export const UpdateMeBody = Type.Object(ClientProfileFields, {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateMeBody = Static<typeof UpdateMeBody>;

export const UpdateUserBody = Type.Object(
  {
    ...ClientProfileFields,
    name: Type.Optional(Name),
    roleId: Type.Optional(IdSchema),
    avatarUrl: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2000 }), Type.Null()])),
    departmentIds: Type.Optional(Type.Array(IdSchema, { maxItems: 100, uniqueItems: true })),
    active: Type.Optional(
      Type.Boolean({ description: 'false deactivates the user and ends their sessions' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const UserListQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    departmentId: Type.Optional(IdSchema),
    search: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const SetPresenceBody = Type.Object({ presence: PresenceSchema }, { additionalProperties: false });

export const AbsenceSchema = Type.Object(
  {
    id: IdSchema,
    userId: IdSchema,
    startsAt: Timestamp,
    endsAt: Timestamp,
    reason: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'Absence' },
);
export type Absence = Static<typeof AbsenceSchema>;

export const CreateAbsenceBody = Type.Object(
  {
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const DepartmentSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    parentId: Type.Union([IdSchema, Type.Null()]),
    memberIds: Type.Array(IdSchema),
  },
  { title: 'Department' },
);
export type Department = Static<typeof DepartmentSchema>;

export const CreateDepartmentBody = Type.Object(
  {
    name: Name,
    parentId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
    memberIds: Type.Optional(Type.Array(IdSchema, { maxItems: 1000, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export const UpdateDepartmentBody = Type.Object(
  {
    name: Type.Optional(Name),
    parentId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
    memberIds: Type.Optional(Type.Array(IdSchema, { maxItems: 1000, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RoleSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    builtIn: Type.Union([Type.String(), Type.Null()], { description: 'administrator/supervisor/operator' }),
    permissions: PermissionsSchema,
  },
  { title: 'Role' },
);
export type Role = Static<typeof RoleSchema>;

export const CreateRoleBody = Type.Object(
  { name: Name, permissions: PermissionsSchema },
  { additionalProperties: false },
);
export const UpdateRoleBody = Type.Object(
  { name: Type.Optional(Name), permissions: Type.Optional(PermissionsSchema) },
  { additionalProperties: false, minProperties: 1 },
);

export const ApiTokenSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the token, to recognise it' }),
    userId: IdSchema,
    createdAt: Timestamp,
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { title: 'ApiToken' },
);
export type ApiToken = Static<typeof ApiTokenSchema>;

export const CreatedApiTokenSchema = Type.Object({
  token: Type.String({ description: 'Shown once; only its hash is stored' }),
  apiToken: ApiTokenSchema,
});

export const CreateApiTokenBody = Type.Object({ name: Name }, { additionalProperties: false });

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: PasswordSchema },
  { additionalProperties: false },
);

export const WorkloadSchema = Type.Object(
  {
    userId: IdSchema,
    presence: PresenceSchema,
    openSessions: Type.Integer({ description: 'Sessions the user holds now, on every line' }),
  },
  { title: 'Workload' },
);
export type Workload = Static<typeof WorkloadSchema>;
