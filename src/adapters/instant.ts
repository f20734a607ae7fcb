/**
 * Timestamps as the adapters accept them: any ISO-8601 instant with a date, a time, an
 * optional fraction of any length (milliseconds, microseconds…) and a zone (`Z` or an offset,
 * `+hh:mm` or `+hhmm`). Read here rather than by `Date.parse`, whose accepted forms beyond
 * the millisecond `Z` one are implementation-defined, and checked to be a real date.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** Epoch milliseconds of an ISO-8601 instant (fraction truncated to ms), or null when it is not one. */
export function parseInstant(s: string): number | null {
  const m = ISO.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return null; // no leap seconds: JSON logs do not write them
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return null;
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
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset;
  // Date.UTC maps years 0-99 to 1900-1999: a four-digit year below 100 is not a log's.
  return y < 100 || !Number.isFinite(t) ? null : t;
}
