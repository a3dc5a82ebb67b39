import { type Static, Type } from '@sinclair/typebox';

/**
 * Access rights (SPEC AR-1..AR-3). A role is a set of permissions that applies to every line of
 * the account (AR-2). Scopes say whose dialogs or statistics a user may see.
 */
export const ScopeSchema = Type.Union(
  [Type.Literal('none'), Type.Literal('own'), Type.Literal('department'), Type.Literal('all')],
  { description: 'none / own / own department / all' },
);
export type Scope = Static<typeof ScopeSchema>;

export const PermissionsSchema = Type.Object(
  {
    manageLines: Type.Boolean({ description: 'Create lines, change their settings and channels' }),
    manageUsers: Type.Boolean({ description: 'Create, deactivate users; departments; roles' }),
    manageQuickAnswers: Type.Boolean({ description: 'Create, edit and delete shared quick answers' }),
    dialogHistory: ScopeSchema,
    statistics: ScopeSchema,
    supervise: Type.Boolean({
      description: "Act on other operators' dialogs: take over, close, transfer, rate as a supervisor",
    }),
    managePersonalData: Type.Boolean({
      description: "Export, erase or anonymise a client's personal data; read the audit log",
    }),
    manageIntegrations: Type.Boolean({
      description: 'Event webhooks, chatbots, REST applications and their tokens',
    }),
    /** Whose CRM records (contacts, companies, leads, deals) the user may see and edit. */
    crm: ScopeSchema,
  },
  { additionalProperties: false },
);
export type Permissions = Static<typeof PermissionsSchema>;

export type PermissionFlag = {
  [K in keyof Permissions]: Permissions[K] extends boolean ? K : never;
}[keyof Permissions];

export const SCOPE_ORDER: readonly Scope[] = ['none', 'own', 'department', 'all'];

export function scopeAtLeast(have: Scope, need: Scope): boolean {
  return SCOPE_ORDER.indexOf(have) >= SCOPE_ORDER.indexOf(need);
}

/** The roles every new account starts with; they can be edited, and more can be added. */
export const BUILT_IN_ROLES = {
  administrator: {
    name: 'Administrator',
    permissions: {
      manageLines: true,
      manageUsers: true,
      manageQuickAnswers: true,
      dialogHistory: 'all',
      statistics: 'all',
      supervise: true,
      managePersonalData: true,
      manageIntegrations: true,
      crm: 'all',
    },
  },
  supervisor: {
    name: 'Supervisor',
    permissions: {
      manageLines: false,
      manageUsers: false,
      manageQuickAnswers: true,
      dialogHistory: 'all',
      statistics: 'all',
      supervise: true,
      managePersonalData: false,
      manageIntegrations: false,
      crm: 'all',
    },
  },
  operator: {
    name: 'Operator',
    permissions: {
      manageLines: false,
      manageUsers: false,
      manageQuickAnswers: false,
      dialogHistory: 'own',
      statistics: 'own',
      supervise: false,
      managePersonalData: false,
      manageIntegrations: false,
      crm: 'own',
    },
  },
} as const satisfies Record<string, { name: string; permissions: Permissions }>;

export type BuiltInRoleKey = keyof typeof BUILT_IN_ROLES;
