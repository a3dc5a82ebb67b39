import type { ScheduleStatus } from '@openlines/contract';
import type { AppContext } from '../../context';
import { lineSchedule, widgetSchedule } from '../../core/automation';
import { closesAt, isOpenAt, nextOpeningAt, type WorkSchedule } from '../../core/schedule';
import type { ChannelRow, LineRow } from '../../store/schema';
import type { Actor } from '../actor';
import { loadLineRow } from '../line-rows';

/** "Is it open now, when does it open next, when does it close": for a schedule, or always open. */
export function scheduleStatus(schedule: WorkSchedule | null, now: Date): ScheduleStatus {
  if (!schedule) return { open: true, nextOpenAt: null, closesAt: null, timeZone: 'UTC' };
  const open = isOpenAt(schedule, now);
  const next = open ? null : nextOpeningAt(schedule, now);
  const closes = open ? closesAt(schedule, now) : null;
  return {
    open,
    nextOpenAt: next ? next.toISOString() : null,
    closesAt: closes ? closes.toISOString() : null,
    timeZone: schedule.timeZone,
  };
}

/** WH-2: outside its working hours a line stores and queues, but routes nothing. */
export function lineOpenNow(line: LineRow, now: Date): boolean {
  const schedule = lineSchedule(line.settings);
  return schedule === null || isOpenAt(schedule, now);
}

export async function lineScheduleOf(ctx: AppContext, actor: Actor, lineId: string) {
  const line = await loadLineRow(ctx.store.db, actor.accountId, lineId);
  const now = ctx.clock.now();
  return {
    line: scheduleStatus(lineSchedule(line.settings), now),
    widget: scheduleStatus(widgetSchedule(line.settings), now),
  };
}

/** WH-3, for the widget: whether to show itself, and what to do when closed. */
export async function widgetAvailability(
  ctx: AppContext,
  channel: ChannelRow,
): Promise<{ open: boolean; nextOpenAt: string | null; whenClosed: 'hide' | 'offline_form' }> {
  const line = channel.line_id
    ? await ctx.store.db.selectFrom('lines').selectAll().where('id', '=', channel.line_id).executeTakeFirst()
    : undefined;
  if (!line) return { open: false, nextOpenAt: null, whenClosed: 'hide' };
  const status = scheduleStatus(widgetSchedule(line.settings), ctx.clock.now());
  return {
    open: status.open,
    nextOpenAt: status.nextOpenAt,
    whenClosed: line.settings.workingHours.widget.whenClosed,
  };
}
