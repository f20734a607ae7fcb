import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SuError, exitCodeFor } from '../../src/errors.js';
import {
  FORMAT,
  SEGMENT_FORMAT,
  SEGMENT_LIMITS,
  cutSegments,
  decodeKeyJson,
  decodeManifest,
  ForgedManifestError,
  decodeSegment,
  encodeKeyJson,
  encodeManifest,
  encodeSegment,
  openManifest,
  openSegment,
  sealManifest,
  sealSegment,
  sealSegmentPart,
  SegmentCutter,
  type Manifest,
  type SegmentEvent,
  type SegmentExpectation,
} from '../../src/sync/codec.js';
import { asSealed, generateIdentity, open, recipientOf, type ManifestAuth, type Sealed } from '../../src/sync/crypto.js';
import {
  devicesPrefix,
  isDeviceId,
  keyJsonKey,
  manifestKey,
  parseDeviceKey,
  segmentKey,
  segmentsPrefix,
} from '../../src/sync/layout.js';
import { canonicalJson, sha256Hex } from '../../src/model/canonical.js';
import { prng, propertyRuns, randomSegmentEvents } from '../helpers/sync-events.js';

/** The manifest authenticator of a throwaway identity (the MAC key is derived from its secret). */
let AUTH: ManifestAuth;
beforeAll(async () => {
  AUTH = await (await generateIdentity()).manifestAuth();
});

const DEV = '0123456789abcdef';
const PEER = 'fedcba9876543210';

function integrityOf(f: () => unknown, label = ''): SuError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SuError);
    expect((err as SuError).code).toBe('INTEGRITY');
    expect(exitCodeFor(err)).toBe(4);
    return err as SuError;
  }
  throw new Error(`expected an INTEGRITY error ${label}`);
}

function expectationOf(enc: ReturnType<typeof encodeSegment>, kind: 'segment' | 'snapshot' = 'segment'): SegmentExpectation {
  return { device: DEV, kind, seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, sha256: enc.sha256 };
}

const sample = (n = 5, seed = 1) => randomSegmentEvents(prng(seed), n);

/** A segment as format 1 wrote it: `uid` after writtenAt on every line. */
function formatOne(events: SegmentEvent[], kind: 'segment' | 'snapshot' = 'segment'): { gz: Buffer; sha256: string; text: string } {
  const raw = gunzipSync(encodeSegment({ device: DEV, kind, events }).plain).toString('utf8');
  const [header, ...lines] = raw.slice(0, -1).split('\n');
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const v1 = lines.map((l, i) => {
    const t = JSON.parse(l) as unknown[];
    return JSON.stringify([t[0], t[1], sorted[i].event.uid, ...t.slice(2)]);
  });
  const text = [header.replace(`"format":${SEGMENT_FORMAT}`, '"format":1'), ...v1].join('\n') + '\n';
  return { gz: gzipSync(text), sha256: sha256Hex(text), text };
}

/** Re-gzip a modified JSONL so the failure under test is not just a hash mismatch. */
function tampered(events: SegmentEvent[], edit: (lines: string[]) => string[]): { gz: Buffer; sha256: string } {
  const raw = gunzipSync(encodeSegment({ device: DEV, kind: 'segment', events }).plain).toString('utf8');
  const lines = edit(raw.slice(0, -1).split('\n'));
  const text = lines.join('\n') + '\n';
  return { gz: gzipSync(text), sha256: sha256Hex(text) };
}

