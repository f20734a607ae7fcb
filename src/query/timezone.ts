import { readlinkSync, statSync } from 'node:fs';
import { SuError } from '../errors.js';

/**
 * Local-day arithmetic for reports, in any IANA zone, without pulling rows into JS:
 * a zone's UTC offset is piecewise constant, so over the data's time range we find the
 * instants where it changes (DST, rule changes) and hand SQL one CASE expression that
 * adds the right offset to `ts_ms` before dividing by a day.
 */

const DAY_MS = 86_400_000;
/** Every real zone's offset lies within this bound (UTC-12 … UTC+14); used to widen index ranges. */
const MAX_OFFSET_MS = 15 * 3_600_000;

/** A zone's offsets over a range: `offsets[i]` holds from `starts[i]` (inclusive) until `starts[i+1]`. */
export interface OffsetSegments {
  starts: number[];
  offsets: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Validates an IANA zone name (or `UTC`) and returns it as given (ICU would rename e.g. Asia/Kolkata to Asia/Calcutta). */
export function checkTimeZone(tz: string): string {
  // UTC needs no zone data: skipping Intl here spares a UTC report ICU's start-up cost.
  if (tz.trim() === 'UTC') return 'UTC';
  if (zoneFileExists(tz.trim())) return tz.trim();
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz.trim() });
    return tz.trim();
  } catch {
    throw new SuError('USAGE', `unknown time zone: ${tz}`, {
      hint: 'use an IANA name such as UTC, Europe/Berlin, America/New_York or Asia/Kolkata',
    });
  }
}

/**
 * The zone reports use when none is given: `TZ` from the given environment when it names a
 * real zone (so a caller's env wins over the process's), else the system zone.
 *
 * Named without Intl where the system names it (see {@link processZone}): the first
 * Intl.DateTimeFormat of a process loads ICU's locale data, 16-28 ms, a third of a warm
 * report. Such a name is the zone as the system spells it (`Asia/Kolkata`, where ICU says
 * `Asia/Calcutta`), as a `--timezone` is kept as given; UTC's aliases are `UTC`, as ICU says.
 */
export function defaultTimeZone(env: NodeJS.ProcessEnv = process.env): string {
  const tz = env.TZ?.trim();
  if (tz) {
    if (zoneFileExists(tz)) return utcAlias(tz);
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      /* not an IANA name (e.g. a POSIX rule string): fall back to the system zone */
    }
  }
  if (!process.env.TZ?.trim()) {
    const sys = systemZone();
    if (sys) return utcAlias(sys);
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Where systems keep the zone files /etc/localtime links to (Linux, macOS). */
const ZONEINFO = ['/usr/share/zoneinfo/', '/var/db/timezone/zoneinfo/'];
/** ECMA-402 names every one of these `UTC`. */
const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'Etc/Greenwich', 'Greenwich', 'GMT0', 'Etc/GMT0', 'GMT+0', 'GMT-0', 'Etc/GMT+0', 'Etc/GMT-0']);

function utcAlias(zone: string): string {
  return UTC_ALIASES.has(zone) ? 'UTC' : zone;
}

const zoneFiles = new Map<string, boolean>();

/**
 * Whether `name` is an IANA zone the system has a file for: a name only (no `.`, no leading
 * `/` or `:`), not a folder, not a leap-second `right/` zone (ICU has none of those).
 */
function zoneFileExists(name: string): boolean {
  let known = zoneFiles.get(name);
  if (known === undefined) {
    known =
      /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name) &&
      !/^(right|posix)\/|^posixrules$|^localtime$/.test(name) &&
      ZONEINFO.some((dir) => {
        try {
          return statSync(dir + name, { throwIfNoEntry: false })?.isFile() === true;
        } catch {
          return false; // e.g. ENOTDIR: a name below a zone file (`UTC/x`)
        }
      });
    zoneFiles.set(name, known);
  }
  return known;
}

let systemZoneName: string | null | undefined;

/** The zone /etc/localtime links to, by its name under a zoneinfo folder; null if it is no such link. */
function systemZone(): string | null {
  if (systemZoneName !== undefined) return systemZoneName;
  let name: string | null = null;
  try {
    const target = readlinkSync('/etc/localtime');
    const at = target.lastIndexOf('/zoneinfo/');
    if (at >= 0) name = target.slice(at + '/zoneinfo/'.length).replace(/^posix\//, '');
  } catch {
    /* not a link (a copy, or absent): Intl finds the zone */
  }
  systemZoneName = name && zoneFileExists(name) ? name : null;
  return systemZoneName;
}

/**
 * The name of the zone `Date`'s local time uses in this process, when known without Intl: `TZ`
 * when it names a zone file, else /etc/localtime's link. Both Date and Intl take the zone
 * from there (ICU reads `TZ`, then the link), so in this zone an offset comes from Date.
 */
function processZone(): string | null {
  const tz = process.env.TZ?.trim();
  if (tz) return zoneFileExists(tz) ? tz : null;
  return systemZone();
}

/** 1972: every zone's offset since is whole minutes, which is all Date's offset gives. */
const WHOLE_MINUTES_FROM = Date.UTC(1972, 0, 1);

/** UTC offset (ms, east positive) of `timeZone` at instant `ms`, to the second. */
export function offsetAt(timeZone: string, ms: number): number {
  if (timeZone === 'UTC') return 0;
  const instant = Math.floor(ms / 1000) * 1000;
  if (instant >= WHOLE_MINUTES_FROM && timeZone === processZone()) return -new Date(instant).getTimezoneOffset() * 60_000 || 0;
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  let bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
      case 'era': bc = p.value === 'BC' || p.value === 'B'; break;
    }
  }
  if (bc) y = 1 - y;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC maps years 0..99 to 1900+; fix them up (irrelevant for logs, but keeps this total).
  const fixed = y >= 0 && y < 100 ? new Date(wall).setUTCFullYear(y) : wall;
  return fixed - instant;
}

