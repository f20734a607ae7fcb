import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeSegment, type SegmentEvent } from '../../src/sync/codec.js';
import { decodeHere, decodeInWorker, type UnsealedSegment } from '../../src/sync/decoder.js';
import { EVENT_COLUMNS } from '../../src/store/rows.js';
import { prng, randomSegmentEvents } from '../helpers/sync-events.js';

const DEV = 'a1b2c3d4e5f60718';

/** Three consecutive segments of random events (seqs 1..n), as a pull holds them before landing. */
function segments(perSegment = 40): UnsealedSegment[] {
  const events = randomSegmentEvents(prng(11), perSegment * 3).sort((a, b) => a.seq - b.seq);
  const out: UnsealedSegment[] = [];
  for (let i = 0; i < 3; i++) {
    const part: SegmentEvent[] = events.slice(i * perSegment, (i + 1) * perSegment);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events: part });
    out.push({ gz: enc.plain, expect: { device: DEV, kind: 'segment', seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, sha256: enc.sha256 } });
  }
  return out;
}

const copy = (s: UnsealedSegment[]) => s.map((x) => ({ gz: Uint8Array.from(x.gz), expect: { ...x.expect } }));

describe('segment decoder', () => {
  it('the worker yields exactly the rows decoding on this thread yields, cursor included', () => {
    const segs = segments();
    const cursor = Math.floor((segs[1].expect.seqFrom + segs[1].expect.seqTo) / 2); // inside the second segment
    const here = [...decodeHere(copy(segs), DEV, cursor)];
    const there = [...decodeInWorker(copy(segs), DEV, cursor)];
    const seqs = here.map((b) => b.map((row) => row[EVENT_COLUMNS.indexOf('seq')] as number));
    expect(seqs[0]).toEqual([]);
    expect(seqs[1].length).toBeGreaterThan(0);
    expect(seqs[1].length).toBeLessThan(segs[1].expect.count);
    expect(seqs.flat().every((q) => q > cursor)).toBe(true);
    expect(seqs[2].length).toBe(segs[2].expect.count);
    expect(there).toEqual(here);
  });

  it('a damaged segment in the worker throws the integrity error decoding here throws, after the good ones', () => {
    const bad = (s: UnsealedSegment[]) => {
      // Valid gzip of different text: passes gunzip, fails the content hash the manifest promised.
      const raw = gunzipSync(s[1].gz).toString('utf8').replace(/"/, '"x');
      s[1] = { gz: gzipSync(raw), expect: s[1].expect };
      return s;
    };
    const failure = (it: Iterable<unknown[][]>) => {
      let batches = 0;
      try {
        for (const _ of it) batches++;
      } catch (err) {
        return { batches, err: err as { code: string; message: string } };
      }
      throw new Error('no failure');
    };
    const here = failure(decodeHere(bad(copy(segments())), DEV, 0));
    const there = failure(decodeInWorker(bad(copy(segments())), DEV, 0));
    expect(here.err.code).toBe('INTEGRITY');
    expect(there).toMatchObject({ batches: here.batches, err: { code: here.err.code, message: here.err.message } });
  });

  it('a landing that stops early ends the worker (the generator can be closed half-way)', () => {
    const gen = decodeInWorker(copy(segments()), DEV, 0);
    expect(gen.next().done).toBe(false);
    expect(gen.return(undefined).done).toBe(true);
  });
});