describe('segment encoding', () => {
  it('writes the documented JSONL: canonical header, one tuple per event, ascending seq', () => {
    const events = sample(3);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events: [...events].reverse() });
    const raw = gunzipSync(enc.plain).toString('utf8');
    const lines = raw.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(
      `{"count":3,"device":"${DEV}","format":2,"kind":"segment","seqFrom":${events[0].seq},"seqTo":${events[2].seq}}`,
    );
    const first = JSON.parse(lines[1]);
    // No uid on the wire (format 2): provider follows writtenAt.
    expect(first.slice(0, 3)).toEqual([events[0].seq, events[0].writtenAt, events[0].event.provider]);
    expect(first).toHaveLength(16);
    expect(raw).not.toContain(events[0].event.uid);
    expect(enc).toMatchObject({ seqFrom: events[0].seq, seqTo: events[2].seq, count: 3, rawBytes: Buffer.byteLength(raw) });
    expect(enc.sha256).toBe(sha256Hex(raw));
  });

  it('is deterministic: same input (in any order) → same gzip bytes and hash; fixed gzip header', () => {
    const events = sample(200, 7);
    const a = encodeSegment({ device: DEV, kind: 'segment', events });
    const shuffled = randomSegmentEvents(prng(7), 200, false).reverse();
    const b = encodeSegment({ device: DEV, kind: 'segment', events: shuffled });
    expect(Buffer.from(a.plain).equals(Buffer.from(b.plain))).toBe(true);
    expect(a.sha256).toBe(b.sha256);
    // gzip magic, deflate, no flags, MTIME 0, XFL 0, OS 3 (Unix).
    expect([...a.plain.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    const m = manifest();
    expect(Buffer.from(encodeManifest(m, AUTH)).equals(Buffer.from(encodeManifest({ ...m, segments: [...m.segments].reverse() }, AUTH)))).toBe(true);
  });

  it('different content → different hash; kind and device are part of the bytes', () => {
    const events = sample(4);
    const base = encodeSegment({ device: DEV, kind: 'segment', events });
    expect(encodeSegment({ device: DEV, kind: 'snapshot', events }).sha256).not.toBe(base.sha256);
    expect(encodeSegment({ device: PEER, kind: 'segment', events }).sha256).not.toBe(base.sha256);
    const changed = events.map((e, i) => (i === 2 ? { ...e, event: { ...e.event, text: (e.event.text ?? '') + '!' } } : e));
    expect(encodeSegment({ device: DEV, kind: 'segment', events: changed }).sha256).not.toBe(base.sha256);
  });

  it('refuses input it could not decode again (INTERNAL)', () => {
    const [e] = sample(1);
    const bad: Array<[string, Parameters<typeof encodeSegment>[0]]> = [
      ['no events', { device: DEV, kind: 'segment', events: [] }],
      ['bad device', { device: 'ABC', kind: 'segment', events: [e] }],
      ['duplicate seq', { device: DEV, kind: 'segment', events: [e, { ...e }] }],
      ['seq 0', { device: DEV, kind: 'segment', events: [{ ...e, seq: 0 }] }],
      ['bad stamp', { device: DEV, kind: 'segment', events: [{ ...e, writtenAt: '2026-01-01' }] }],
      ['usage with a missing count', { device: DEV, kind: 'segment', events: [{ ...e, event: { ...e.event, usage: { inputTokens: 1 } as never } }] }],
      ['empty uid', { device: DEV, kind: 'segment', events: [{ ...e, event: { ...e.event, uid: '' } }] }],
      ['uid not derived', { device: DEV, kind: 'segment', events: [{ ...e, event: { ...e.event, record: e.event.record + 'x' } }] }],
      ['fractional tokens', { device: DEV, kind: 'segment', events: [{ ...e, event: { ...e.event, usage: { inputTokens: 0.5, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 0 } } }] }],
    ];
    for (const [label, input] of bad) {
      expect(() => encodeSegment(input), label).toThrowError(SuError);
      try {
        encodeSegment(input);
      } catch (err) {
        expect((err as SuError).code, label).toBe('INTERNAL');
      }
    }
  });
});

