import { describe, expect, it } from 'vitest';
import { lastPeriodsStart, parseLast, parseWeekday, weekStart } from '../../src/query/periods.js';
import { dateToDay, dayToDate } from '../../src/query/timezone.js';
import { dailyReport, monthlyReport, weeklyReport } from '../../src/reports/reports.js';
import { parseReportOptions } from '../../src/query/options.js';
import { tempStore, write, usageEvent } from '../reports/helpers.js';

const day = (d: string) => dateToDay(d);

describe('weeks', () => {
  it('start on Sunday by default, or on the day asked', () => {
    // 2026-03-04 is a Wednesday.
    expect(dayToDate(weekStart(day('2026-03-04')))).toBe('2026-03-01');
    expect(dayToDate(weekStart(day('2026-03-01')))).toBe('2026-03-01');
    expect(dayToDate(weekStart(day('2026-02-28')))).toBe('2026-02-22');
    expect(dayToDate(weekStart(day('2026-03-04'), 'monday'))).toBe('2026-03-02');
    expect(dayToDate(weekStart(day('2026-03-01'), 'monday'))).toBe('2026-02-23');
    expect(dayToDate(weekStart(day('2026-03-04'), 'saturday'))).toBe('2026-02-28');
    expect(dayToDate(weekStart(day('1969-12-31')))).toBe('1969-12-28');
  });

  it('weekday names are checked', () => {
    expect(parseWeekday('Monday')).toBe('monday');
    expect(() => parseWeekday('mon')).toThrow(/--start-of-week/);
  });
});

describe('--last N', () => {
  it('counts back from the current period, which is included', () => {
    const today = day('2026-03-04');
    expect(dayToDate(lastPeriodsStart('day', 1, today))).toBe('2026-03-04');
    expect(dayToDate(lastPeriodsStart('day', 7, today))).toBe('2026-02-26');
    expect(dayToDate(lastPeriodsStart('week', 1, today))).toBe('2026-03-01');
    expect(dayToDate(lastPeriodsStart('week', 2, today, 'monday'))).toBe('2026-02-23');
    expect(dayToDate(lastPeriodsStart('month', 1, today))).toBe('2026-03-01');
    expect(dayToDate(lastPeriodsStart('month', 3, today))).toBe('2026-01-01');
    expect(dayToDate(lastPeriodsStart('month', 15, today))).toBe('2025-01-01');
  });

  it('wants a whole number of at least 1', () => {
    expect(parseLast('3')).toBe(3);
    expect(() => parseLast('0')).toThrow(/--last/);
    expect(() => parseLast('-2')).toThrow(/--last/);
    expect(parseReportOptions({ last: '2', startOfWeek: 'monday' })).toMatchObject({ last: 2, startOfWeek: 'monday' });
  });

  it('narrows daily, weekly and monthly reports to the recent periods, in the report zone', () => {
    const { db } = tempStore();
    write(db, ['2026-01-15T12:00:00Z', '2026-02-20T12:00:00Z', '2026-02-27T12:00:00Z', '2026-03-02T12:00:00Z', '2026-03-04T12:00:00Z'].map((ts) => usageEvent({ ts })));
    const now = Date.parse('2026-03-04T20:00:00Z');
    const o = { now, timezone: 'UTC', scope: { kind: 'local' as const } };
    expect(dailyReport(db, { ...o, last: 1 }).daily.map((d) => d.date)).toEqual(['2026-03-04']);
    expect(dailyReport(db, { ...o, last: 3 }).daily.map((d) => d.date)).toEqual(['2026-03-02', '2026-03-04']);
    expect(weeklyReport(db, { ...o, last: 1 }).weekly.map((d) => d.week)).toEqual(['2026-03-01']);
    expect(weeklyReport(db, { ...o, last: 2 }).weekly.map((d) => d.week)).toEqual(['2026-02-22', '2026-03-01']);
    expect(weeklyReport(db, { ...o, last: 2, startOfWeek: 'monday' }).weekly.map((d) => d.week)).toEqual(['2026-02-23', '2026-03-02']);
    expect(monthlyReport(db, { ...o, last: 2 }).monthly.map((d) => d.month)).toEqual(['2026-02', '2026-03']);
    // Past midnight in Tokyo (UTC+9) it is already 5 March there: --last 1 is an empty day.
    expect(dailyReport(db, { ...o, timezone: 'Asia/Tokyo', last: 1 }).daily).toEqual([]);
    // A later --since wins over --last.
    expect(dailyReport(db, { ...o, last: 30, since: '2026-03-03' }).daily.map((d) => d.date)).toEqual(['2026-03-04']);
  });

  it('weekly sums every day of a week into the row of its first day', () => {
    const { db } = tempStore();
    write(db, ['2026-03-01T00:30:00Z', '2026-03-07T23:30:00Z', '2026-03-08T00:30:00Z'].map((ts) => usageEvent({ ts, input: 1000, output: 0 })));
    const r = weeklyReport(db, { timezone: 'UTC', scope: { kind: 'local' } });
    expect(r.weekly.map((w) => [w.week, w.inputTokens])).toEqual([['2026-03-01', 2000], ['2026-03-08', 1000]]);
    expect(r.totals.inputTokens).toBe(3000);
    expect(r.meta.startOfWeek).toBe('sunday');
  });
});
