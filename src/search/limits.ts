import { SuError } from '../errors.js';

/** Results per search unless asked otherwise, and the most one search returns. */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;

/** Validates a result limit: a whole number in 1..MAX_LIMIT. `flag` names it in the error. */
export function parseSearchLimit(v: string | number | undefined, flag = '--limit'): number {
  if (v === undefined || v === '') return DEFAULT_LIMIT;
  const n = typeof v === 'number' ? v : /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new SuError('USAGE', `${flag} wants a whole number from 1 to ${MAX_LIMIT}, got '${v}'`, { hint: `e.g. ${flag} 50` });
  }
  return n;
}
