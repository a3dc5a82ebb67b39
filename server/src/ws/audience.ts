import type { EventAudience, PermissionFlag } from '@openlines/contract';
import type { Actor } from '../services/actor';
import { seesEveryDialog } from '../services/policies/dialog-visibility';

/**
 * Whether a connected user may receive an event. The same rule decides live delivery and replay
 * by cursor, so a reconnecting client never sees more than it would have live.
 */
export function canReceive(actor: Actor, audience: EventAudience): boolean {
  if (audience.users?.includes(actor.userId)) return true;
  // Who held the dialog before reads it by their own history (policies/dialog-visibility.ts).
  if (audience.historyUsers?.includes(actor.userId) && actor.permissions.dialogHistory !== 'none')
    return true;
  if ((audience.users || audience.historyUsers) && !audience.lineId) return false;
  if (audience.permission && !actor.permissions[audience.permission as PermissionFlag]) return false;
  // Line events name their operators in `users` (policies/dialog-visibility.ts, `dialogAudience`);
  // everyone else needs to see every dialog.
  if (audience.lineId) return seesEveryDialog(actor);
  return true;
}