describe('segment decoding', () => {
  it('round-trips, including nasty strings, nulls and usage', () => {
    const events = sample(50, 3);
    const enc = encodeSegment({ device: DEV, kind: 'snapshot', events });
    expect(decodeSegment(enc.plain, expectationOf(enc, 'snapshot'))).toEqual(events);
  });

  it('still decodes format 1 (uid on every line, checked), to the same events', () => {
    const events = sample(50, 3);
    const enc = encodeSegment({ device: DEV, kind: 'snapshot', events });
    const v1 = formatOne(events, 'snapshot');
    expect(v1.text.split('\n')[1]).toContain(events[0].event.uid);
    expect(decodeSegment(v1.gz, { ...expectationOf(enc, 'snapshot'), sha256: v1.sha256 })).toEqual(events);
  });

  it('property: decode(encode(x)) = x sorted by seq, for random events (seeded)', () => {
    const runs = propertyRuns(20);
    for (let run = 0; run < runs; run++) {
      const seed = 1000 + run;
      const r = prng(seed);
      const events = randomSegmentEvents(r, 1 + Math.floor(r() * 60), true);
      const kind = r() < 0.5 ? 'segment' : 'snapshot';
      const enc = encodeSegment({ device: DEV, kind, events });
      const back = decodeSegment(enc.plain, expectationOf(enc, kind));
      expect(back, `seed ${seed}`).toEqual([...events].sort((a, b) => a.seq - b.seq));
      // Re-encoding what we decoded gives the very same bytes (canonical form is a fixpoint).
      expect(encodeSegment({ device: DEV, kind, events: back }).sha256, `seed ${seed}`).toBe(enc.sha256);
    }
  });

  it('rejects every mismatch with INTEGRITY naming the object, not the content', () => {
    const events = sample(4, 11);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events });
    const ok = expectationOf(enc);
    const [s1, s2, , s4] = events.map((e) => e.seq);
    const swapLines = tampered(events, (l) => [l[0], l[2], l[1], l[3], l[4]]);
    const badLine = tampered(events, (l) => [l[0], l[1], '[1,2', l[3], l[4]]);
    const shortTuple = tampered(events, (l) => [l[0], l[1], JSON.stringify(JSON.parse(l[2]).slice(0, 15)), l[3], l[4]]);
    // A format-1 line with a uid: wrong for format 2 (one field too many).
    const withUid = tampered(events, (l) => {
      const t = JSON.parse(l[2]);
      return [l[0], l[1], JSON.stringify([t[0], t[1], events[1].event.uid, ...t.slice(2)]), l[3], l[4]];
    });
    const badField = tampered(events, (l) => {
      const t = JSON.parse(l[2]);
      t[10] = 'yes'; // sidechain
      return [l[0], l[1], JSON.stringify(t), l[3], l[4]];
    });
    // Format 1 carried the uid: one that (provider, session, record) do not derive is refused.
    const badUid = (() => {
      const lines = formatOne(events).text.slice(0, -1).split('\n');
      const t = JSON.parse(lines[2]);
      t[2] = sha256Hex('another identity');
      const text = [lines[0], lines[1], JSON.stringify(t), lines[3], lines[4]].join('\n') + '\n';
      return { gz: gzipSync(text), sha256: sha256Hex(text) };
    })();
    const badUsage = tampered(events, (l) => {
      const t = JSON.parse(l[2]);
      t[13] = [1.5, 0, 0, 0, 0, 0];
      return [l[0], l[1], JSON.stringify(t), l[3], l[4]];
    });
    const badStamp = tampered(events, (l) => {
      const t = JSON.parse(l[2]);
      t[1] = 'yesterday';
      return [l[0], l[1], JSON.stringify(t), l[3], l[4]];
    });
    const extraLine = tampered(events, (l) => [...l, l[4]]);
    const format0 = tampered(events, (l) => [l[0].replace('"format":2', '"format":0'), ...l.slice(1)]);
    const extraHeaderField = tampered(events, (l) => [l[0].replace('{', '{"compressed":"zstd",'), ...l.slice(1)]);
    const noNewline = (() => {
      const raw = gunzipSync(enc.plain).toString('utf8').slice(0, -1);
      return { gz: gzipSync(raw), sha256: sha256Hex(raw) };
    })();
    const notUtf8 = (() => {
      const raw = Buffer.concat([gunzipSync(enc.plain), Buffer.from([0xff, 0xfe, 0x0a])]);
      return { gz: gzipSync(raw), sha256: sha256Hex(raw) };
    })();
    const truncatedGz = enc.plain.subarray(0, enc.plain.length - 12);
    const flippedGz = Buffer.from(enc.plain);
    flippedGz[flippedGz.length - 20] ^= 0xff;
    const secret = events[1].event.uid;

    const cases: Array<[string, Uint8Array, Partial<SegmentExpectation>, RegExp]> = [
      ['wrong device', enc.plain, { device: PEER }, /device/],
      ['wrong kind', enc.plain, { kind: 'snapshot' }, /kind/],
      ['wrong seqFrom', enc.plain, { seqFrom: s1 - 1 }, /seqFrom/],
      ['wrong seqTo', enc.plain, { seqTo: s4 + 1 }, /seqTo/],
      ['wrong count', enc.plain, { count: 3 }, /count/],
      ['wrong sha256', enc.plain, { sha256: sha256Hex('other') }, /hash/],
      ['bad gzip (garbage)', Buffer.from('not gzip at all'), {}, /gzip/],
      ['truncated gzip', truncatedGz, {}, /truncated gzip/],
      ['flipped gzip byte', flippedGz, {}, /gzip|hash/],
      ['empty object', new Uint8Array(0), {}, /gzip/],
      ['seq out of order', swapLines.gz, { sha256: swapLines.sha256 }, new RegExp(`line 3: seq ${s1} is not above the previous ${s2}`)],
      ['bad line', badLine.gz, { sha256: badLine.sha256 }, /line 3 is not valid JSON/],
      ['tuple arity', shortTuple.gz, { sha256: shortTuple.sha256 }, /line 3 is not an event tuple of 16 fields/],
      ['a format-1 line in a format-2 segment', withUid.gz, { sha256: withUid.sha256 }, /line 3 is not an event tuple of 16 fields/],
      ['field type', badField.gz, { sha256: badField.sha256 }, /line 3: field sidechain/],
      ['uid not derived from provider/session/record', badUid.gz, { sha256: badUid.sha256 }, /line 3: field uid does not match/],
      ['usage not integers', badUsage.gz, { sha256: badUsage.sha256 }, /line 3: field usage/],
      ['writtenAt', badStamp.gz, { sha256: badStamp.sha256 }, /line 3: writtenAt/],
      ['more lines than count', extraLine.gz, { sha256: extraLine.sha256 }, /holds 5 event lines/],
      ['format 0', format0.gz, { sha256: format0.sha256 }, /format 0/],
      ['unknown header field', extraHeaderField.gz, { sha256: extraHeaderField.sha256 }, /header fields differ/],
      ['unterminated last line', noNewline.gz, { sha256: noNewline.sha256 }, /not terminated/],
      ['not UTF-8', notUtf8.gz, { sha256: notUtf8.sha256 }, /UTF-8/],
    ];
    for (const [label, gz, patch, pattern] of cases) {
      const err = integrityOf(() => decodeSegment(gz, { ...ok, ...patch, object: 'devices/x/seg/y.age' }), label);
      expect(err.message, label).toContain('devices/x/seg/y.age');
      expect(err.message, label).toMatch(pattern);
      expect(err.message, label).not.toContain(secret);
    }
    // Seqs inside the stated range but not reaching its ends.
    const inner = tampered(events, (l) => [l[0], l[1], l[2], l[3]]);
    const err = integrityOf(() => decodeSegment(inner.gz, { ...ok, sha256: inner.sha256, count: 4 }));
    expect(err.message).toMatch(/holds 3 event lines/);
  });

  it('a segment from a newer format is CONFIG (upgrade), checked before anything else in the header', () => {
    const events = sample(2, 8);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events });
    const v3 = tampered(events, (l) => [l[0].replace('"format":2', '"format":3,"codec":"zstd"'), ...l.slice(1)]);
    try {
      decodeSegment(v3.gz, { ...expectationOf(enc), sha256: v3.sha256, count: 2 });
      throw new Error('expected a throw');
    } catch (err) {
      expect((err as SuError).code).toBe('CONFIG');
      expect((err as SuError).message).toMatch(/format 3/);
    }
  });

  it('refuses a decompression bomb before it fills memory', () => {
    // 257 gzip members of 1 MiB of zeros each: a few hundred KB that inflate past the ceiling.
    const bomb = Buffer.concat(Array.from({ length: 257 }, () => gzipSync(Buffer.alloc(1024 * 1024))));
    const err = integrityOf(() => decodeSegment(bomb, { device: DEV, kind: 'segment', seqFrom: 1, seqTo: 1, count: 1, sha256: 'f'.repeat(64) }));
    expect(err.message).toMatch(/exceeds the size bound/);
  });

  it('a seq below seqFrom or a header range that does not match its events fails', () => {
    const events = sample(3, 5);
    const enc = encodeSegment({ device: DEV, kind: 'segment', events });
    // A header claiming a wider range than its lines cover, consistently restated by the expectation.
    const wide = tampered(events, (l) => {
      const h = JSON.parse(l[0]);
      h.seqFrom -= 1;
      return [canonicalJson(h), ...l.slice(1)];
    });
    const err = integrityOf(() => decodeSegment(wide.gz, { ...expectationOf(enc), seqFrom: enc.seqFrom - 1, sha256: wide.sha256 }));
    expect(err.message).toMatch(/events span/);
  });
});

