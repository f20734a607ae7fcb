import { SuError, messageOf } from '../errors.js';
import { MAX_SEALED_MANIFEST_BYTES, openManifest, openSegment } from './codec.js';
import { asSealed } from './crypto.js';
import type { SyncContext } from './context.js';
import { devicePrefix, manifestKey, segmentKey } from './layout.js';
import { listDevices } from './pull.js';
import { readPeer } from './state.js';

export interface DeviceVerification {
  device: string;
  name: string | null;
  generation: number | null;
  segments: number;
  events: number;
  bytes: number;
  ok: boolean;
  errors: Array<{ object: string; code: string; message: string }>;
}

/**
 * The rule pull applies (spec §8.1): a manifest our key cannot open, from a device we never
 * landed anything from, is a stranger's folder (another setup's device in a shared bucket, or a
 * plant). That is a finding about the bucket, not a sign that our key is wrong, so it is not
 * KEY (exit 2, which sends the user to re-key a device whose key is right) but INTEGRITY.
 */
function stranger(ctx: SyncContext, device: string, err: unknown): SuError | null {
  if (!(err instanceof SuError) || err.code !== 'KEY' || device === ctx.deviceId) return null;
  if ((readPeer(ctx.db, device)?.cursor_seq ?? 0) > 0) return null;
  return new SuError(
    'INTEGRITY',
    `the manifest of device ${device} is sealed to a key that is not this bucket's, and this device never merged anything from it: ` +
      'it is not one of this bucket\'s devices (one set up with another key writing to the same bucket, or a plant). Pulls refuse it; nothing from it was merged. ' +
      `Nothing to fix on this device: if that device is yours, set it up again with this bucket's key (\`sync init --force\` there); if not, check who can write to the bucket and delete ${devicePrefix(device)}`,
    { cause: err },
  );
}

/**
 * `sync verify`: download, decrypt and hash-check every object any manifest lists, for
 * every device (ours included). Reads only; reports per device, never stops at the first bad object.
 */
export async function verify(ctx: SyncContext): Promise<{ devices: DeviceVerification[]; ok: boolean }> {
  const devices: DeviceVerification[] = [];
  const ids = await listDevices(ctx);
  let done = 0;
  for (const device of ids) {
    const v: DeviceVerification = { device, name: null, generation: null, segments: 0, events: 0, bytes: 0, ok: true, errors: [] };
    devices.push(v);
    const fail = (object: string, err: unknown) => {
      v.ok = false;
      v.errors.push({ object, code: err instanceof SuError ? err.code : 'INTERNAL', message: messageOf(err) });
    };
    let manifest;
    try {
      const got = await ctx.store.get(manifestKey(device), { maxBytes: MAX_SEALED_MANIFEST_BYTES });
      manifest = await openManifest(asSealed(got.body), ctx.identity, { device, keyFingerprint: ctx.fingerprint, object: manifestKey(device) });
      v.name = manifest.name || null;
      v.generation = manifest.generation;
      v.bytes += got.body.length;
      if (manifest.unauthenticated) {
        throw new SuError('INTEGRITY', `${manifestKey(device)} carries no authentication (written before manifests were authenticated, or forged by someone who knows the public recipient)`, {
          hint: 'upgrade stackunderflow on that device and run `stackunderflow sync push` there',
        });
      }
      // The replay guard pull applies: older than a generation this device merged (a peer) or wrote (ours).
      const seen = device === ctx.deviceId ? Number(ctx.settings.generation ?? 0) : (readPeer(ctx.db, device)?.generation ?? 0);
      if (manifest.generation < seen) {
        throw new SuError('INTEGRITY', `${manifestKey(device)} has generation ${manifest.generation}, older than generation ${seen} this device already ${device === ctx.deviceId ? 'wrote' : 'merged'} (replayed or rolled back)`, {
          hint: device === ctx.deviceId ? 'the next `stackunderflow sync push` overwrites it' : 'pulls refuse it; check who can write to the bucket',
        });
      }
    } catch (err) {
      fail(manifestKey(device), stranger(ctx, device, err) ?? err);
      continue;
    }
    for (const seg of manifest.segments) {
      const key = segmentKey(device, seg.name);
      try {
        const obj = await ctx.store.get(key, { maxBytes: seg.bytes });
        const events = await openSegment(asSealed(obj.body), ctx.identity, device, seg, key);
        v.segments++;
        v.events += events.length;
        v.bytes += obj.body.length;
      } catch (err) {
        fail(key, err);
      }
      ctx.onProgress?.({ phase: 'verify', done: ++done, total: 0, bytes: seg.bytes, peer: device });
    }
  }
  return { devices, ok: devices.every((d) => d.ok) };
}
