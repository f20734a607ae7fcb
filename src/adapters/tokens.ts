/**
 * Token counts as every adapter reads them. A count is a safe non-negative integer; anything
 * else a log puts where a count belongs (negative, fractional, `1e400`, above 2^53, a string)
 * makes the whole line malformed: it is counted and reported by ingest, and never becomes a
 * number in a report or a row sync would refuse to encode. Absent means zero where a field
 * is optional; each adapter says which are.
 */

/** Thrown by {@link tokenCount}; an adapter's line() turns it into a malformed line. */
export class BadTokenCount extends Error {
  constructor(field: string, value: unknown) {
    super(`${field} is not a token count: ${String(value)}`);
  }
}

export function isTokenCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The count at `o[field]`: 0 when absent (undefined or, with `nullIsZero`, null); throws when present and not a count. */
export function tokenCount(o: Record<string, unknown>, field: string, opts: { nullIsZero?: boolean } = {}): number {
  const v = o[field];
  if (v === undefined || (v === null && opts.nullIsZero)) return 0;
  if (!isTokenCount(v)) throw new BadTokenCount(field, v);
  return v;
}
