/**
 * Interop with the stock tools: the user's recovery path is `age -d -i identity.txt
 * f.age | gunzip`, and files encrypted by the age CLI must open with our module.
 * Needs Debian's `age` (1.1.x) and `gunzip` on PATH; CI installs them. A missing `age`
 * fails the test instead of skipping it, since a skipped interop test proves nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SuError } from '../../src/errors.js';
import { decodeManifest, decodeSegment, encodeManifest, encodeSegment, sealManifest, sealSegment, type Manifest } from '../../src/sync/codec.js';
import { asSealed, fingerprint, generateIdentity, open, recipientOf } from '../../src/sync/crypto.js';
import { identityPath, readIdentityFile, writeIdentityFile } from '../../src/sync/keys.js';
import { prng, randomSegmentEvents } from '../helpers/sync-events.js';

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/sync/golden/v1');
const DEV = 'aaaabbbbccccdddd';

/** Runs a stock tool; returns stdout bytes. Throws with its stderr when it fails. */
function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** The documented recovery recipe, as two processes joined by a pipe. */
function ageDecryptGunzip(identityFile: string, file: string): Buffer {
  return run('gunzip', ['-c'], run('age', ['-d', '-i', identityFile, file]));
}

describe('interop with the age CLI and gunzip', () => {
  let tmp: string;

  beforeAll(() => {
    try {
      const v = execFileSync('age', ['--version'], { encoding: 'utf8' }).trim();
      execFileSync('gunzip', ['--version'], { stdio: 'ignore' });
      console.log(`interop: age ${v}`);
    } catch (err) {
      throw new Error(
        'the `age` CLI (or gunzip) is not installed, and the interop test needs it: run `apt-get install -y age` ' +
          '(Debian/Ubuntu) or `brew install age`. ' + String((err as Error).message),
        { cause: err },
      );
    }
    tmp = fs.mkdtempSync(join(os.tmpdir(), 'su-age-'));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the committed golden segment, snapshot and manifest decrypt with `age -d | gunzip` to the expected plaintext', () => {
    const id = join(GOLDEN, 'identity.txt');
    for (const name of ['segment', 'snapshot']) {
      expect(ageDecryptGunzip(id, join(GOLDEN, `${name}.age`)).equals(fs.readFileSync(join(GOLDEN, `${name}.jsonl`))), name).toBe(true);
    }
    expect(ageDecryptGunzip(id, join(GOLDEN, 'manifest.age')).equals(fs.readFileSync(join(GOLDEN, 'manifest.json')))).toBe(true);
  });

  it('a freshly sealed segment and manifest, with a key file we wrote, decrypt with the stock tools', async () => {
    const identity = await generateIdentity();
    const recipient = await recipientOf(identity);
    const env = { STACKUNDERFLOW_HOME: tmp };
    await writeIdentityFile(identityPath(env), identity, { created: new Date('2026-11-27T00:00:00Z') });

    const events = randomSegmentEvents(prng(42), 500);
    const seg = await sealSegment({ device: DEV, kind: 'segment', events }, recipient);
    const segFile = join(tmp, 'seg.age');
    fs.writeFileSync(segFile, seg.sealed);
    const jsonl = ageDecryptGunzip(identityPath(env), segFile);
    expect(jsonl.equals(gunzipSync(encodeSegment({ device: DEV, kind: 'segment', events }).plain))).toBe(true);
    // What the CLI recovered is the exact plaintext the manifest vouches for.
    expect(decodeSegment(run('gzip', ['-c'], jsonl), { ...seg.entry, device: DEV })).toEqual(events);

    const m: Manifest = {
      device: DEV, name: 'interop', generation: 1, keyFingerprint: fingerprint(recipient), writtenAt: '1764201600000.000000',
      segments: [seg.entry], acks: {},
    };
    const manFile = join(tmp, 'manifest.age');
    fs.writeFileSync(manFile, await sealManifest(m, identity));
    const manJson = ageDecryptGunzip(identityPath(env), manFile);
    expect(manJson.equals(gunzipSync(encodeManifest(m, await identity.manifestAuth())))).toBe(true);
    expect(JSON.parse(manJson.toString('utf8')).segments[0].sha256).toBe(seg.entry.sha256);
    expect(decodeManifest(run('gzip', ['-c'], manJson), { device: DEV, keyFingerprint: fingerprint(recipient), auth: await identity.manifestAuth() })).toEqual(m);
  });

  it('files encrypted by `age -r` open with our module and decode', async () => {
    const identity = await readIdentityFile(await (async () => {
      const p = join(tmp, 'k2', 'identity.txt');
      await writeIdentityFile(p, await generateIdentity(), { created: new Date(0) });
      return p;
    })());
    const recipient = await recipientOf(identity);
    const events = randomSegmentEvents(prng(7), 300);
    const enc = encodeSegment({ device: DEV, kind: 'snapshot', events });
    const gzFile = join(tmp, 'cli-in.gz');
    fs.writeFileSync(gzFile, enc.plain);
    const sealed = asSealed(run('age', ['-r', recipient, gzFile]));
    const plain = await open(sealed, identity);
    expect(Buffer.from(plain).equals(Buffer.from(enc.plain))).toBe(true);
    expect(decodeSegment(plain, { device: DEV, kind: 'snapshot', seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, sha256: enc.sha256 })).toEqual(events);

    // A file gzipped by the stock gzip (different compressor, same content) decodes too.
    const stockGz = run('gzip', ['-9', '-c'], gunzipSync(enc.plain));
    const sealed2 = asSealed(run('age', ['-r', recipient], stockGz));
    expect(decodeSegment(await open(sealed2, identity), { device: DEV, kind: 'snapshot', seqFrom: enc.seqFrom, seqTo: enc.seqTo, count: enc.count, sha256: enc.sha256 })).toEqual(events);

    // A large stream (several STREAM chunks), armored off, byte-identical both ways.
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    const r = prng(1);
    for (let i = 0; i < big.length; i++) big[i] = (r() * 256) | 0;
    const bigSealed = asSealed(run('age', ['-r', recipient], big));
    expect(Buffer.from(await open(bigSealed, identity)).equals(big)).toBe(true);

    // The CLI's output for another recipient is a KEY error here, as with our own files.
    const stranger = await recipientOf(await generateIdentity());
    const foreign = asSealed(run('age', ['-r', stranger], Buffer.from('x')));
    await expect(open(foreign, identity)).rejects.toSatisfy((e: unknown) => e instanceof SuError && e.code === 'KEY');
  });

  it('the CLI refuses a tampered golden segment too (same integrity story for the user)', () => {
    const r = spawnSync('age', ['-d', '-i', join(GOLDEN, 'identity.txt'), join(GOLDEN, 'corrupt', 'segment-flipped-payload.age')]);
    expect(r.status).not.toBe(0);
  });
});
