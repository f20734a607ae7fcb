import { hostname } from 'node:os';
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { ensureDeviceId, getMeta, setMeta } from '../store/db.js';
import { randomBytes } from 'node:crypto';
import { SuError, messageOf } from '../errors.js';
import type { Clock } from '../model/clock.js';
import { systemClock } from '../model/clock.js';
import { asSealed, fingerprint, generateIdentity, type Identity } from './crypto.js';
import { decodeKeyJson, encodeKeyJson, MAX_SEALED_MANIFEST_BYTES, openManifest } from './codec.js';
import { DEFAULT_KEY_ENV, identityPath, readIdentityFile, resolveIdentity, writeIdentityFile } from './keys.js';
import { devicesPrefix, keyJsonKey, manifestKey, parseDeviceKey } from './layout.js';
import { isNotFound, openObjectStore, probeConditionalWrites, type ObjectStore } from './objectstore/index.js';
import { readSyncState } from './state.js';
import { BUCKET_BOUND_KEYS, clearSettings, readSettings, writeSettings } from './settings.js';

export interface InitOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  keyFromEnv?: string;
  deviceName?: string;
  force?: boolean;
  /**
   * Give this store a new device id (its own events move to it) and push everything again
   * under it. For a copied or restored store that would otherwise write into another
   * store's folder; the old folder stays in the bucket as a silent peer.
   */
  newDeviceId?: boolean;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Injected object store (tests); default: opened from `bucket`. */
  store?: ObjectStore;
}

export interface InitResult {
  deviceId: string;
  deviceName: string;
  bucket: string;
  fingerprint: string;
  /** 'created': first device, new bucket; 'joined': the bucket already had our key. */
  mode: 'created' | 'joined';
  /** Where the key is kept: 'env' (never written by us) or the key file path. */
  keySource: 'env' | 'file';
  keyFile?: string;
  /** Set only when this init generated the key: the caller prints it once. */
  newIdentity?: Identity;
  probe: { reachable: true; writable: true; conditionalWrites: boolean };
  /**
   * A joining device's view of the devices already in the bucket: what its first pull will
   * trust (it has no earlier generation to compare with). Compare with `sync status` on them.
   */
  found: Array<{ device: string; name: string | null; generation: number | null; problem?: string }>;
}

/** Each device manifest in the bucket: name and generation, or why it will not be accepted. */
async function foundDevices(store: ObjectStore, identity: Identity, fp: string): Promise<InitResult['found']> {
  const ids = new Set<string>();
  for await (const o of store.list(devicesPrefix())) {
    const parsed = parseDeviceKey(o.key);
    if (parsed?.type === 'manifest') ids.add(parsed.deviceId);
  }
  const found: InitResult['found'] = [];
  for (const device of [...ids].sort()) {
    try {
      const got = await store.get(manifestKey(device), { maxBytes: MAX_SEALED_MANIFEST_BYTES });
      const m = await openManifest(asSealed(got.body), identity, { device, keyFingerprint: fp, object: manifestKey(device) });
      found.push({ device, name: m.name || null, generation: m.generation, ...(m.unauthenticated ? { problem: 'no authentication (older stackunderflow, or forged): not accepted until it is rewritten' } : {}) });
    } catch (err) {
      found.push({ device, name: null, generation: null, problem: messageOf(err) });
    }
  }
  return found;
}

