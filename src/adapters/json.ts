import { canonicalJson } from '../model/canonical.js';
import { BadTokenCount, isTokenCount } from './tokens.js';
import type { EventRecord } from '../model/event.js';
import type { FileParser, ParserState } from './types.js';

/**
 * Reading loosely typed log JSON: the helpers every adapter of a JSON log format needs, so a
 * parser states its mapping and not the type checks.
 */

export type Obj = Record<string, unknown>;

/** Longest `text` an event keeps, in UTF-8 bytes. */
const TEXT_CAP_BYTES = 16 * 1024;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string, else null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * A token count: 0 when absent (undefined or null); anything else that is not a safe
 * non-negative integer throws {@link BadTokenCount}, which makes the record malformed
 * (the one rule of tokens.ts, for every agent).
 */
export function num(v: unknown, field = 'token count'): number {
  if (v === undefined || v === null) return 0;
  if (!isTokenCount(v)) throw new BadTokenCount(field, v);
  return v;
}

/** Cap to TEXT_CAP_BYTES of UTF-8 without cutting a character in half; '' becomes null. */
export function capText(s: string | null): string | null {
  if (s === null || s === '') return null;
  if (s.length * 3 <= TEXT_CAP_BYTES || Buffer.byteLength(s, 'utf8') <= TEXT_CAP_BYTES) return s;
  const cut = Buffer.from(s, 'utf8').subarray(0, TEXT_CAP_BYTES).toString('utf8');
  return cut.replace(/\uFFFD+$/, '');
}

/** Extra as canonical JSON, null/undefined fields left out; null when nothing is left. */
export function extraJson(o: Obj): string | null {
  const clean: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) clean[k] = v;
  return Object.keys(clean).length ? canonicalJson(clean) : null;
}

/** JSON text of a value for search (tool arguments, structured results); null when absent. */
export function jsonText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return null;
  }
}

/** The user's home as the environment gives it (tests give their own), else the process's. */
export function homeOf(env: NodeJS.ProcessEnv, fallback: () => string): string {
  const h = env.HOME;
  return h && h.trim() !== '' ? h : fallback();
}

/** The value of an agent's location variable, when set and not blank. */
export function envPath(env: NodeJS.ProcessEnv, name: string): string | null {
  const v = env[name];
  return v && v.trim() !== '' ? v : null;
}

/**
 * A FileParser from a line handler that may throw and the state object it keeps: the contract
 * is "never throws" (an unexpected shape is a skipped line, not a failed ingest), and the
 * state handed out is a copy (the caller serializes it later; further lines must not change it).
 */
export function fileParser(line: (text: string) => EventRecord[] | null, state: object): FileParser {
  return {
    line(text: string): EventRecord[] | null {
      try {
        return line(text);
      } catch {
        return null;
      }
    },
    state(): ParserState {
      return JSON.parse(JSON.stringify(state)) as ParserState;
    },
  };
}
