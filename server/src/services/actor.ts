import type { PermissionFlag, Permissions, Scope } from '@openlines/contract';
import { scopeAtLeast } from '@openlines/contract';
import { AppError } from '../errors';

/** Who is acting: resolved once per request from the session cookie or the API token. */
export interface Actor {
  userId: string;
  accountId: string;
  roleId: string;
  permissions: Permissions;
  via: 'session' | 'token';
}

/** The one server-side permission check (AR-3): every route and service goes through it. */
export function authorize(actor: Actor, flag: PermissionFlag): void {
  if (!actor.permissions[flag]) throw new AppError('forbidden', `This needs the "${flag}" permission`);
}

export function authorizeScope(
  actor: Actor,
  permission: 'dialogHistory' | 'statistics' | 'crm',
  need: Scope,
): void {
  if (!scopeAtLeast(actor.permissions[permission], need)) {
    throw new AppError('forbidden', `This needs "${permission}" of at least "${need}"`);
  }
}
