import type { AppContext } from '../context';

export interface LineQueue {
  lineId: string;
  queued: number;
  longestWaitSeconds: number;
}

/** Sessions waiting in each line's queue and the longest wait, in one statement (metrics scrape). */
export async function queueByLine(ctx: AppContext): Promise<LineQueue[]> {
  const now = ctx.clock.now();
  const rows = await ctx.store.db
    .selectFrom('sessions')
    .select((eb) => ['line_id', eb.fn.countAll<number>().as('queued'), eb.fn.min('queued_at').as('since')])
    .where('status', '=', 'queued')
    .groupBy('line_id')
    .execute();
  return rows.map((row) => ({
    lineId: row.line_id,
    queued: Number(row.queued),
    longestWaitSeconds: row.since ? Math.max(0, (now.getTime() - new Date(row.since).getTime()) / 1000) : 0,
  }));
}
