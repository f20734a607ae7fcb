/**
 * Golden vectors for the sync wire format: sealed objects made with a fixed, committed,
 * TEST-ONLY identity, one folder per format. They pin field names, order and encoding: a
 * change that stops these decoding, or that changes the plaintext hash of the same events,
 * is a format change (bump the format, keep the old folders decoding, add a folder).
 * v1: segments with `uid` on every line, and a manifest without `auth` (written before manifests
 * were authenticated: it decodes flagged unauthenticated); v2 (written today): segments without
 * `uid`, and a manifest with `auth` (HMAC-SHA-256 under the identity's derived key).
 *
 * Regenerate the current folder (new ciphertext, same identity and plaintext):
 *   STACKUNDERFLOW_REGEN_GOLDEN=1 npx vitest run test/sync/golden.test.ts
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/model/event.js';
import { eventUid } from '../../src/model/identity.js';
import { SuError } from '../../src/errors.js';
import {
  decodeKeyJson,
  decodeManifest,
  decodeSegment,
  encodeKeyJson,
  encodeManifest,
  encodeSegment,
  openManifest,
  openSegment,
  sealManifest,
  sealSegment,
  type Manifest,
  type ManifestSegment,
  type SegmentEvent,
} from '../../src/sync/codec.js';
import { asPlain, asSealed, fingerprint, generateIdentity, open, recipientOf, seal, type Identity } from '../../src/sync/crypto.js';
import { formatIdentityFile, parseIdentityText } from '../../src/sync/keys.js';
import { sha256Hex } from '../../src/model/canonical.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/sync/golden');
/** The folder today's code writes; older ones must only keep decoding. */
const CURRENT = 'v2';
const VERSIONS = ['v1', 'v2'] as const;
const DIR = join(ROOT, CURRENT);
const REGEN = process.env.STACKUNDERFLOW_REGEN_GOLDEN === '1';
const DEVICE = '5eed5eed00c0ffee';
const PEER = '0000000000000b0b';

interface CorruptVector {
  file: string;
  /** Which object it pretends to be; `entry` overrides the manifest entry it is checked against. */
  as: 'segment' | 'manifest';
  entry?: ManifestSegment;
  device?: string;
  code: 'INTEGRITY' | 'KEY';
  match: string;
  why: string;
}

interface Vectors {
  note: string;
  device: string;
  fingerprint: string;
  segments: Record<string, ManifestSegment & { file: string; plaintext: string; events: string }>;
  manifest: { file: string; plaintext: string };
  keyJson: string;
  corrupt: CorruptVector[];
}

// ---------------------------------------------------------------------------------------
// The fixed content. Realistic shapes: Claude reply with usage, prompt with non-ASCII and
// newlines, Codex usage record with a derived record id, sidechain, nulls everywhere allowed.

function ev(p: Partial<EventRecord> & Pick<EventRecord, 'provider' | 'session' | 'record' | 'kind'>): EventRecord {
  return {
    uid: eventUid(p.provider, p.session, p.record),
    project: '-home-dev-proj',
    projectPath: '/home/dev/proj',
    ts: '2026-11-20T09:15:00.000Z',
    model: null,
    sidechain: false,
    agent: null,
    usageKey: null,
    usage: null,
    text: null,
    extra: null,
    ...p,
  };
}

const S1 = '7f0e3a52-1c0d-4a3e-9a55-0c8b8f1d2e01';
const CODEX = '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

