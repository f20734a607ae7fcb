import type { Provider } from '../model/event.js';
import { PROVIDERS } from '../model/event.js';
import { SuError } from '../errors.js';
import { parseScope, type Scope } from './scope.js';
import { checkTimeZone, parseReportDate } from './timezone.js';
import { parseLast, parseWeekday, type Weekday } from './periods.js';

/** Filters shared by every report. All optional. */
export interface ReportOptions {
  /** First local day included, `YYYY-MM-DD`. */
  since?: string;
  /** Last local day included, `YYYY-MM-DD`. */
  until?: string;
  /** IANA zone for day boundaries (default: the system zone); `UTC` accepted. */
  timezone?: string;
  /**
   * Project filter. A path (`/home/me/app`) or an exact slug selects that project; any other
   * text selects every project whose slug contains it, ignoring case (`app` matches `-home-me-app`).
   */
  project?: string;
  provider?: Provider;
  /** Default: `all` when the store holds other devices' events, else `local`. */
  scope?: Scope;
  /** Add a per-device breakdown (`devices`) to every row. */
  byDevice?: boolean;
  /** Only the N most recent periods of a daily, weekly or monthly report, the current one included. */
  last?: number;
  /** First day of a week in the weekly report (default Sunday). */
  startOfWeek?: Weekday;
  /** The current instant (epoch ms) for `last`; default the wall clock. */
  now?: number;
}

/** Untyped input, as it arrives from command-line flags or URL query parameters. */
export interface RawReportOptions {
  since?: string;
  until?: string;
  timezone?: string;
  tz?: string;
  project?: string;
  provider?: string;
  scope?: string;
  byDevice?: boolean | string;
  last?: string | number;
  startOfWeek?: string;
}

function parseProvider(v: string): Provider {
  const p = v.trim().toLowerCase();
  if (!(PROVIDERS as readonly string[]).includes(p)) {
    throw new SuError('USAGE', `unknown provider '${v}'`, { hint: `use one of: ${PROVIDERS.join(', ')}` });
  }
  return p as Provider;
}

/**
 * Validates raw options (CLI flags or API query) into ReportOptions; every problem is a
 * USAGE error naming the option, so the CLI and the API reject the same inputs the same way.
 */
export function parseReportOptions(raw: RawReportOptions): ReportOptions {
  const out: ReportOptions = {};
  const present = (v: string | undefined): v is string => v !== undefined && v !== '';
  if (present(raw.since)) out.since = parseReportDate(raw.since, '--since');
  if (present(raw.until)) out.until = parseReportDate(raw.until, '--until');
  if (out.since && out.until && out.since > out.until) {
    throw new SuError('USAGE', `--since ${out.since} is after --until ${out.until}`, { hint: 'swap the two dates' });
  }
  const tz = present(raw.timezone) ? raw.timezone : raw.tz;
  if (present(tz)) out.timezone = checkTimeZone(tz);
  if (present(raw.project)) out.project = raw.project;
  if (present(raw.provider)) out.provider = parseProvider(raw.provider);
  if (present(raw.scope)) out.scope = parseScope(raw.scope);
  if (raw.last !== undefined && raw.last !== '') out.last = parseLast(raw.last);
  if (present(raw.startOfWeek)) out.startOfWeek = parseWeekday(raw.startOfWeek);
  if (raw.byDevice === true || raw.byDevice === 'true' || raw.byDevice === '1') out.byDevice = true;
  return out;
}