describe('cutSegments', () => {
  it('splits by count', () => {
    const events = sample(45, 2);
    const parts = cutSegments(events, { maxEvents: 20 });
    expect(parts.map((p) => p.length)).toEqual([20, 20, 5]);
    expect(parts.flat()).toEqual(events);
  });

  it('splits by plaintext bytes; every part encodes within the bound', () => {
    const r = prng(9);
    const events = randomSegmentEvents(r, 300).map((e) => ({ ...e, event: { ...e.event, text: 'x'.repeat(500 + Math.floor(r() * 500)) } }));
    const maxBytes = 16 * 1024;
    const parts = cutSegments(events, { maxBytes, maxEvents: 1000 });
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) expect(encodeSegment({ device: DEV, kind: 'segment', events: p }).rawBytes).toBeLessThanOrEqual(maxBytes);
    expect(parts.flat().map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    // Ascending, disjoint ranges.
    for (let i = 1; i < parts.length; i++) expect(parts[i][0].seq).toBeGreaterThan(parts[i - 1].at(-1)!.seq);
  });

  it('sorts its input, keeps an oversized event alone, and has the documented defaults', () => {
    const events = sample(5, 4);
    const big = { ...events[2], event: { ...events[2].event, text: 'y'.repeat(5000) } };
    const input = [events[4], events[3], big, events[1], events[0]];
    const parts = cutSegments(input, { maxBytes: 2000 });
    expect(parts.flat().map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(parts.find((p) => p.includes(big))).toEqual([big]);
    expect(SEGMENT_LIMITS).toEqual({ maxEvents: 20000, maxBytes: 8 * 1024 * 1024 });
    expect(cutSegments([])).toEqual([]);
  });

  it('SegmentCutter fed in batches cuts across them as one cut would, and its parts encode the same bytes', async () => {
    const r = prng(21);
    const events = randomSegmentEvents(r, 250).map((e) => ({ ...e, event: { ...e.event, text: 'z'.repeat(200 + Math.floor(r() * 400)) } }));
    const limits = { maxBytes: 24 * 1024, maxEvents: 60 };
    const cutter = new SegmentCutter(limits);
    const parts = [];
    for (let i = 0; i < events.length; i += 37) {
      for (const e of events.slice(i, i + 37)) {
        const done = cutter.add(e);
        if (done) parts.push(done);
      }
    }
    parts.push(cutter.flush()!);
    expect(cutter.flush()).toBeNull();
    const whole = cutSegments(events, limits);
    expect(parts.map((p) => [p.seqFrom, p.seqTo, p.count])).toEqual(whole.map((w) => [w[0].seq, w.at(-1)!.seq, w.length]));
    expect(parts.length).toBeGreaterThan(5);
    const identity = await generateIdentity();
    const recipient = await recipientOf(identity);
    for (const [i, p] of parts.entries()) {
      const enc = encodeSegment({ device: DEV, kind: 'segment', events: whole[i] });
      expect(enc.rawBytes).toBeLessThanOrEqual(limits.maxBytes);
      expect(enc.rawBytes).toBe(p.bytes + gunzipSync(enc.plain).indexOf(0x0a) + 1);
      const sealed = await sealSegmentPart(DEV, 'segment', p, recipient);
      expect(sealed.entry.sha256).toBe(enc.sha256);
      expect(await openSegment(sealed.sealed, identity, DEV, sealed.entry)).toEqual(whole[i]);
    }
    // Order is checked across parts: the store is read in seq order, anything else is a bug.
    expect(() => cutter.add(events[0])).toThrowError(/comes after/);
    const fresh = new SegmentCutter();
    fresh.add(events[0]);
    expect(() => fresh.add(events[0])).toThrowError(/appears twice/);
  });
});

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    device: DEV,
    name: 'laptop',
    generation: 3,
    keyFingerprint: 'a'.repeat(64),
    writtenAt: '1764237600000.000002',
    segments: [
      { name: 'b'.repeat(64), kind: 'snapshot', seqFrom: 1, seqTo: 100, count: 80, bytes: 4000, sha256: 'c'.repeat(64) },
      { name: 'd'.repeat(64), kind: 'segment', seqFrom: 101, seqTo: 110, count: 10, bytes: 900, sha256: 'e'.repeat(64) },
    ],
    acks: { [PEER]: 42 },
    ...over,
  };
}

