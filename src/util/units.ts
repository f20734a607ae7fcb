/**
 * Counts, dollars, byte sizes and durations as people read them, the same in every command and
 * message, and on the dashboard: web/ bundles this file, so it imports nothing (no Node modules;
 * web/tsconfig.json, which type-checks it without Node's types, fails the build if it does).
 */

// Made on first use: the first Intl object loads ICU data (tens of ms), which a JSON report never needs.
let nf: Intl.NumberFormat | undefined;
let usd: Intl.NumberFormat | undefined;

/** 1234567 → "1,234,567". */
export function formatInt(n: number): string {
  const r = Math.round(n);
  // Grouped by hand for the integers every command prints: building Intl's formatter (ICU's
  // locale data) cost ~20 ms of a 0.5 s ingest; anything a regular expression cannot group goes to Intl.
  if (Number.isSafeInteger(r)) return String(r).replace(/\B(?=(\d{3})+$)/g, ',');
  nf ??= new Intl.NumberFormat('en-US');
  return nf.format(r);
}

/** USD with cents and thousands separators ("$1,234.56"); null (unknown) → "?". */
export function formatCost(n: number | null): string {
  if (n === null) return '?';
  // Intl's currency style, not '$' + a decimal: it puts a sign before the '$' ("-$1.00", as the
  // dashboard always wrote it); costs are never negative, so the CLI's output is unchanged.
  usd ??= new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return usd.format(n);
}

/** 512 B, 1.5 KB, 12.3 MB, 1.25 GB (binary multiples). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/** Whole seconds as 45 s, 12 min, 5 h or 3 days, in the largest unit that still reads exactly enough. */
export function formatDuration(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}
