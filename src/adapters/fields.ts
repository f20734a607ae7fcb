import { canonicalJson } from '../util/canonical.js';

/** Reading untyped log JSON: the small coercions every adapter needs, defined once. */
export type Obj = Record<string, unknown>;

/** Longest `text` kept, in UTF-8 bytes. */
export const TEXT_CAP_BYTES = 16 * 1024;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string, else null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** A token count: positive finite numbers truncated to integers; anything else is 0. */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0;
}

/** Cap to TEXT_CAP_BYTES of UTF-8 without cutting a character in half. */
export function capText(s: string | null): string | null {
  if (s === null || s === '') return null;
  if (s.length * 3 <= TEXT_CAP_BYTES || Buffer.byteLength(s, 'utf8') <= TEXT_CAP_BYTES) return s;
  const cut = Buffer.from(s, 'utf8').subarray(0, TEXT_CAP_BYTES).toString('utf8');
  return cut.replace(/\uFFFD+$/, '');
}

/** Extra as canonical JSON, null/undefined fields left out. */
export function extraJson(o: Obj): string {
  const clean: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) clean[k] = v;
  return canonicalJson(clean);
}
