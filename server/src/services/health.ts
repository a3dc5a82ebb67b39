import type { AppContext } from '../context';
import { migrationsApplied, ping } from '../store/database';

export type Readiness = 'ready' | 'unmigrated' | 'unreachable';

/** Whether this process can serve: the database answers and every migration is applied. */
export async function readiness(ctx: AppContext): Promise<Readiness> {
  try {
    await ping(ctx.store.db);
    return (await migrationsApplied(ctx.store.db)) ? 'ready' : 'unmigrated';
  } catch {
    return 'unreachable';
  }
}