/**
 * The offset segments of `timeZone` covering [fromMs, toMs]. Sampled daily (no zone changes
 * its offset twice within a day), each change located to the second by bisection.
 */
export function offsetSegments(timeZone: string, fromMs: number, toMs: number): OffsetSegments {
  const start = Math.floor(fromMs / 1000) * 1000 - DAY_MS;
  const end = toMs + DAY_MS;
  const starts = [Number.MIN_SAFE_INTEGER];
  const offsets = [offsetAt(timeZone, start)];
  if (timeZone === 'UTC') return { starts, offsets };
  let prevT = start;
  let prevO = offsets[0];
  for (let t = start + DAY_MS; ; t += DAY_MS) {
    const at = Math.min(t, end);
    const o = offsetAt(timeZone, at);
    if (o !== prevO) {
      // Bisect (prevT has prevO, at has o) down to one second: the first instant of the new offset.
      let lo = prevT;
      let hi = at;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetAt(timeZone, mid) === prevO) lo = mid;
        else hi = mid;
      }
      starts.push(hi);
      offsets.push(o);
      prevO = o;
    }
    prevT = at;
    if (at >= end) break;
  }
  return { starts, offsets };
}

/**
 * SQL for the local day number (days since 1970-01-01 in the zone) of `column` (epoch ms),
 * valid for instants inside the segments' range. No parameters: the numbers are inlined
 * (they are computed integers, never user text).
 */
export function localDaySql(column: string, seg: OffsetSegments): string {
  if (seg.offsets.length === 1) return `((${column} + ${seg.offsets[0]}) / ${DAY_MS})`;
  const arms: string[] = [];
  for (let i = 1; i < seg.starts.length; i++) arms.push(`WHEN ${column} < ${seg.starts[i]} THEN ${seg.offsets[i - 1]}`);
  return `((${column} + CASE ${arms.join(' ')} ELSE ${seg.offsets[seg.offsets.length - 1]} END) / ${DAY_MS})`;
}

/** `YYYY-MM-DD` of a local day number. */
export function dayToDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Local day number of a `YYYY-MM-DD` string (no zone involved: it names a local calendar day). */
export function dateToDay(date: string): number {
  return Math.floor(Date.parse(date + 'T00:00:00Z') / DAY_MS);
}

/** The local `YYYY-MM-DD` of an instant in a zone. */
export function localDate(timeZone: string, ms: number): string {
  return dayToDate(Math.floor((ms + offsetAt(timeZone, ms)) / DAY_MS));
}

/**
 * A UTC epoch-ms window that surely contains every instant whose local date lies in
 * [sinceDay, untilDay] in any zone: for an index range scan, refined by the exact day filter.
 */
export function coarseRange(sinceDay: number | undefined, untilDay: number | undefined): { from?: number; to?: number } {
  return {
    from: sinceDay === undefined ? undefined : sinceDay * DAY_MS - MAX_OFFSET_MS,
    to: untilDay === undefined ? undefined : (untilDay + 1) * DAY_MS + MAX_OFFSET_MS,
  };
}

/**
 * Parses a report date: `YYYY-MM-DD` (or ccusage's `YYYYMMDD`) naming a real calendar day.
 * `flag` names the option in the error.
 */
export function parseReportDate(v: string, flag: string): string {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v.trim());
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
  if (!m || Number.isNaN(Date.parse(iso + 'T00:00:00Z')) || new Date(iso + 'T00:00:00Z').toISOString().slice(0, 10) !== iso) {
    throw new SuError('USAGE', `${flag} wants a date as YYYY-MM-DD, got '${v}'`, { hint: `e.g. ${flag} 2026-01-31` });
  }
  return iso;
}

/**
 * The first instant (epoch ms) whose local date in `tz` is `day` (days since 1970-01-01): also
 * where a DST change skips midnight (the day begins at 01:00) or repeats it (at the first one).
 */
export function dayStartMs(tz: string, day: number): number {
  const target = day * DAY_MS;
  const seg = offsetSegments(tz, target - 2 * DAY_MS, target + 2 * DAY_MS);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < seg.offsets.length; i++) {
    const end = i + 1 < seg.starts.length ? seg.starts[i + 1] : Number.POSITIVE_INFINITY;
    const t = Math.max(seg.starts[i], target - seg.offsets[i]);
    if (t < end && t < best) best = t;
  }
  return best;
}

/**
 * The instant (epoch ms) the local day holding `ms` began, in the zone reports default to
 * ({@link defaultTimeZone}) under `env`. When `env`'s TZ is the process's own, that zone is the
 * one `Date`'s local time uses (both are ICU's default zone), and Date finds local midnight
 * without Intl: the first Intl.DateTimeFormat of a process loads ICU's locale data, 20-30 ms,
 * a quarter of the status line's budget. The same instant as localDayStartMs's, a midnight
 * skipped or repeated (Havana falls back from 01:00 to 00:00 every November) included.
 */
export function defaultDayStartMs(env: NodeJS.ProcessEnv, ms: number): number {
  if (env.TZ !== process.env.TZ) return localDayStartMs(defaultTimeZone(env), ms);
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The instant (epoch ms) the local day holding `ms` began in `timeZone`. */
export function localDayStartMs(timeZone: string, ms: number): number {
  return dayStartMs(timeZone, Math.floor((ms + offsetAt(timeZone, ms)) / DAY_MS));
}
