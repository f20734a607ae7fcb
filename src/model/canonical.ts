import { hash } from 'node:crypto';
import type { EventRecord } from './event.js';

/**
 * Canonical JSON: object keys sorted, no whitespace, numbers as JSON prints them.
 * Equal data gives equal bytes, so hashes and ciphertext inputs are reproducible.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k])).join(',') + '}';
}

/** The fields of an event in their fixed wire order. */
export const EVENT_FIELDS = [
  'uid', 'provider', 'project', 'projectPath', 'session', 'record', 'ts', 'kind', 'model',
  'sidechain', 'agent', 'usageKey', 'usage', 'text', 'extra',
] as const satisfies readonly (keyof EventRecord)[];

export const USAGE_FIELDS = [
  'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'reasoningTokens', 'totalTokens',
] as const;

/** An event as a JSON array in wire order (compact, and immune to key-order drift). */
export function eventToTuple(e: EventRecord): unknown[] {
  return EVENT_FIELDS.map((f) => {
    if (f === 'usage') return e.usage ? USAGE_FIELDS.map((u) => e.usage![u]) : null;
    return e[f];
  });
}

export function eventFromTuple(t: unknown[]): EventRecord {
  if (!Array.isArray(t) || t.length !== EVENT_FIELDS.length) throw new Error('event tuple has the wrong arity');
  const o: Record<string, unknown> = {};
  EVENT_FIELDS.forEach((f, i) => {
    if (f === 'usage') {
      const u = t[i] as number[] | null;
      o.usage = u === null ? null : Object.fromEntries(USAGE_FIELDS.map((k, j) => [k, u[j]]));
    } else o[f] = t[i];
  });
  return o as unknown as EventRecord;
}

/** One-shot: a third faster than a Hash object for the short inputs of ingest's hot path. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}
