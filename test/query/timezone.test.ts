import { afterEach, describe, expect, it } from 'vitest';
import { checkTimeZone, dateToDay, dayStartMs, defaultDayStartMs, defaultTimeZone, localDate, localDayStartMs, offsetAt, offsetSegments, parseReportDate } from '../../src/query/timezone.js';
import { dailyReport } from '../../src/reports/index.js';
import { tempStore, usageEvent, write } from '../reports/helpers.js';

/** The local date of an instant as Intl prints it: the reference our SQL must agree with. */
function intlDate(tz: string, ms: number): string {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  return p;
}

/** Tests that set the process's TZ put it back (Node re-reads the zone when TZ is assigned). */
function restoreTzAfterEach(): void {
  const processTz = process.env.TZ;
  afterEach(() => {
    if (processTz === undefined) delete process.env.TZ;
    else process.env.TZ = processTz;
  });
}

const ZONES = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Santiago', 'America/Havana', 'Europe/Dublin'];

describe('offsets', () => {
  it('match Intl in zones with DST, :30 and :45 offsets', () => {
    expect(offsetAt('Asia/Kolkata', Date.parse('2026-01-15T00:00:00Z'))).toBe(5.5 * 3600_000);
    expect(offsetAt('Asia/Kathmandu', Date.parse('2026-01-15T00:00:00Z'))).toBe(5.75 * 3600_000);
    expect(offsetAt('America/New_York', Date.parse('2026-01-15T00:00:00Z'))).toBe(-5 * 3600_000);
    expect(offsetAt('America/New_York', Date.parse('2026-07-15T00:00:00Z'))).toBe(-4 * 3600_000);
  });

  it('finds DST transitions to the second', () => {
    const seg = offsetSegments('America/New_York', Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-12-31T00:00:00Z'));
    // 2026-03-08 02:00 EST = 07:00Z; 2026-11-01 02:00 EDT = 06:00Z.
    expect(seg.starts.slice(1).map((t) => new Date(t).toISOString())).toEqual(['2026-03-08T07:00:00.000Z', '2026-11-01T06:00:00.000Z']);
    expect(seg.offsets).toEqual([-5 * 3600_000, -4 * 3600_000, -5 * 3600_000]);
    // Lord Howe shifts by 30 minutes.
    const lh = offsetSegments('Australia/Lord_Howe', Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-12-31T00:00:00Z'));
    expect(new Set(lh.offsets)).toEqual(new Set([11 * 3600_000, 10.5 * 3600_000]));
  });

  it('localDate agrees with Intl on random instants', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const tz of ZONES) {
      for (let i = 0; i < 200; i++) {
        const ms = Date.parse('2024-01-01T00:00:00Z') + Math.floor(rnd() * 3 * 365 * 86400_000);
        expect(localDate(tz, ms), `${tz} ${new Date(ms).toISOString()}`).toBe(intlDate(tz, ms));
      }
    }
  });
});

describe('day starts', () => {
  it('are the first instant of a local date, also where DST skips or repeats midnight', () => {
    const at = (tz: string, date: string) => new Date(dayStartMs(tz, dateToDay(date))).toISOString();
    expect(at('UTC', '2026-03-01')).toBe('2026-03-01T00:00:00.000Z');
    expect(at('Europe/Berlin', '2026-03-29')).toBe('2026-03-28T23:00:00.000Z');
    // Asunción skipped 00:00-01:00 on 2024-10-06; Havana had midnight twice on 2024-11-03 (04:00 and 05:00 UTC).
    expect(at('America/Asuncion', '2024-10-06')).toBe('2024-10-06T04:00:00.000Z');
    expect(at('America/Havana', '2024-11-03')).toBe('2024-11-03T04:00:00.000Z');
    expect(new Date(localDayStartMs('America/Havana', Date.parse('2024-11-03T12:00:00Z'))).toISOString()).toBe('2024-11-03T04:00:00.000Z');
  });

  it('hold the instant and nothing earlier of its day, in every zone', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const tz of ZONES) {
      for (let i = 0; i < 200; i++) {
        const ms = Date.parse('2024-01-01T00:00:00Z') + Math.floor(rnd() * 3 * 365 * 86_400) * 1000;
        const start = localDayStartMs(tz, ms);
        expect(start <= ms && localDate(tz, start) === localDate(tz, ms), `${tz} ${new Date(ms).toISOString()}`).toBe(true);
        expect(localDate(tz, start - 1000) < localDate(tz, ms), `${tz} ${new Date(ms).toISOString()}`).toBe(true);
      }
    }
  });
});