describe('manifest', () => {
  it('round-trips as canonical gzipped JSON with the pinned field names', () => {
    const m = manifest();
    const gz = encodeManifest(m, AUTH);
    const json = gunzipSync(gz).toString('utf8');
    const body = canonicalJson({ ...m, format: FORMAT, kind: 'manifest' });
    // auth is an HMAC-SHA-256 of the canonical JSON of every other field, under the identity's derived key.
    expect(json).toBe(canonicalJson({ ...m, format: FORMAT, kind: 'manifest', auth: { alg: 'hmac-sha256', kid: AUTH.kid, sig: AUTH.sign(Buffer.from(body)) } }) + '\n');
    expect(Object.keys(JSON.parse(json))).toEqual(['acks', 'auth', 'device', 'format', 'generation', 'keyFingerprint', 'kind', 'name', 'segments', 'writtenAt']);
    expect(decodeManifest(gz, { device: DEV, keyFingerprint: 'a'.repeat(64), auth: AUTH })).toEqual(m);
  });

  it('rejects mismatches and malformed fields with INTEGRITY', () => {
    const fp = 'a'.repeat(64);
    const raw = (v: unknown) => gzipSync(JSON.stringify(v));
    const full = { ...manifest(), format: 1, kind: 'manifest' };
    const seg0 = full.segments[0];
    const cases: Array<[string, Uint8Array, { device?: string; keyFingerprint?: string }, RegExp]> = [
      ['wrong device', encodeManifest(manifest(), AUTH), { device: PEER }, /says device/],
      ['wrong fingerprint', encodeManifest(manifest(), AUTH), { keyFingerprint: 'f'.repeat(64) }, /fingerprint/],
      ['bad gzip', Buffer.from('nope'), {}, /gzip/],
      ['truncated gzip', encodeManifest(manifest(), AUTH).subarray(0, 30), {}, /gzip/],
      ['not JSON', gzipSync('{"format":1,'), {}, /JSON/],
      ['format 0', raw({ ...full, format: 0 }), {}, /format 0/],
      ['format as string', raw({ ...full, format: '1' }), {}, /format "1"/],
      ['wrong kind', raw({ ...full, kind: 'segment' }), {}, /kind/],
      ['missing field', raw({ ...full, acks: undefined }), {}, /acks/],
      ['name too long', raw({ ...full, name: 'x'.repeat(65) }), {}, /name/],
      ['generation 0', raw({ ...full, generation: 0 }), {}, /generation/],
      ['generation as string', raw({ ...full, generation: '3' }), {}, /generation/],
      ['writtenAt not an HLC stamp', raw({ ...full, writtenAt: '2026-11-27T10:00:00.000Z' }), {}, /writtenAt/],
      ['segment name with a slash', raw({ ...full, segments: [{ ...seg0, name: '../x' }] }), {}, /name/],
      ['segment bad sha', raw({ ...full, segments: [{ ...seg0, sha256: 'XYZ' }] }), {}, /sha256/],
      ['segment inverted range', raw({ ...full, segments: [{ ...seg0, seqFrom: 9, seqTo: 3 }] }), {}, /seq range/],
      ['segment count too big', raw({ ...full, segments: [{ ...seg0, count: 101 }] }), {}, /count/],
      ['segment name not hex', raw({ ...full, segments: [{ ...seg0, name: 'seg-1' }] }), {}, /name/],
      ['overlapping segments', raw({ ...full, segments: [seg0, { ...full.segments[1], seqFrom: 100 }] }), {}, /overlaps/],
      ['duplicate segment name', raw({ ...full, segments: [seg0, { ...full.segments[1], name: seg0.name }] }), {}, /twice/],
      ['ack to self', raw({ ...full, acks: { [DEV]: 1 } }), {}, /own device/],
      ['ack not a number', raw({ ...full, acks: { [PEER]: '5' } }), {}, /acks/],
      ['ack key not a device', raw({ ...full, acks: { laptop: 5 } }), {}, /acks/],
    ];
    for (const [label, gz, patch, pattern] of cases) {
      const err = integrityOf(() => decodeManifest(gz, { device: DEV, keyFingerprint: fp, auth: AUTH, ...patch }), label);
      expect(err.message, label).toMatch(pattern);
      expect(err.message, label).toContain(`manifest of device`);
    }
  });

  it('ignores unknown fields (additive changes); a newer format is CONFIG (upgrade), not damage', () => {
    const fp = 'a'.repeat(64);
    const full = { ...manifest(), format: 1, kind: 'manifest' };
    const extra = gzipSync(JSON.stringify({ ...full, compaction: { every: 64 }, segments: full.segments.map((s) => ({ ...s, codec: 'gzip' })) }));
    expect(decodeManifest(extra, { device: DEV, keyFingerprint: fp, auth: AUTH })).toEqual({ ...manifest(), unauthenticated: true });
    for (const gz of [gzipSync(JSON.stringify({ ...full, format: 2 })), gzipSync(JSON.stringify({ format: 2 }))]) {
      try {
        decodeManifest(gz, { device: DEV, keyFingerprint: fp, auth: AUTH });
        throw new Error('expected a throw');
      } catch (err) {
        expect((err as SuError).code).toBe('CONFIG');
        expect(exitCodeFor(err)).toBe(2);
        expect((err as SuError).message).toMatch(/newer stackunderflow \(format 2\)/);
        expect((err as SuError).hint).toMatch(/upgrade/);
      }
    }
  });

  it('encode refuses a manifest it could not decode (INTERNAL)', () => {
    for (const bad of [manifest({ generation: 0 }), manifest({ acks: { [DEV]: 1 } }), manifest({ device: 'nope' }), manifest({ writtenAt: '2026-11-27T10:00:00Z' })]) {
      try {
        encodeManifest(bad, AUTH);
        throw new Error('expected a throw');
      } catch (err) {
        expect((err as SuError).code).toBe('INTERNAL');
      }
    }
  });
});