async function readBucketKey(store: ObjectStore) {
  try {
    return decodeKeyJson((await store.get(keyJsonKey())).body);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * `sync init`: first device (bucket without key.json: generate or take the key, publish
 * its fingerprint) or joining device (bucket has key.json: the key from the environment or
 * key file must match it). Every check that can refuse happens before anything is written,
 * locally or remotely.
 */
export async function initSync(db: Db, opts: InitOptions): Promise<InitResult> {
  const env = opts.env ?? process.env;
  const clock = opts.clock ?? systemClock;
  const keyFromEnv = opts.keyFromEnv ?? DEFAULT_KEY_ENV;
  const existing = readSyncState(db);
  const keyFile = identityPath(env);
  const fileExists = existsSync(keyFile);
  const envKeySet = (env[keyFromEnv] ?? '').trim() !== '';

  // The key this run would use: the env var, else (unless --force) the key file, else a new one.
  let candidate = envKeySet
    ? await resolveIdentity({ env, keyFromEnv })
    : fileExists && !opts.force
      ? { identity: await readIdentityFile(keyFile), source: 'file' as const, from: keyFile }
      : null;
  let candidateFp = candidate ? fingerprint(await candidate.identity.recipient()) : null;

  // Refusals come before any network access: re-init must not silently replace a key.
  if (!opts.force) {
    let oldFp = existing?.encryption_key_fingerprint ?? null;
    if (!oldFp && fileExists) {
      try {
        oldFp = fingerprint(await (await readIdentityFile(keyFile)).recipient());
      } catch {
        oldFp = 'unreadable';
      }
    }
    if (oldFp && candidateFp !== oldFp) {
      throw new SuError('CONFIG', `a sync key already exists here (fingerprint ${oldFp}); init would replace it with ${candidateFp ? `another key (fingerprint ${candidateFp})` : 'a new key'}, and this device could no longer read data encrypted with the old one`, {
        hint: 'run `stackunderflow sync key export` first if any bucket still needs it, then rerun with --force',
      });
    }
    if (existing && existing.bucket_url !== opts.bucket) {
      throw new SuError('CONFIG', `this device already syncs with ${existing.bucket_url}; init would switch it to ${opts.bucket}`, {
        hint: 'rerun with --force to switch buckets (events already merged stay in the store)',
      });
    }
  }

  const store = opts.store ?? (await openObjectStore(opts.bucket, { endpoint: opts.endpoint, region: opts.region, profile: opts.profile }));
  await store.init();
  const bucketKey = await readBucketKey(store);

  let identity: Identity;
  let mode: InitResult['mode'];
  let generated = false;
  if (bucketKey && !candidate && opts.force && fileExists) {
    // --force skipped the key file so that init may choose afresh; joining a bucket that the
    // key file already opens is not a replacement, so that key is the one to use.
    const fromFile = await readIdentityFile(keyFile).catch(() => null);
    if (fromFile && fingerprint(await fromFile.recipient()) === bucketKey.fingerprint) {
      candidate = { identity: fromFile, source: 'file' as const, from: keyFile };
      candidateFp = bucketKey.fingerprint;
    }
  }
  if (bucketKey) {
    if (!candidate) {
      throw new SuError('KEY', `the bucket ${store.url} is already set up for sync with key fingerprint ${bucketKey.fingerprint}, and this device has no key`, {
        hint: `run \`stackunderflow sync key export\` on a device that syncs with this bucket, then rerun init with the key in ${keyFromEnv}`,
      });
    }
    if (candidateFp !== bucketKey.fingerprint) {
      throw new SuError('KEY', `this device's key (fingerprint ${candidateFp}) is not the bucket's key (fingerprint ${bucketKey.fingerprint}); nothing was written`, {
        hint: `set ${keyFromEnv} to the key printed by \`stackunderflow sync key export\` on a device that syncs with ${store.url}`,
      });
    }
    identity = candidate.identity;
    mode = 'joined';
  } else {
    identity = candidate?.identity ?? (await generateIdentity());
    generated = !candidate;
    mode = 'created';
  }
  const recipient = await identity.recipient();
  const fp = fingerprint(recipient);

  // Probe before writing anything of ours: reachable and writable, and whether the
  // bucket enforces conditional writes (our manifest writes use them when it does).
  const conditionalWrites = await probeConditionalWrites(store, `stackunderflow/v1/_probe/${ensureDeviceId(db)}-${randomBytes(4).toString('hex')}`);

  // The key file is written before key.json: a crash in between must never leave a bucket
  // that names a key nobody kept.
  const keySource: 'env' | 'file' = candidate?.source === 'env' ? 'env' : 'file';
  let wroteKeyFile = false;
  if (keySource === 'file' && !(candidate?.source === 'file')) {
    if (fileExists) renameSync(keyFile, `${keyFile.replace(/\.txt$/, '')}.${fingerprint(await (await readIdentityFile(keyFile).catch(() => identity)).recipient()).slice(0, 16)}.replaced.txt`);
    await writeIdentityFile(keyFile, identity, { created: new Date(clock.now()), overwrite: false });
    wroteKeyFile = true;
  }

  if (mode === 'created') {
    const created = new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await store.put(keyJsonKey(), encodeKeyJson({ created, fingerprint: fp }), conditionalWrites ? { ifNoneMatch: '*' } : undefined);
    } catch (err) {
      if (wroteKeyFile && generated) rmSync(keyFile, { force: true });
      if (err instanceof SuError && err.code === 'CONFLICT') {
        throw new SuError('CONFLICT', `another device set up ${store.url} at the same moment; nothing was kept here`, {
          hint: "rerun `stackunderflow sync init` with that device's key in STACKUNDERFLOW_SYNC_KEY",
          cause: err,
        });
      }
      throw err;
    }
  }

  let deviceId = ensureDeviceId(db);
  const deviceName = opts.deviceName ?? readSettings(db).deviceName ?? hostname();
  // A re-run with the same bucket and key only refreshes the settings; what was pushed and
  // pulled stays known. Only a new key, bucket or device id makes what we knew of the old setup wrong; --force on
  // the same bucket and key keeps it, or the next push would not recognise its own segments.
  const reset = !!opts.newDeviceId || !existing || existing.bucket_url !== opts.bucket || existing.encryption_key_fingerprint !== fp;
  const rerun = !!existing && !reset;
  db.transaction(() => {
    if (opts.newDeviceId) {
      const old = deviceId;
      deviceId = randomBytes(8).toString('hex');
      // A re-tag changes no bill (the events trigger ignores it); the union's attribution breaks ties by device id, so its rows are re-derived.
      for (const table of ['usage', 'sessions', 'events']) db.prepare(`UPDATE ${table} SET device_id = ? WHERE device_id = ?`).run(deviceId, old);
      if (getMeta(db, 'usage_union') === '1') db.prepare('INSERT INTO union_in(usage_key) SELECT usage_key FROM usage WHERE device_id = ?').run(deviceId);
      setMeta(db, 'device_id', deviceId);
    }
    if (!rerun) {
      db.prepare('DELETE FROM sync_state').run();
      db.prepare(`INSERT INTO sync_state(id, device_id, bucket_url, last_sync_ts, last_sync_event_id, encryption_key_fingerprint, remote_event_id, conflict_count)
        VALUES (1, ?, ?, NULL, 0, ?, 0, 0)`).run(deviceId, opts.bucket, fp);
    }
    if (reset) {
      db.prepare('DELETE FROM sync_peers').run();
      db.prepare('DELETE FROM sync_segments').run();
      db.prepare('DELETE FROM sync_outbox').run();
      // Bookkeeping of the old setup only; the daemon's switches and intervals stay.
      clearSettings(db, BUCKET_BOUND_KEYS);
      for (const t of ['sync_retired', 'sync_peer_acks', 'sync_rejected']) db.prepare(`DELETE FROM ${t}`).run();
    }
    writeSettings(db, {
      endpoint: opts.endpoint,
      region: opts.region,
      profile: opts.profile,
      keyFromEnv: keyFromEnv === DEFAULT_KEY_ENV ? undefined : keyFromEnv,
      deviceName,
      conditionalWrites: conditionalWrites ? 'yes' : 'no',
      ...(rerun ? {} : { generation: '0' }),
    });
  })();

  const found = mode === 'joined' ? (await foundDevices(store, identity, fp)).filter((f) => f.device !== deviceId) : [];
  return {
    found,
    deviceId,
    deviceName,
    bucket: store.url,
    fingerprint: fp,
    mode,
    keySource,
    keyFile: keySource === 'file' ? keyFile : undefined,
    newIdentity: generated ? identity : undefined,
    probe: { reachable: true, writable: true, conditionalWrites },
  };
}