describe('day grouping in SQL', () => {
  it('puts every request on the local day Intl says, in every zone', () => {
    const { db } = tempStore();
    // Instants near local midnights, around DST changes and random ones.
    const instants: number[] = [
      Date.parse('2026-03-08T06:59:59Z'), // 01:59:59 EST
      Date.parse('2026-03-08T07:00:00Z'), // 03:00 EDT
      Date.parse('2026-03-09T03:59:59Z'), // 23:59:59 EDT on the 8th
      Date.parse('2026-03-09T04:00:00Z'), // 00:00 EDT on the 9th
      Date.parse('2026-11-01T03:59:59Z'),
      Date.parse('2026-11-01T04:00:00Z'),
      Date.parse('2026-11-01T05:30:00Z'), // the repeated hour
      Date.parse('2026-11-01T06:30:00Z'),
      Date.parse('2026-01-14T18:29:59Z'), // 23:59:59 in Kolkata
      Date.parse('2026-01-14T18:30:00Z'), // 00:00 in Kolkata
      Date.parse('2026-01-14T18:14:59Z'), // 23:59:59 in Kathmandu
      Date.parse('2026-01-14T18:15:00Z'),
    ];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) instants.push(Date.parse('2025-01-01T00:00:00Z') + Math.floor(rnd() * 2 * 365 * 86400_000));
    write(db, instants.map((ms) => usageEvent({ ts: new Date(ms).toISOString(), input: 1, output: 0 })));

    for (const tz of ZONES) {
      const expected = new Map<string, number>();
      for (const ms of instants) expected.set(intlDate(tz, ms), (expected.get(intlDate(tz, ms)) ?? 0) + 1);
      const got = new Map(dailyReport(db, { timezone: tz }).daily.map((d) => [d.date, d.inputTokens]));
      expect(got, tz).toEqual(expected);
    }
  });

  it('since/until are inclusive local days', () => {
    const { db } = tempStore();
    write(db, [
      usageEvent({ ts: '2026-01-14T18:29:00Z', input: 1 }), // Kolkata 01-14 23:59, UTC 01-14
      usageEvent({ ts: '2026-01-14T18:31:00Z', input: 10 }), // Kolkata 01-15 00:01, UTC 01-14
      usageEvent({ ts: '2026-01-15T23:00:00Z', input: 100 }), // Kolkata 01-16 04:30, UTC 01-15
    ]);
    const k = dailyReport(db, { timezone: 'Asia/Kolkata', since: '2026-01-15', until: '2026-01-15' });
    expect(k.daily.map((d) => [d.date, d.inputTokens])).toEqual([['2026-01-15', 10]]);
    expect(k.totals.inputTokens).toBe(10);
    const u = dailyReport(db, { timezone: 'UTC', since: '2026-01-14', until: '2026-01-14' });
    expect(u.daily.map((d) => [d.date, d.inputTokens])).toEqual([['2026-01-14', 11]]);
    expect(dailyReport(db, { timezone: 'UTC', since: '2026-01-15' }).totals.inputTokens).toBe(100);
    expect(dailyReport(db, { timezone: 'UTC', until: '2026-01-13' }).daily).toEqual([]);
  });
});

