import type { AppContext } from '../context';
import { migrationsApplied, ping } from '../store/database';

export type Readiness = 'ready' | 'unmigrated' | 'unreachable' | 'bus_unreachable';

/**
 * Whether this process can serve: the database answers and every migration is applied, and the
 * bus between processes (Redis, when configured) answers too.
 */
export async function readiness(ctx: AppContext): Promise<Readiness> {
  try {
    await ping(ctx.store.db);
    if (!(await migrationsApplied(ctx.store.db))) return 'unmigrated';
  } catch {
    return 'unreachable';
  }
  return (await ctx.bus.reachable()) ? 'ready' : 'bus_unreachable';
}
