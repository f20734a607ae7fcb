/**
 * Timestamps as the adapters accept them: any ISO-8601 instant with a date, a time, an
 * optional fraction of any length (milliseconds, microseconds…) and a zone (`Z` or an offset,
 * `+hh:mm` or `+hhmm`). Read here rather than by `Date.parse`, whose accepted forms beyond
 * the millisecond `Z` one are implementation-defined, and checked to be a real date.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** Two ASCII digits at `i` as a number, or NaN. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * The form nearly every log writes, `YYYY-MM-DDTHH:MM:SS.sssZ`, read without a regular
 * expression (one per line of every log: it showed in ingest's profile); null for any other form.
 */
function parseCanonical(s: string): number | null {
  if (s.length !== 24 || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':' || s[19] !== '.' || s[23] !== 'Z') return null;
  const y = two(s, 0) * 100 + two(s, 2);
  const [mo, d, h, mi, se] = [two(s, 5), two(s, 8), two(s, 11), two(s, 14), two(s, 17)];
  const last = s.charCodeAt(22) - 48;
  const ms = last >= 0 && last <= 9 ? two(s, 20) * 10 + last : NaN;
  return Number.isNaN(y + ms) ? null : checked(y, mo, d, h, mi, se, ms, 0);
}

/** Epoch ms of the fields, or null when they name no real instant. */
function checked(y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number, offset: number): number | null {
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59)) return null; // no leap seconds: JSON logs do not write them
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset;
  // Date.UTC maps years 0-99 to 1900-1999: a four-digit year below 100 is not a log's.
  return y < 100 || !Number.isFinite(t) ? null : t;
}

/** Whether `s` is already in the form `toISOString` writes (so it is its own normal form once parsed). */
export function isCanonicalInstant(s: string): boolean {
  return s.length === 24 && s[23] === 'Z' && s[19] === '.';
}

/** Epoch milliseconds of an ISO-8601 instant (fraction truncated to ms), or null when it is not one. */
export function parseInstant(s: string): number | null {
  if (isCanonicalInstant(s)) {
    const t = parseCanonical(s);
    if (t !== null) return t;
  }
  const m = ISO.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offset = 0;
  const z = m[8];
  if (z !== 'Z') {
    const digits = z.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offset = (z[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return checked(y, mo, d, h, mi, se, ms, offset);
}