describe('manifest authentication', () => {
  const fp = 'a'.repeat(64);
  const expectFor = () => ({ device: DEV, keyFingerprint: fp, auth: AUTH });
  const plainJson = (gz: Uint8Array) => JSON.parse(gunzipSync(gz).toString('utf8')) as Record<string, unknown>;
  const forgedOf = (fn: () => unknown, label: string): ForgedManifestError => {
    try {
      fn();
    } catch (err) {
      expect(err, label).toBeInstanceOf(ForgedManifestError);
      expect((err as SuError).code, label).toBe('INTEGRITY');
      expect(exitCodeFor(err), label).toBe(4);
      return err as ForgedManifestError;
    }
    throw new Error(`${label}: expected a throw`);
  };

  it('a manifest made with this key decodes as authenticated', () => {
    const m = decodeManifest(encodeManifest(manifest(), AUTH), expectFor());
    expect(m.unauthenticated).toBeUndefined();
  });

  it('any edit after signing is caught, whatever field it touches, unknown keys included', () => {
    const signed = plainJson(encodeManifest(manifest(), AUTH));
    const edits: Array<[string, Record<string, unknown>]> = [
      ['generation bumped', { ...signed, generation: 99 }],
      ['acks raised', { ...signed, acks: { [PEER]: 10_000 } }],
      ['a segment added', { ...signed, segments: [...(signed.segments as object[]), { name: 'f'.repeat(64), kind: 'segment', seqFrom: 200, seqTo: 200, count: 1, bytes: 9, sha256: 'f'.repeat(64) }] }],
      ['name changed', { ...signed, name: 'evil' }],
      ['unknown key added', { ...signed, extra: 1 }],
      ['sig of another manifest', { ...signed, auth: { ...(signed.auth as object), sig: AUTH.sign(Buffer.from('x')) } }],
      ['sig not hex', { ...signed, auth: { ...(signed.auth as object), sig: 'zz' } }],
      ['auth not an object', { ...signed, auth: 'hmac' }],
      ['unknown algorithm', { ...signed, auth: { ...(signed.auth as object), alg: 'none' } }],
    ];
    for (const [label, v] of edits) forgedOf(() => decodeManifest(gzipSync(canonicalJson(v)), expectFor()), label);
  });

  it('a manifest authenticated with another key is refused, not taken as a key mismatch', async () => {
    const other = await (await generateIdentity()).manifestAuth();
    const err = forgedOf(() => decodeManifest(encodeManifest(manifest(), other), expectFor()), 'other key');
    expect(err.message).toMatch(/another key id/);
    expect(err.message).not.toMatch(/different key than this device/);
  });

  it('a manifest with no auth decodes, flagged unauthenticated (the caller decides)', () => {
    const { auth: _auth, ...bare } = plainJson(encodeManifest(manifest(), AUTH));
    expect(decodeManifest(gzipSync(canonicalJson(bare)), expectFor())).toEqual({ ...manifest(), unauthenticated: true });
  });
});