function goldenSegments(): Record<'snapshot' | 'segment', { kind: 'snapshot' | 'segment'; events: SegmentEvent[] }> {
  return {
    snapshot: {
      kind: 'snapshot',
      events: [
        { seq: 1, writtenAt: '1763629200000.000000', event: ev({ provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000001', kind: 'user', text: 'Fix the failing test in parser.ts' }) },
        {
          seq: 3,
          writtenAt: '1763629200000.000002',
          event: ev({
            provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000002', kind: 'assistant', ts: '2026-11-20T09:15:04.120Z',
            model: 'claude-sonnet-4-5-20250929', usageKey: 'msg_01ABC:req_01XYZ',
            usage: { inputTokens: 12, outputTokens: 345, cacheCreationTokens: 2048, cacheReadTokens: 16384, reasoningTokens: 0, totalTokens: 18789 },
            text: 'I will read parser.ts first.', extra: '{"tools":["Read"]}',
          }),
        },
        { seq: 4, writtenAt: '1763629200001.000000', event: ev({ provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000003', kind: 'tool_result', sidechain: true, agent: 'agent-0c4c3cf8', text: 'line1\nline2\t"quoted" \\ back' }) },
      ],
    },
    segment: {
      kind: 'segment',
      events: [
        { seq: 5, writtenAt: '1763629300000.000000', event: ev({ provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000004', kind: 'user', ts: '2026-11-20T09:16:40.000Z', text: 'Merci ! Ça marche 🎉 — 日本語も' }) },
        { seq: 6, writtenAt: '1763629300000.000001', event: ev({ provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000005', kind: 'summary', ts: '', projectPath: null, text: 'Parser test fixed' }) },
        {
          seq: 7,
          writtenAt: '1763629300002.000000',
          event: ev({
            provider: 'codex', session: CODEX, record: 'd:0f1e2d3c4b5a69788796a5b4c3d2e1f0', kind: 'usage', project: '-home-dev-api', projectPath: '/home/dev/api',
            ts: '2026-11-20T10:00:00.500Z', model: 'gpt-5-codex', usageKey: `codex:${CODEX}:1`,
            usage: { inputTokens: 9000, outputTokens: 1200, cacheCreationTokens: 0, cacheReadTokens: 4000, reasoningTokens: 800, totalTokens: 14200 },
          }),
        },
        { seq: 9, writtenAt: '1763629300003.000000', event: ev({ provider: 'codex', session: CODEX, record: 'd:00112233445566778899aabbccddeeff', kind: 'meta', project: '-home-dev-api', projectPath: '/home/dev/api', ts: '2026-11-20T10:00:00.000Z', extra: '{"cli_version":"0.46.0","cwd":"/home/dev/api"}' }) },
        { seq: 12, writtenAt: '1763629300003.000001', event: ev({ provider: 'claude', session: S1, record: 'a0000000-0000-4000-8000-000000000006', kind: 'assistant', model: 'claude-opus-4-1', usageKey: 'msg_02:req_02', usage: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 0 }, text: '' }) },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------

const readIn = (version: string, f: string) => fs.readFileSync(join(ROOT, version, f));
const read = (f: string) => readIn(CURRENT, f);

async function regenerate(): Promise<void> {
  fs.mkdirSync(join(DIR, 'corrupt'), { recursive: true });
  const idPath = join(DIR, 'identity.txt');
  // A new folder starts from the same test key as the first one.
  if (!fs.existsSync(idPath)) fs.copyFileSync(join(ROOT, 'v1', 'identity.txt'), idPath);
  // The key stays fixed across regenerations; only a missing file gets a new one.
  const identity = fs.existsSync(idPath) ? await parseIdentityText(fs.readFileSync(idPath, 'utf8'), 'golden identity') : await generateIdentity();
  const body = await formatIdentityFile(identity, new Date('2026-11-27T00:00:00Z'));
  fs.writeFileSync(idPath, '# TEST ONLY - committed golden-vector key for stackunderflow tests. NEVER use it for real data.\n' + body);
  const recipient = await recipientOf(identity);
  const fp = fingerprint(recipient);
  const segments: Vectors['segments'] = {};
  const entries: ManifestSegment[] = [];
  for (const [label, seg] of Object.entries(goldenSegments())) {
    const s = await sealSegment({ device: DEVICE, kind: seg.kind, events: seg.events }, recipient);
    const enc = encodeSegment({ device: DEVICE, kind: seg.kind, events: seg.events });
    fs.writeFileSync(join(DIR, `${label}.age`), s.sealed);
    fs.writeFileSync(join(DIR, `${label}.jsonl`), gunzipSync(enc.plain));
    fs.writeFileSync(join(DIR, `${label}.events.json`), JSON.stringify(seg.events, null, 2) + '\n');
    segments[label] = { ...s.entry, file: `${label}.age`, plaintext: `${label}.jsonl`, events: `${label}.events.json` };
    entries.push(s.entry);
  }
  const manifest: Manifest = {
    device: DEVICE, name: 'golden-laptop', generation: 7, keyFingerprint: fp, writtenAt: '1764244800000.000003',
    segments: entries, acks: { [PEER]: 41 },
  };
  const auth = await identity.manifestAuth();
  fs.writeFileSync(join(DIR, 'manifest.age'), await sealManifest(manifest, identity));
  fs.writeFileSync(join(DIR, 'manifest.json'), gunzipSync(encodeManifest(manifest, auth)));
  fs.writeFileSync(join(DIR, 'key.json'), encodeKeyJson({ created: '2026-11-27T00:00:00.000Z', fingerprint: fp }));

  // Corrupted copies, each with the error it must produce. Most are checked against an entry
  // restating their size and name (as a forged manifest would), so the check under test is reached.
  const seg = read('segment.age');
  const entry = strip(segments.segment);
  const events = goldenSegments().segment.events;
  const corrupt: CorruptVector[] = [];
  const put = (file: string, bytes: Uint8Array, v: Omit<CorruptVector, 'file'>) => {
    fs.writeFileSync(join(DIR, 'corrupt', file), bytes);
    corrupt.push({ file: `corrupt/${file}`, ...v });
  };
  const reach = (bytes: Uint8Array, over: Partial<ManifestSegment> = {}): ManifestSegment => ({ ...entry, bytes: bytes.length, name: sha256Hex(bytes), ...over });
  const payloadStart = seg.indexOf('\n---') + 1;
  const macEnd = seg.indexOf('\n', payloadStart) + 1;
  const flipped = Buffer.from(seg);
  flipped[macEnd + 30] ^= 0x04;
  put('segment-flipped-payload.age', flipped, { as: 'segment', entry, code: 'INTEGRITY', match: 'SHA-256 is not its name', why: 'one payload bit flipped; caught by name = SHA-256 of the sealed bytes' });
  put('segment-flipped-payload-renamed.age', flipped, { as: 'segment', entry: reach(flipped), code: 'INTEGRITY', match: 'payload authentication failed', why: 'one payload bit flipped, name restated: age catches it' });
  const mac = Buffer.from(seg);
  mac[payloadStart + 10] = mac[payloadStart + 10] === 0x41 ? 0x42 : 0x41;
  put('segment-flipped-mac.age', mac, { as: 'segment', entry: reach(mac), code: 'INTEGRITY', match: 'header authentication failed', why: 'header MAC altered' });
  const truncated = seg.subarray(0, seg.length - 17);
  put('segment-truncated.age', truncated, { as: 'segment', entry: reach(truncated), code: 'INTEGRITY', match: 'payload authentication failed', why: 'last 17 bytes cut, size and name restated: age catches it' });
  put('segment-short.age', truncated, { as: 'segment', entry, code: 'INTEGRITY', match: 'its size is', why: 'truncated; caught by the manifest size before decrypting' });
  const otherKey = await seal(encodeSegment({ device: DEVICE, kind: 'segment', events }).plain, await recipientOf(await generateIdentity()));
  put('segment-other-key.age', otherKey, { as: 'segment', entry: reach(otherKey), code: 'KEY', match: 'different key', why: 'sealed to a key that is not the golden identity' });
  const swapped = await sealSegment({ device: PEER, kind: 'segment', events }, recipient);
  put('segment-other-device.age', swapped.sealed, { as: 'segment', entry: reach(swapped.sealed, { sha256: swapped.entry.sha256 }), code: 'INTEGRITY', match: 'header says device', why: "a valid segment of another device put in this one's place" });
  const asSnapshot = await sealSegment({ device: DEVICE, kind: 'snapshot', events }, recipient);
  put('segment-wrong-kind.age', asSnapshot.sealed, { as: 'segment', entry: reach(asSnapshot.sealed, { sha256: asSnapshot.entry.sha256 }), code: 'INTEGRITY', match: 'header says kind', why: 'a snapshot where the manifest lists a segment' });
  const replaced = await sealSegment({ device: DEVICE, kind: 'segment', events: events.slice(0, 4) }, recipient);
  put('segment-replaced.age', replaced.sealed, { as: 'segment', entry: reach(replaced.sealed), code: 'INTEGRITY', match: 'content hash does not match', why: 'a different valid segment of this device under a restated name' });
  const notGzip = await seal(asPlain(read('segment.jsonl')), recipient);
  put('segment-not-gzip.age', notGzip, { as: 'segment', entry: reach(notGzip), code: 'INTEGRITY', match: 'not a valid gzip stream', why: 'JSONL sealed without compression' });
  const badGz = await seal(asPlain(Buffer.from(encodeSegment({ device: DEVICE, kind: 'segment', events }).plain).subarray(0, 60)), recipient);
  put('segment-truncated-gzip.age', badGz, { as: 'segment', entry: reach(badGz), code: 'INTEGRITY', match: 'truncated gzip stream', why: 'gzip cut short before sealing' });
  const unencrypted = encodeSegment({ device: DEVICE, kind: 'segment', events }).plain;
  put('segment-unencrypted.age', unencrypted, { as: 'segment', entry: reach(unencrypted), code: 'INTEGRITY', match: 'not an age v1 file', why: 'plain gzip uploaded as if sealed' });
  const man = read('manifest.age');
  const manFlip = Buffer.from(man);
  manFlip[manFlip.length - 5] ^= 0x80;
  put('manifest-flipped.age', manFlip, { as: 'manifest', code: 'INTEGRITY', match: 'payload authentication failed', why: 'one payload bit flipped' });
  put('manifest-truncated.age', man.subarray(0, man.length - 1), { as: 'manifest', code: 'INTEGRITY', match: 'payload authentication failed', why: 'last byte cut' });
  const peerManifest = await sealManifest({ ...manifest, device: PEER, acks: { [DEVICE]: 3 } }, identity);
  put('manifest-other-device.age', peerManifest, { as: 'manifest', code: 'INTEGRITY', match: 'says device', why: "another device's valid manifest put in this one's place" });
  const wrongFp = await sealManifest({ ...manifest, keyFingerprint: sha256Hex('another key') }, identity);
  put('manifest-other-fingerprint.age', wrongFp, { as: 'manifest', code: 'INTEGRITY', match: 'different key fingerprint', why: 'names a fingerprint other than key.json' });
  const manOtherKey = await sealManifest(manifest, await generateIdentity());
  put('manifest-other-key.age', manOtherKey, { as: 'manifest', code: 'KEY', match: 'different key', why: 'sealed to another key' });
  // What someone who knows only the recipient can make: well-formed, sealed to us, and refused.
  const signed = JSON.parse(read('manifest.json').toString('utf8')) as Record<string, unknown>;
  const edited = await seal(asPlain(gzipSync(JSON.stringify({ ...signed, generation: 8, acks: { [PEER]: 99 } }))), recipient);
  put('manifest-edited-resealed.age', edited, { as: 'manifest', code: 'INTEGRITY', match: 'MAC does not match', why: 'the plaintext edited (generation, acks) and sealed again to the recipient, auth kept' });
  const otherAuth = await seal(encodeManifest(manifest, await (await generateIdentity()).manifestAuth()), recipient);
  put('manifest-other-auth-key.age', otherAuth, { as: 'manifest', code: 'INTEGRITY', match: 'another key id', why: 'authenticated with another identity’s key, sealed to the recipient' });

  const vectors: Vectors = {
    note: `TEST ONLY. Golden vectors for stackunderflow sync ${CURRENT}; identity.txt is a public test key. Regenerate: STACKUNDERFLOW_REGEN_GOLDEN=1 npx vitest run test/sync/golden.test.ts`,
    device: DEVICE,
    fingerprint: fp,
    segments,
    manifest: { file: 'manifest.age', plaintext: 'manifest.json' },
    keyJson: 'key.json',
    corrupt,
  };
  fs.writeFileSync(join(DIR, 'vectors.json'), JSON.stringify(vectors, null, 2) + '\n');
}

function strip(e: ManifestSegment): ManifestSegment {
  return { name: e.name, kind: e.kind, seqFrom: e.seqFrom, seqTo: e.seqTo, count: e.count, bytes: e.bytes, sha256: e.sha256 };
}

// ---------------------------------------------------------------------------------------

for (const version of VERSIONS) describe(`golden vectors ${version}`, () => {
  const current = version === CURRENT;
  const read = (f: string) => readIn(version, f);
  let v: Vectors;
  let identity: Identity;

  beforeAll(async () => {
    if (REGEN && current) await regenerate();
    if (!fs.existsSync(join(ROOT, version, 'vectors.json'))) {
      throw new Error('golden vectors missing: run STACKUNDERFLOW_REGEN_GOLDEN=1 npx vitest run test/sync/golden.test.ts');
    }
    v = JSON.parse(read('vectors.json').toString('utf8')) as Vectors;
    identity = await parseIdentityText(read('identity.txt').toString('utf8'), 'golden identity');
  });

  it('the committed identity is the test one, marked as such', async () => {
    const text = read('identity.txt').toString('utf8');
    expect(text).toMatch(/^# TEST ONLY/);
    expect(text).toContain(`# fingerprint: ${v.fingerprint}\n`);
    expect(fingerprint(await recipientOf(identity))).toBe(v.fingerprint);
    // The recipient is never written down, not even beside the key (it would let anyone forge segments).
    expect(text).not.toContain(await recipientOf(identity));
    expect(read('vectors.json').toString('utf8')).not.toContain(await recipientOf(identity));
  });

  it('key.json decodes and pins its bytes', () => {
    const k = decodeKeyJson(read(v.keyJson));
    expect(k.fingerprint).toBe(v.fingerprint);
    expect(Buffer.from(encodeKeyJson(k)).equals(read(v.keyJson))).toBe(true);
  });

  for (const label of ['snapshot', 'segment'] as const) {
    it(`${label}: decrypts, matches the committed plaintext and hash, decodes to the committed events`, async () => {
      const s = v.segments[label];
      const sealed = asSealed(read(s.file));
      expect(sealed.length).toBe(s.bytes);
      const plain = gunzipSync(await open(sealed, identity));
      expect(plain.equals(read(s.plaintext))).toBe(true);
      expect(sha256Hex(plain)).toBe(s.sha256);
      const events = JSON.parse(read(s.events).toString('utf8')) as SegmentEvent[];
      expect(await openSegment(sealed, identity, v.device, strip(s))).toEqual(events);
      // The current folder's content is what the code still encodes today (field names, order, header).
      if (current) expect(encodeSegment({ device: v.device, kind: s.kind, events }).sha256).toBe(s.sha256);
      else expect(encodeSegment({ device: v.device, kind: s.kind, events }).sha256).not.toBe(s.sha256);
      expect(events).toEqual(goldenSegments()[label].events);
    });
  }

  it('pins the segment line layout', () => {
    const lines = read(v.segments.segment.plaintext).toString('utf8').split('\n');
    const format = version === 'v1' ? 1 : 2;
    expect(lines[0]).toBe(`{"count":5,"device":"${v.device}","format":${format},"kind":"segment","seqFrom":5,"seqTo":12}`);
    // Format 1 carried the uid after writtenAt; format 2 leaves it out (the reader derives it).
    const uid = format === 1 ? [eventUid('codex', CODEX, 'd:0f1e2d3c4b5a69788796a5b4c3d2e1f0')] : [];
    expect(JSON.parse(lines[3])).toEqual([
      7, '1763629300002.000000', ...uid, 'codex', '-home-dev-api', '/home/dev/api', CODEX,
      'd:0f1e2d3c4b5a69788796a5b4c3d2e1f0', '2026-11-20T10:00:00.500Z', 'usage', 'gpt-5-codex', false, null, `codex:${CODEX}:1`,
      [9000, 1200, 0, 4000, 800, 14200], null, null,
    ]);
    expect(lines.at(-1)).toBe('');
  });

  it('manifest: decrypts, matches the committed JSON, lists the committed segments', async () => {
    const sealed = asSealed(read(v.manifest.file));
    const m = await openManifest(sealed, identity, { device: v.device, keyFingerprint: v.fingerprint });
    expect(gunzipSync(await open(sealed, identity)).equals(read(v.manifest.plaintext))).toBe(true);
    expect(m).toMatchObject({ device: v.device, name: 'golden-laptop', generation: 7, keyFingerprint: v.fingerprint, writtenAt: '1764244800000.000003', acks: { [PEER]: 41 } });
    expect(m.segments).toEqual([strip(v.segments.snapshot), strip(v.segments.segment)]);
    const keys = ['acks', 'device', 'format', 'generation', 'keyFingerprint', 'kind', 'name', 'segments', 'writtenAt'];
    if (!current) {
      // Written before manifests were authenticated: decodes, flagged, and pulls land nothing new from it.
      expect(m.unauthenticated).toBe(true);
      expect(Object.keys(JSON.parse(read(v.manifest.plaintext).toString('utf8')))).toEqual(keys);
      return;
    }
    expect(m.unauthenticated).toBeUndefined();
    expect(Object.keys(JSON.parse(read(v.manifest.plaintext).toString('utf8')))).toEqual([...keys, 'auth'].sort());
    // Re-encoding gives the committed plaintext byte for byte (HMAC included: it is deterministic).
    expect(gunzipSync(encodeManifest(m, await identity.manifestAuth())).equals(read(v.manifest.plaintext))).toBe(true);
    // And the committed plaintext, recompressed by any gzip, decodes.
    expect(decodeManifest(gzipSync(read(v.manifest.plaintext), { level: 9 }), { device: v.device, keyFingerprint: v.fingerprint, auth: await identity.manifestAuth() })).toEqual(m);
  });

  it('every corrupted copy fails with its documented error', async () => {
    expect(v.corrupt.length).toBeGreaterThanOrEqual(10);
    for (const c of v.corrupt) {
      const sealed = asSealed(read(c.file));
      let err: unknown;
      try {
        if (c.as === 'segment') await openSegment(sealed, identity, c.device ?? v.device, c.entry!);
        else await openManifest(sealed, identity, { device: c.device ?? v.device, keyFingerprint: v.fingerprint });
      } catch (e) {
        err = e;
      }
      expect(err, c.file).toBeInstanceOf(SuError);
      expect((err as SuError).code, `${c.file}: ${(err as Error).message}`).toBe(c.code);
      expect((err as SuError).message, c.file).toMatch(new RegExp(c.match));
      expect((err as SuError).message, c.file).not.toContain(identity.revealSecret());
    }
  });

  it('decodeSegment alone catches a plaintext that differs from the manifest', () => {
    const s = v.segments.segment;
    const gz = gzipSync(read(s.plaintext).toString('utf8').replace('Parser test fixed', 'Parser test broken'));
    expect(() => decodeSegment(gz, { ...strip(s), device: v.device })).toThrow(/content hash/);
  });
});
