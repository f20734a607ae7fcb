/**
 * planCompaction: which listed segments a compaction rewrites (size-tiered), one row per case.
 */
import { describe, expect, it } from 'vitest';
import { isFullSegment, planCompaction } from '../../../src/sync/compact.js';

const snap = (name: string, seqTo: number, bytes: number, count = 100) => ({ name, kind: 'snapshot' as const, seq_to: seqTo, count, bytes });
const delta = (name: string, seqTo: number, bytes: number, count = 1) => ({ name, kind: 'segment' as const, seq_to: seqTo, count, bytes });
const deltas = (n: number, from: number, bytes: number) => Array.from({ length: n }, (_, i) => delta(`d${i}`, from + i, bytes));

describe('planCompaction', () => {
  it('the first compaction rewrites everything (no snapshot yet)', () => {
    expect(planCompaction(deltas(65, 1, 1000), 'minor')).toEqual({ keep: 0, after: 0 });
  });

  it('a big snapshot stays; only the deltas are merged into a new snapshot after it', () => {
    const segs = [snap('s1', 50_000, 8_000_000), ...deltas(65, 50_001, 1000)];
    expect(planCompaction(segs, 'minor')).toEqual({ keep: 1, after: 50_000 });
  });

  it('trailing snapshots no bigger than twice what is merged join the merge, geometrically', () => {
    const segs = [snap('big', 100, 1_000_000), snap('mid', 200, 300_000), snap('small', 300, 100_000), ...deltas(65, 301, 1000)];
    // 65 KB of deltas take 'small' (100 KB ≤ 130 KB), then 'mid' (300 KB ≤ 330 KB), not 'big' (1 MB > 930 KB).
    expect(planCompaction(segs, 'minor')).toEqual({ keep: 1, after: 100 });
  });

  it('full delta segments (a big push) are kept; only the small deltas after them are merged', () => {
    // 1.8 MB sealed: about what a full 8 MiB plaintext segment seals to.
    const big = Array.from({ length: 70 }, (_, i) => delta(`f${i}`, (i + 1) * 7000, 1_800_000, 7000));
    expect(planCompaction([...big, ...deltas(65, 490_001, 1000)], 'minor')).toEqual({ keep: 70, after: 490_000 });
    // However many small bytes follow, a full segment is never rewritten just to be merged.
    expect(planCompaction([...big, ...deltas(65, 490_001, 60_000)], 'minor')).toEqual({ keep: 70, after: 490_000 });
  });

  it('full by either bound: half the events, or half the plaintext bound once sealed', () => {
    expect(isFullSegment({ count: 10_000, bytes: 1000 })).toBe(true);
    expect(isFullSegment({ count: 500, bytes: 1024 * 1024 })).toBe(true);
    expect(isFullSegment({ count: 9_999, bytes: 1024 * 1024 - 1 })).toBe(false);
  });

  it('small snapshots after the last full segment still join the merge, full ones stop it', () => {
    const segs = [snap('full', 100, 8_000_000, 15_000), snap('small', 300, 100_000), ...deltas(65, 301, 1000)];
    expect(planCompaction(segs, 'minor')).toEqual({ keep: 1, after: 100 });
  });

  it('a major compaction rewrites everything whatever the sizes', () => {
    const segs = [snap('s1', 50_000, 8_000_000), ...deltas(10, 50_001, 1000)];
    expect(planCompaction(segs, 'major')).toEqual({ keep: 0, after: 0 });
  });
});
