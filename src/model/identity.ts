import { sha256Hex } from './canonical.js';
import type { Provider } from './event.js';
import { isCanonicalInstant, parseInstant } from './instant.js';

/**
 * Event identity. Deterministic and free of clocks or randomness, so the same log
 * ingested on two machines yields the same identities (that is what lets sync count
 * an event seen on two devices once).
 */
function h(parts: string[]): string {
  // NUL-separated: no field can contain NUL in JSON-derived text, so the encoding is unambiguous.
  return sha256Hex(parts.join('\u0000'));
}

/** uid = sha256(provider, session, record id). */
export function eventUid(provider: Provider, session: string, record: string): string {
  return h(['event/v1', provider, session, record]);
}

/**
 * Record id for providers (or record types) without one of their own:
 * derived from (provider, slug, session, ts, ordinal), where ordinal counts the
 * earlier records of the same file with the same timestamp. Appending to a file never
 * changes the ordinal of an existing line, so incremental ingest stays stable.
 */
export function derivedRecordId(provider: Provider, slug: string, session: string, ts: string, ordinal: number): string {
  return 'd:' + h(['record/v1', provider, slug, session, ts, String(ordinal)]).slice(0, 32);
}

export { slugFromPath } from './slug.js';

/** Normalize a provider timestamp to ISO-8601 UTC with milliseconds; '' if absent/invalid. */
export function normalizeTs(v: unknown): string {
  // Nearly every line is already in that form: checked without formatting it again (Date's
  // parse and toISOString were ~5 % of a Codex reader's time). What Date alone would roll over
  // (February 30, 24:00) is not a real instant here and takes Date's path, as before.
  if (typeof v === 'string' && isCanonicalInstant(v) && parseInstant(v) !== null) return v;
  if (typeof v !== 'string' && typeof v !== 'number') return '';
  const d = new Date(v);
  const t = d.getTime();
  return Number.isFinite(t) ? d.toISOString() : '';
}
