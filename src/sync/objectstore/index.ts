import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SuError } from '../../errors.js';
import { FileObjectStore } from './file.js';
import type { S3StoreOptions } from './s3.js';
import { ConditionalWritesUnsupported, type ObjectStore } from './types.js';

export { ObjectNotFound, isNotFound, normalizeEtag } from './types.js';
export type { ObjectInfo, ObjectStore, PutOptions } from './types.js';

/** Options for {@link openObjectStore}; all but `conditionalWrites` apply to `s3://` only. */
export type OpenOptions = Omit<S3StoreOptions, 'bucket' | 'prefix'>;

const usageHint = 'use --bucket s3://bucket[/prefix] or --bucket file:///absolute/dir';

/**
 * Opens the store behind a bucket URL: `s3://bucket[/prefix]` or `file:///abs/dir`.
 * Nothing is contacted until a method is called; call `init()` first.
 * The S3 SDK is loaded only when an `s3://` URL is opened.
 * Throws `SuError('USAGE')` for malformed URLs, and never echoes credentials put into one.
 */
export async function openObjectStore(url: string, opts: OpenOptions = {}): Promise<ObjectStore> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SuError('USAGE', 'invalid bucket URL', { hint: usageHint });
  }
  if (u.username || u.password) {
    throw new SuError('USAGE', 'the bucket URL must not contain credentials', {
      hint: 'use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile instead',
    });
  }
  if (u.protocol === 'file:') {
    if (opts.endpoint || opts.profile || opts.credentials) {
      throw new SuError('USAGE', '--endpoint, --profile and credentials apply to s3:// buckets only', { hint: usageHint });
    }
    if (u.host !== '' && u.host !== 'localhost') {
      throw new SuError('USAGE', `file URLs must be local (file:///abs/dir), got host ${u.host}`, { hint: usageHint });
    }
    if (u.search || u.hash) throw new SuError('USAGE', 'file URLs take no query or fragment', { hint: usageHint });
    const dir = fileURLToPath(u);
    if (!isAbsolute(dir)) throw new SuError('USAGE', 'file URLs need an absolute directory', { hint: usageHint });
    return new FileObjectStore(dir);
  }
  if (u.protocol === 's3:') {
    const bucket = u.hostname;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || u.port) {
      throw new SuError('USAGE', `invalid bucket name ${JSON.stringify(u.host)} (S3 names: 3-63 of a-z 0-9 . -)`, { hint: usageHint });
    }
    if (u.search || u.hash) throw new SuError('USAGE', 's3 URLs take no query or fragment', { hint: usageHint });
    // URL parsing silently resolves `..`; a prefix is a name, not a path, so refuse it instead.
    const rawSegments = url.replace(/^s3:\/\/[^/]*/i, '').split('/').map((s) => s.toLowerCase().replace(/%2e/g, '.'));
    if (rawSegments.some((s) => s === '.' || s === '..')) {
      throw new SuError('USAGE', 'the prefix in a bucket URL must not contain . or .. segments', { hint: usageHint });
    }
    let prefix = decodeURIComponent(u.pathname).replace(/^\/+/, '');
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    if (prefix.split('/').slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) {
      throw new SuError('USAGE', `invalid prefix in bucket URL: ${JSON.stringify(prefix)}`, { hint: usageHint });
    }
    if (opts.endpoint) checkEndpoint(opts.endpoint);
    // Loaded lazily so that commands which never sync never pay for the SDK.
    const { S3ObjectStore } = await import('./s3.js');
    return new S3ObjectStore({ ...opts, bucket, prefix });
  }
  throw new SuError('USAGE', `unsupported bucket URL scheme ${u.protocol}`, { hint: usageHint });
}

function checkEndpoint(endpoint: string): void {
  let e: URL;
  try {
    e = new URL(endpoint);
  } catch {
    throw new SuError('USAGE', 'invalid --endpoint URL', { hint: 'e.g. --endpoint https://<account>.r2.cloudflarestorage.com' });
  }
  if (e.protocol !== 'http:' && e.protocol !== 'https:') {
    throw new SuError('USAGE', `--endpoint must be http(s), got ${e.protocol}`);
  }
  if (e.username || e.password) {
    throw new SuError('USAGE', '--endpoint must not contain credentials', {
      hint: 'use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile instead',
    });
  }
}

/**
 * Finds out whether the store really enforces conditional writes (some S3-compatible
 * servers accept `If-None-Match` / `If-Match` and ignore them). Writes a scratch object
 * under `key` with `If-None-Match: *` twice, then with a stale `If-Match`; true only if
 * both the second create and the stale update were refused. Deletes the scratch object.
 * Network and credential errors propagate.
 */
export async function probeConditionalWrites(store: ObjectStore, key = `_probe/${randomBytes(8).toString('hex')}`): Promise<boolean> {
  try {
    let first;
    try {
      first = await store.put(key, new TextEncoder().encode('probe 1'), { ifNoneMatch: '*' });
    } catch (err) {
      if (!(err instanceof ConditionalWritesUnsupported)) throw err;
      // Writable without conditions? A plain put answers that (and errors the usual way if not).
      await store.put(key, new TextEncoder().encode('probe 1'));
      return false;
    }
    const refused = async (p: Promise<unknown>) =>
      p.then(
        () => false,
        (err) => {
          if (err instanceof SuError && err.code === 'CONFLICT') return true;
          throw err;
        },
      );
    const createRefused = await refused(store.put(key, new TextEncoder().encode('probe 2'), { ifNoneMatch: '*' }));
    if (!createRefused) return false;
    const stale = first.etag.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    return await refused(store.put(key, new TextEncoder().encode('probe 3'), { ifMatch: stale }));
  } finally {
    // Best effort: an error here would hide the one that got us into `finally`.
    await store.delete([key]).catch(() => undefined);
  }
}
