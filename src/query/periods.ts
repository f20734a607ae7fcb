import { SuError } from '../errors.js';
import { dateToDay, dayToDate } from './timezone.js';

/**
 * Calendar periods over local day numbers (days since 1970-01-01 in the report's zone):
 * weeks that start on a chosen weekday, and the `--last N` windows of daily, weekly and
 * monthly reports.
 */

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export type Period = 'day' | 'week' | 'month';

/** Parses a weekday name (any case); ccusage's default is Sunday. */
export function parseWeekday(v: string, flag = '--start-of-week'): Weekday {
  const w = v.trim().toLowerCase();
  if (!(WEEKDAYS as readonly string[]).includes(w)) {
    throw new SuError('USAGE', `${flag} wants a weekday, got '${v}'`, { hint: `use one of: ${WEEKDAYS.join(', ')}` });
  }
  return w as Weekday;
}

/** Parses `--last N`: a whole number of periods, at least 1. */
export function parseLast(v: string | number, flag = '--last'): number {
  const s = String(v).trim();
  if (!/^\d{1,6}$/.test(s) || Number(s) < 1) {
    throw new SuError('USAGE', `${flag} wants a whole number of periods (1 or more), got '${v}'`, { hint: `e.g. ${flag} 7` });
  }
  return Number(s);
}

/** The first day of the week holding `day`, for weeks starting on `start`. 1970-01-01 was a Thursday. */
export function weekStart(day: number, start: Weekday = 'sunday'): number {
  const dow = (((day + 4) % 7) + 7) % 7;
  return day - ((dow - WEEKDAYS.indexOf(start) + 7) % 7);
}

/** The first day of the month holding `day`. */
function monthStart(day: number): number {
  return dateToDay(dayToDate(day).slice(0, 8) + '01');
}

/** The first day of the N most recent periods that end with the one holding `today` (`--last 1` = this one). */
export function lastPeriodsStart(period: Period, n: number, today: number, startOfWeek: Weekday = 'sunday'): number {
  if (period === 'day') return today - (n - 1);
  if (period === 'week') return weekStart(today, startOfWeek) - 7 * (n - 1);
  const d = new Date(monthStart(today) * 86_400_000);
  d.setUTCMonth(d.getUTCMonth() - (n - 1));
  return Math.floor(d.getTime() / 86_400_000);
}
