/**
 * The continuous loop names refused devices the way a one-shot `sync pull` does (spec §8.1
 * "Refused"): on every pull that refuses one, a `WARNING: device <name> (<id>): <why>` line in
 * its log, while the good peer still lands and the loop does not back off. Two plants in a
 * `file://` bucket: a device folder sealed to another key, and one sealed to our recipient with
 * another key's MAC. Nothing secret reaches the log.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { runLockedLoop } from '../../../src/sync/host.js';
import type { ActionReport } from '../../../src/sync/loop.js';
import { asSealed, fingerprint, Identity, seal, type Recipient } from '../../../src/sync/crypto.js';
import { encodeManifest, openManifest } from '../../../src/sync/codec.js';
import { devicePrefix, manifestKey } from '../../../src/sync/layout.js';
import { appendClaude, eventKeys, until } from './helpers.js';

/** A valid key of no bucket here (the golden-vector identity). */
const otherSecret = readFileSync(new URL('../../fixtures/sync/golden/v1/identity.txt', import.meta.url), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;

const FOREIGN = 'eeeeeeeeeeeeeeee';
const FORGED = 'ffffffffffffffff';

describe('refused devices in the continuous loop', () => {
  const a = new Device('a');
  const b = new Device('b');
  const bucket = fileBucket();
  let key: string;

  /** Runs b's loop until it has done `pulls` pulls; returns its log lines and pull reports. */
  async function loopOnB(pulls: number): Promise<{ log: string[]; pulls: ActionReport[] }> {
    const log: string[] = [];
    const actions: ActionReport[] = [];
    const r = await runLockedLoop({
      env: b.env,
      mode: 'daemon',
      overrides: { pullInterval: 0.3, pullActiveInterval: 0.3, pushQuiet: 0.2, pushMaxWait: 1, backoffMin: 0.2, backoffMax: 1 },
      log: (l) => void log.push(l),
      onAction: (x) => void actions.push(x),
    });
    if ('holder' in r) throw new Error('lock held');
    try {
      await until(() => actions.filter((x) => x.action === 'pull').length >= pulls, 20_000, `${pulls} pulls`);
    } finally {
      await r.loop.stop();
      await r.finished;
    }
    return { log, pulls: actions.filter((x) => x.action === 'pull') };
  }

  beforeAll(async () => {
    key = await setupSync(['--bucket', bucket.url], a, b);
    appendClaude(a, { n: 3 });
    await a.ingest();
    await a.ok(['sync', 'push']);
    const ours = await Identity.parse(key);
    const other = await Identity.parse(otherSecret);
    const fp = fingerprint(await ours.recipient());
    const real = await openManifest(asSealed(readFileSync(join(bucket.dir, manifestKey(a.id)))), ours, { device: a.id, keyFingerprint: fp });
    const plant = async (device: string, sealTo: Recipient) => {
      // MAC'd with the other key: the one sealed to our recipient opens, and fails authentication.
      const m = encodeManifest({ device, name: '', generation: 1, keyFingerprint: fp, writtenAt: real.writtenAt, segments: [], acks: {} }, await other.manifestAuth());
      mkdirSync(join(bucket.dir, devicePrefix(device)), { recursive: true });
      writeFileSync(join(bucket.dir, manifestKey(device)), await seal(m, sealTo));
    };
    await plant(FOREIGN, await other.recipient());
    await plant(FORGED, await ours.recipient());
  });

  it('warns naming each refused device once, lands the good peer, and the pulls succeed', async () => {
    const { log, pulls } = await loopOnB(3);
    expect(pulls.length).toBeGreaterThanOrEqual(3);
    expect(eventKeys(b, a.id)).toHaveLength(3);
    const warnings = (id: string) => log.filter((l) => l.includes(`pull: WARNING: device ? (${id}): `));
    // Once each, not on every pull: an idle loop must not grow its log by a line a minute. Every
    // pull's report still names them.
    expect(warnings(FOREIGN)).toHaveLength(1);
    expect(warnings(FORGED)).toHaveLength(1);
    expect(warnings(FOREIGN)[0]).toMatch(/sealed to a key that is not this bucket's; nothing from it was merged/);
    expect(warnings(FORGED)[0]).toMatch(/not authenticated by this bucket's key/);
    for (const p of pulls) {
      expect(p.ok, p.detail).toBe(true);
      expect(p.detail).toContain(`refused, nothing merged: ? (${FOREIGN}), ? (${FORGED})`);
    }
    // Not a pull failure, and no re-key hint: this device's key is right.
    expect(log.join('\n')).not.toMatch(/pull failed|key export|different key than this device/);
    // Nothing secret: neither key, nor our recipient.
    const recipient = await (await Identity.parse(key)).recipient();
    for (const secret of [key, otherSecret, recipient]) expect(log.join('\n')).not.toContain(secret);
    expect((await b.json(['sync', 'status'])).refused.map((r: { id: string }) => r.id).sort()).toEqual([FOREIGN, FORGED]);
  });

  it('says nothing once the refused folders are gone', async () => {
    for (const id of [FOREIGN, FORGED]) rmSync(join(bucket.dir, devicePrefix(id)), { recursive: true });
    const { log, pulls } = await loopOnB(2);
    expect(log.filter((l) => l.includes('WARNING'))).toEqual([]);
    for (const p of pulls) expect(p.detail).not.toContain('refused');
  });
});