describe('key.json', () => {
  it('round-trips with the pinned format string', () => {
    const k = { created: '2026-11-27T10:00:00.000Z', fingerprint: 'ab'.repeat(32) };
    const bytes = encodeKeyJson(k);
    expect(Buffer.from(bytes).toString()).toBe(
      `{"created":"2026-11-27T10:00:00.000Z","fingerprint":"${'ab'.repeat(32)}","format":"stackunderflow-sync/v1"}\n`,
    );
    expect(decodeKeyJson(bytes)).toEqual(k);
  });

  it('malformed → INTEGRITY, another format → CONFIG, unknown fields ignored', () => {
    const fp = 'ab'.repeat(32);
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
    for (const bad of ['nope', enc([]), enc({ created: '2026-11-27T10:00:00Z', fingerprint: fp }), enc({ format: 'stackunderflow-sync/v1', created: 'x', fingerprint: fp }), enc({ format: 'stackunderflow-sync/v1', created: '2026-11-27T10:00:00Z', fingerprint: 'short' })]) {
      integrityOf(() => decodeKeyJson(typeof bad === 'string' ? Buffer.from(bad) : bad));
    }
    for (const format of ['stackunderflow-sync/v2', 'something-else']) {
      try {
        decodeKeyJson(enc({ format, created: '2026-11-27T10:00:00Z', fingerprint: fp }));
        throw new Error('expected a throw');
      } catch (err) {
        expect((err as SuError).code).toBe('CONFIG');
        expect((err as SuError).message).toContain(format);
        expect((err as SuError).hint).toMatch(/upgrade/);
      }
    }
    // Unknown fields are ignored (team mode may add some).
    expect(decodeKeyJson(enc({ format: 'stackunderflow-sync/v1', created: '2026-11-27T10:00:00Z', fingerprint: fp, members: [fp] }))).toEqual({ created: '2026-11-27T10:00:00Z', fingerprint: fp });
  });
});

