import { DateTime } from 'luxon';

/**
 * Working hours (WH-1, WH-4): is a line open at an instant, and when does it open next. Local
 * times are turned into instants by Luxon in the schedule's IANA zone, one local date at a time,
 * so daylight-saving changes, midnight and year ends need no arithmetic of ours: a day that is 23
 * or 25 hours long still opens at its local 09:00.
 *
 * Interval rules (from the settings model): [from, to) in local time, never crossing midnight,
 * `24:00` meaning the end of the day. A local time that does not exist (the hour skipped when
 * clocks go forward) is moved forward by the gap, as Luxon does; a repeated hour uses its first
 * occurrence.
 */

export const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekdayKey = (typeof WEEKDAY_KEYS)[number];

export interface WorkSchedule {
  timeZone: string;
  weekly: Record<WeekdayKey, readonly { from: string; to: string }[]>;
  daysOff: readonly WeekdayKey[];
  /** `YYYY-MM-DD` (once) or `MM-DD` (every year). */
  holidays: readonly string[];
}

/** How far ahead to look for the next opening; a schedule with no open hour at all never opens. */
const HORIZON_DAYS = 400;

function clock(date: DateTime, time: string): DateTime {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  if (hours === 24) return date.plus({ days: 1 }).startOf('day');
  return date.set({ hour: hours, minute: minutes, second: 0, millisecond: 0 });
}

function isHoliday(schedule: WorkSchedule, date: DateTime): boolean {
  const full = date.toFormat('yyyy-MM-dd');
  const yearly = date.toFormat('MM-dd');
  return schedule.holidays.includes(full) || schedule.holidays.includes(yearly);
}

/** The open intervals of one local date, as instants, in order. */
function intervalsOn(schedule: WorkSchedule, date: DateTime): { start: Date; end: Date }[] {
  const weekday = WEEKDAY_KEYS[date.weekday - 1]!;
  if (schedule.daysOff.includes(weekday) || isHoliday(schedule, date)) return [];
  return schedule.weekly[weekday]
    .map(({ from, to }) => ({ start: clock(date, from).toJSDate(), end: clock(date, to).toJSDate() }))
    .filter(({ start, end }) => start < end)
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}

function localDate(schedule: WorkSchedule, at: Date): DateTime {
  const local = DateTime.fromJSDate(at, { zone: schedule.timeZone });
  if (!local.isValid) throw new Error(`Unknown time zone ${schedule.timeZone}`);
  return local.startOf('day');
}

export function isOpenAt(schedule: WorkSchedule, at: Date): boolean {
  // The previous local date is checked too: its 24:00 end is this date's midnight.
  const today = localDate(schedule, at);
  for (const date of [today.minus({ days: 1 }), today]) {
    for (const { start, end } of intervalsOn(schedule, date)) if (start <= at && at < end) return true;
  }
  return false;
}

/** `at` itself when open; else the start of the next open interval; null if none within a year. */
export function nextOpeningAt(schedule: WorkSchedule, at: Date): Date | null {
  if (isOpenAt(schedule, at)) return at;
  let date = localDate(schedule, at);
  for (let day = 0; day < HORIZON_DAYS; day++, date = date.plus({ days: 1 })) {
    for (const { start } of intervalsOn(schedule, date)) if (start > at) return start;
  }
  return null;
}

/** When the current open period ends (null when closed now or never within the horizon). */
export function closesAt(schedule: WorkSchedule, at: Date): Date | null {
  if (!isOpenAt(schedule, at)) return null;
  let end = at;
  // Touching intervals (13:00–18:00 after 09:00–13:00, or 24:00 then 00:00) are one open period.
  for (let guard = 0; guard < HORIZON_DAYS * 8 && isOpenAt(schedule, end); guard++) {
    let date = localDate(schedule, end).minus({ days: 1 });
    let next: Date | null = null;
    for (let i = 0; i < 2 && !next; i++, date = date.plus({ days: 1 })) {
      for (const interval of intervalsOn(schedule, date)) {
        if (interval.start <= end && end < interval.end) next = interval.end;
      }
    }
    if (!next) break;
    end = next;
  }
  return end;
}
