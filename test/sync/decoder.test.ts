import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeSegment, type SegmentEvent } from '../../src/sync/codec.js';
import { asPlain, asSealed, generateIdentity, open, recipientOf, seal, type Identity } from '../../src/sync/crypto.js';
import { decodeHere, decodeInWorker, type SealedItem, type UnsealedSegment } from '../../src/sync/decoder.js';
import { EVENT_COLUMNS } from '../../src/store/rows.js';
import { prng, randomSegmentEvents } from '../helpers/sync-events.js';

const DEV = 'a1b2c3d4e5f60718';

/** Three consecutive segments of random events, as a pull holds them before landing: gzip, expectation. */
function segments(perSegment = 40): UnsealedSegment[] {
  const events = randomSegmentEvents(prng(11), perSegment * 3).sort((a, b) => a.seq - b.seq);
  const out: UnsealedSegment[] = [];
  for (let i = 0; i < 3; i++) {
    const part: SegmentEvent[] = events.slice(i * perSegment, (i + 1) * perSegment);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events: part });
    out.push({ gz: enc.plain, expect: { device: DEV, kind: 'segment', seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, sha256: enc.sha256, object: `segment ${i}` } });
  }
  return out;
}

async function sealAll(segs: UnsealedSegment[], id: Identity): Promise<SealedItem[]> {
  const to = await recipientOf(id);
  return Promise.all(segs.map(async (s) => ({ sealed: await seal(asPlain(s.gz), to), expect: s.expect })));
}

/** What a pull decoding on its own thread does: decrypt, then decode. */
async function here(items: SealedItem[], id: Identity, cursor: number) {
  const unsealed = await Promise.all(items.map(async (s) => ({ gz: await open(asSealed(s.sealed), id, s.expect.object), expect: s.expect })));
  return decodeHere(unsealed, DEV, cursor);
}

function drain(it: Iterable<unknown[][]>): { batches: unknown[][][]; err?: { code: string; message: string } } {
  const batches: unknown[][][] = [];
  try {
    for (const b of it) batches.push(b);
  } catch (err) {
    return { batches, err: err as { code: string; message: string } };
  }
  return { batches };
}

describe('segment decoder', () => {
  it('the worker yields exactly the rows decoding on this thread yields, cursor included', async () => {
    const id = await generateIdentity();
    const segs = segments();
    const cursor = Math.floor((segs[1].expect.seqFrom + segs[1].expect.seqTo) / 2); // inside the second segment
    const mine = drain(await here(await sealAll(segs, id), id, cursor));
    const worker = drain(decodeInWorker(await sealAll(segs, id), id, DEV, cursor));
    const seqs = mine.batches.map((b) => b.map((row) => row[EVENT_COLUMNS.indexOf('seq')] as number));
    expect(seqs[0]).toEqual([]);
    expect(seqs[1].length).toBeGreaterThan(0);
    expect(seqs[1].length).toBeLessThan(segs[1].expect.count);
    expect(seqs.flat().every((q) => q > cursor)).toBe(true);
    expect(seqs[2].length).toBe(segs[2].expect.count);
    expect(worker).toEqual(mine);
  });

  it('a damaged segment or another key fails in the worker as it fails here, after the good segments', async () => {
    const id = await generateIdentity();
    const damaged = segments();
    // Valid gzip of different text: decrypts and gunzips, fails the content hash the manifest promised.
    damaged[1] = { gz: asPlain(gzipSync(gunzipSync(damaged[1].gz).toString('utf8').replace(/"/, '"x'))), expect: damaged[1].expect };
    const otherKey = await sealAll(segments(), id);
    otherKey[2] = (await sealAll([segments()[2]], await generateIdentity()))[0];
    const copy = (segs: SealedItem[]) => segs.map((x) => ({ sealed: Uint8Array.from(x.sealed), expect: x.expect }));

    const bad = await sealAll(damaged, id);
    const worker = drain(decodeInWorker(copy(bad), id, DEV, 0));
    expect(worker.batches.length).toBe(1);
    expect(worker.err).toMatchObject({ code: 'INTEGRITY' });
    expect(worker.err).toEqual(drain(await here(copy(bad), id, 0)).err);

    const wrong = drain(decodeInWorker(copy(otherKey), id, DEV, 0));
    expect(wrong.batches.length).toBe(2);
    expect(wrong.err).toMatchObject({ code: 'KEY' });
    const direct = await open(asSealed(otherKey[2].sealed), id, otherKey[2].expect.object).catch((err) => err);
    expect(wrong.err!.message).toBe(direct.message);
  });

  it('a landing that stops early ends the worker (the generator can be closed half-way)', async () => {
    const id = await generateIdentity();
    const gen = decodeInWorker(await sealAll(segments(), id), id, DEV, 0);
    expect(gen.next().done).toBe(false);
    expect(gen.return(undefined).done).toBe(true);
  });
});
