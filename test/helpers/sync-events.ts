/**
 * Deterministic event generators for the sync codec tests (seeded PRNG, so a failing
 * property-test run is reproducible from its printed seed).
 */
import type { EventKind, EventRecord } from '../../src/model/event.js';
import type { SegmentEvent } from '../../src/sync/codec.js';
import { eventUid } from '../../src/model/identity.js';
import { Hlc } from '../../src/model/clock.js';

/** mulberry32: tiny, fast, good enough to drive property tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Property-test run count: few by default, many under STACKUNDERFLOW_PROPERTY_RUNS. */
export function propertyRuns(defaultRuns: number): number {
  const n = Number(process.env.STACKUNDERFLOW_PROPERTY_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

const KINDS: EventKind[] = ['user', 'assistant', 'tool_call', 'tool_result', 'reasoning', 'system', 'summary', 'usage', 'meta'];
// Strings that break naive serializers: JSON escapes, line separators, astral and lone surrogates.
const NASTY = ['"quoted"', 'back\\slash', 'line\nbreak', 'tab\t', '\u2028\u2029', 'emoji 🦀🧪', 'lone \ud800 surrogate', 'nul\u0000', 'ünïcödé', '{"json":1}', ''];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function str(r: () => number, max = 40): string {
  if (r() < 0.3) return pick(r, NASTY);
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(r() * 95));
  return s;
}

function nonEmpty(r: () => number): string {
  const s = str(r);
  return s === '' ? 'x' : s;
}

const maybe = <T>(r: () => number, v: () => T): T | null => (r() < 0.3 ? null : v());
const int = (r: () => number, max: number) => Math.floor(r() * max);

/** One random but valid EventRecord. */
function randomEvent(r: () => number): EventRecord {
  const provider = r() < 0.5 ? 'claude' : 'codex';
  const session = nonEmpty(r);
  const record = nonEmpty(r);
  const hasUsage = r() < 0.5;
  return {
    uid: eventUid(provider, session, record),
    provider,
    project: nonEmpty(r),
    projectPath: maybe(r, () => str(r)),
    session,
    record,
    ts: r() < 0.1 ? '' : new Date(1_700_000_000_000 + int(r, 1e10)).toISOString(),
    kind: pick(r, KINDS),
    model: maybe(r, () => str(r, 20)),
    sidechain: r() < 0.2,
    agent: maybe(r, () => str(r, 12)),
    usageKey: hasUsage ? nonEmpty(r) : null,
    usage: hasUsage
      ? {
          inputTokens: int(r, 100_000),
          outputTokens: int(r, 10_000),
          cacheCreationTokens: int(r, 50_000),
          cacheReadTokens: int(r, 1_000_000),
          reasoningTokens: int(r, 5_000),
          totalTokens: int(r, 2_000_000),
        }
      : null,
    text: maybe(r, () => str(r, 400)),
    extra: maybe(r, () => JSON.stringify({ tool: str(r, 10) })),
  };
}

/** `n` events with ascending (gapped) seqs and HLC stamps, shuffled when `shuffle`. */
export function randomSegmentEvents(r: () => number, n: number, shuffle = false): SegmentEvent[] {
  const hlc = new Hlc({ now: () => 1_750_000_000_000 + Math.floor(r() * 3) });
  const out: SegmentEvent[] = [];
  let seq = 1 + int(r, 1000);
  for (let i = 0; i < n; i++) {
    out.push({ seq, writtenAt: hlc.tick(), event: randomEvent(r) });
    seq += 1 + (r() < 0.2 ? int(r, 50) : 0);
  }
  if (shuffle) {
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  return out;
}