describe('the start of today in the default zone (the status line)', () => {
  restoreTzAfterEach();

  it("in the process's own zone (Date, no Intl): the first instant of the local date Intl names, midnight skipped or repeated", () => {
    const wrong: string[] = [];
    for (const tz of ZONES) {
      process.env.TZ = tz;
      const date = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
      for (let ms = Date.parse('2025-01-01T00:00:00Z'); ms < Date.parse('2027-01-01T00:00:00Z'); ms += 7 * 3_600_000 + 13 * 60_000) {
        const start = defaultDayStartMs(process.env, ms);
        const day = date.format(ms);
        if (date.format(start) !== day || date.format(start - 1) === day) wrong.push(`${tz} ${new Date(ms).toISOString()}: ${new Date(start).toISOString()}`);
      }
    }
    expect(wrong).toEqual([]);
    // Havana falls back from 01:00 to 00:00: 2026-11-01 began at the first midnight, 04:00Z (UTC-4), not the second.
    process.env.TZ = 'America/Havana';
    expect(new Date(defaultDayStartMs(process.env, Date.parse('2026-11-01T12:00:00Z'))).toISOString()).toBe('2026-11-01T04:00:00.000Z');
  });

  it("in a zone the caller's env names (not the process's): the named zone's midnight", () => {
    process.env.TZ = 'UTC';
    const ms = Date.parse('2026-07-15T02:30:00Z');
    expect(defaultDayStartMs({ TZ: 'America/New_York' }, ms)).toBe(localDayStartMs('America/New_York', ms));
    expect(new Date(defaultDayStartMs({ TZ: 'America/New_York' }, ms)).toISOString()).toBe('2026-07-14T04:00:00.000Z');
    expect(defaultDayStartMs({ TZ: 'Asia/Kolkata' }, ms)).toBe(localDayStartMs(defaultTimeZone({ TZ: 'Asia/Kolkata' }), ms));
    expect(new Date(defaultDayStartMs({ TZ: 'UTC' }, ms)).toISOString()).toBe('2026-07-15T00:00:00.000Z');
  });
});

describe("the process's own zone: offsets from Date, the name from the system, no Intl", () => {
  restoreTzAfterEach();

  it('gives the offsets, transitions and local dates Intl gives', () => {
    const wrong: string[] = [];
    for (const tz of ZONES) {
      // The reference: the zone read through Intl, while the process's zone is another one.
      process.env.TZ = tz === 'Asia/Kolkata' ? 'Europe/Berlin' : 'Asia/Kolkata';
      const from = Date.parse('2024-01-01T00:00:00Z');
      const to = Date.parse('2027-01-01T00:00:00Z');
      const viaIntl = offsetSegments(tz, from, to);
      const offsets: number[] = [];
      for (let ms = from; ms < to; ms += 5 * 3_600_000 + 17 * 60_000) offsets.push(offsetAt(tz, ms));
      process.env.TZ = tz;
      expect(offsetSegments(tz, from, to), tz).toEqual(viaIntl);
      let k = 0;
      for (let ms = from; ms < to; ms += 5 * 3_600_000 + 17 * 60_000, k++) {
        if (offsetAt(tz, ms) !== offsets[k]) wrong.push(`${tz} ${new Date(ms).toISOString()}`);
        if (k % 50 === 0 && localDate(tz, ms) !== intlDate(tz, ms)) wrong.push(`${tz} date ${new Date(ms).toISOString()}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('is named as TZ names it when that is a zone file, UTC for its aliases, else as Intl resolves it', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(defaultTimeZone()).toBe('Asia/Kolkata');
    process.env.TZ = 'Etc/UTC';
    expect(defaultTimeZone()).toBe('UTC');
    // A folder of zone files, a leap-second zone and a path are not zone names: the system zone stands in.
    for (const notAZone of ['America', 'right/Europe/Berlin', '../zoneinfo/UTC', ':Europe/Berlin', 'UTC/below-a-file']) {
      expect(defaultTimeZone({ TZ: notAZone }), notAZone).toBe(defaultTimeZone({}));
    }
    expect(() => checkTimeZone('America')).toThrow(/unknown time zone/);
    expect(checkTimeZone('Pacific/Chatham')).toBe('Pacific/Chatham');
  });
});

describe('input checks', () => {
  it('rejects unknown zones and bad dates as usage errors', () => {
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(/unknown time zone/);
    expect(checkTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(parseReportDate('20260131', '--since')).toBe('2026-01-31');
    expect(() => parseReportDate('2026-02-30', '--since')).toThrow(/YYYY-MM-DD/);
    expect(() => parseReportDate('yesterday', '--until')).toThrow(/--until/);
  });
});