describe('sealed segments and manifests', () => {
  it('sealSegment/openSegment round-trip; size, swap and kind checks bite', async () => {
    const id = await generateIdentity();
    const r = await recipientOf(id);
    const events = sample(10, 21);
    const s = await sealSegment({ device: DEV, kind: 'segment', events }, r);
    expect(s.name).toBe(sha256Hex(s.sealed));
    expect(s.entry).toMatchObject({ name: s.name, kind: 'segment', count: 10, bytes: s.sealed.length });
    expect(await openSegment(s.sealed, id, DEV, s.entry)).toEqual(events);
    // The async compressor inside sealSegment writes the same bytes as encodeSegment.
    expect(Buffer.from(await open(s.sealed, id)).equals(Buffer.from(encodeSegment({ device: DEV, kind: 'segment', events }).plain))).toBe(true);

    // Size and name (SHA-256 of the sealed bytes) are checked before decrypting.
    await expect(openSegment(asSealed(s.sealed.subarray(1)), id, DEV, s.entry)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/size/) });
    const flipped = Uint8Array.from(s.sealed);
    flipped[flipped.length - 1] ^= 1;
    await expect(openSegment(asSealed(flipped), id, DEV, s.entry)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/not its name/) });
    // A valid segment of another device swapped in under our name: same key, so it decrypts, and the header catches it.
    const other = await sealSegment({ device: PEER, kind: 'segment', events }, r);
    const swapped = { ...s.entry, name: other.name, bytes: other.sealed.length, sha256: other.entry.sha256 };
    await expect(openSegment(other.sealed, id, DEV, swapped)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/device/) });
    // A different key.
    const stranger = await generateIdentity();
    await expect(openSegment(s.sealed, stranger, DEV, s.entry)).rejects.toMatchObject({ code: 'KEY' });
  });

  it('sealManifest/openManifest round-trip', async () => {
    const id = await generateIdentity();
    const m = manifest();
    expect(await openManifest(await sealManifest(m, id), id, { device: DEV, keyFingerprint: m.keyFingerprint })).toEqual(m);
  });
});

describe('layout', () => {
  it('builds the documented keys and parses them back', () => {
    expect(keyJsonKey()).toBe('stackunderflow/v1/key.json');
    expect(devicesPrefix()).toBe('stackunderflow/v1/devices/');
    expect(manifestKey(DEV)).toBe(`stackunderflow/v1/devices/${DEV}/manifest.age`);
    expect(segmentsPrefix(DEV)).toBe(`stackunderflow/v1/devices/${DEV}/seg/`);
    const name = sha256Hex('sealed bytes');
    expect(segmentKey(DEV, name)).toBe(`stackunderflow/v1/devices/${DEV}/seg/${name}.age`);
    expect(parseDeviceKey(manifestKey(DEV))).toEqual({ deviceId: DEV, type: 'manifest' });
    expect(parseDeviceKey(segmentKey(DEV, name))).toEqual({ deviceId: DEV, type: 'segment', name });
  });

  it('validates device ids and names; foreign keys parse to null', () => {
    expect(isDeviceId(DEV)).toBe(true);
    for (const bad of ['0123456789ABCDEF', '0123456789abcde', '0123456789abcdef0', '../../etc/passwd', '']) {
      expect(isDeviceId(bad), bad).toBe(false);
      expect(() => manifestKey(bad), bad).toThrow(SuError);
    }
    for (const bad of ['', '../x', 'a/b', 'ab12', 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65)]) expect(() => segmentKey(DEV, bad), bad).toThrow(SuError);
    for (const key of [
      'stackunderflow/v1/key.json',
      `stackunderflow/v1/devices/${DEV}/`,
      `stackunderflow/v1/devices/${DEV}/manifest.age.tmp`,
      `stackunderflow/v1/devices/${DEV}/seg/${'a'.repeat(64)}.age/y`,
      `stackunderflow/v1/devices/${DEV}/seg/${'a'.repeat(64)}.age.tmp`,
      `stackunderflow/v1/devices/${DEV}/seg/x.age`,
      `stackunderflow/v1/devices/${DEV}/seg/.x.age`,
      `stackunderflow/v1/devices/NOTADEVICE/manifest.age`,
      `stackunderflow/v2/devices/${DEV}/manifest.age`,
      `other/${DEV}/manifest.age`,
    ]) {
      expect(parseDeviceKey(key), key).toBeNull();
    }
  });
});

describe('types', () => {
  it('keep plaintext and ciphertext apart (checked by tsc)', () => {
    const upload = (body: Sealed) => body.length;
    const plain = encodeSegment({ device: DEV, kind: 'segment', events: sample(1) }).plain;
    // @ts-expect-error a Plain cannot be uploaded
    const n = upload(plain);
    expect(n).toBeGreaterThan(0);
  });
});
