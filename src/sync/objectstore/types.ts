import { SuError } from '../../errors.js';

/** One stored object as a listing or HEAD sees it. */
export interface ObjectInfo {
  /** Key relative to the store's prefix. */
  key: string;
  size: number;
  /** Normalised ETag: never quoted (see {@link normalizeEtag}). */
  etag: string;
  lastModified?: Date;
}

/** Conditions for a compare-and-swap `put`. At most one of them may be given. */
export interface GetOptions {
  /** Refuse an object larger than this, before downloading it (a manifest's size, or the cap for manifests). */
  maxBytes?: number;
}

/** The error for an object larger than its caller was promised. */
export function tooLarge(key: string, size: number | string, max: number): SuError {
  return new SuError('INTEGRITY', `${key} is ${size} bytes, more than the ${max} it may be: refused before downloading it`, {
    hint: 'someone with write access to the bucket replaced it; nothing was merged from it. Run `stackunderflow sync verify`',
  });
}

export interface PutOptions {
  /** Write only if the object exists and its current ETag equals this one. */
  ifMatch?: string;
  /** `'*'`: write only if no object exists under the key. */
  ifNoneMatch?: '*';
}

/**
 * A flat key → bytes store (a bucket prefix or a local directory). Small on purpose:
 * features such as "latest manifest" are free functions over this interface, and the
 * key layout belongs to the caller.
 *
 * Keys are relative to the store's root/prefix, use `/` as separator, and must not be
 * empty, start with `/`, contain empty, `.` or `..` segments, or start with `.su-`
 * (reserved for the file backend's own files). Invalid keys throw `SuError('INTERNAL')`.
 *
 * Errors are `SuError`s: a missing object is {@link ObjectNotFound} (code `NOT_FOUND`),
 * a failed condition is `CONFLICT`, bad credentials or a missing bucket are `CONFIG`,
 * network failures and 5xx answers (after the client's own retries) are `UNREACHABLE`.
 */
export interface ObjectStore {
  /** Display form (`s3://bucket/prefix`, `file:///dir`); never contains credentials. */
  readonly url: string;
  /**
   * Whether `put` honours {@link PutOptions}. `'unknown'` for S3-compatible servers until
   * probed with {@link probeConditionalWrites} (some accept the headers and ignore them).
   */
  readonly supportsConditionalWrites: boolean | 'unknown';
  /** Idempotent. Creates the directory (file) or checks that the bucket exists and is accessible (s3). */
  init(): Promise<void>;
  /**
   * Stores `body` under `key`, replacing any object there, atomically: a reader sees the old
   * or the new bytes, never a mix. Throws `CONFLICT` when a condition in `opts` does not hold
   * (including `ifMatch` on a missing object).
   */
  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<{ etag: string }>;
  /**
   * Throws {@link ObjectNotFound} when there is no object under `key`, and `INTEGRITY` without
   * reading the rest when it holds more than `opts.maxBytes` (what the caller was promised).
   */
  get(key: string, opts?: GetOptions): Promise<{ body: Uint8Array; etag: string }>;
  /** Throws {@link ObjectNotFound} when there is no object under `key`. */
  head(key: string): Promise<ObjectInfo>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only a
   * directory), in ascending byte order of the key. Pages through large listings lazily.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes the objects; keys with no object are not an error. */
  delete(keys: string[]): Promise<void>;
}

/** The one "no such object" error every backend maps onto. */
export class ObjectNotFound extends SuError {
  readonly key: string;
  constructor(key: string, opts: { cause?: unknown } = {}) {
    super('NOT_FOUND', `object not found: ${key}`, opts);
    this.name = 'ObjectNotFound';
    this.key = key;
  }
}

/** True for {@link ObjectNotFound} (or any `SuError` with code `NOT_FOUND`). */
export function isNotFound(err: unknown): boolean {
  return err instanceof SuError && err.code === 'NOT_FOUND';
}

/**
 * The canonical ETag form used throughout: surrounding quotes and a weak `W/` marker
 * removed. S3 returns `"abc"`; Ceph and DigitalOcean accept `If-Match` only as `abc`.
 */
export function normalizeEtag(etag: string): string {
  let e = etag.trim();
  if (e.startsWith('W/')) e = e.slice(2);
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e;
}

/** Throws `SuError('INTERNAL')` for keys outside the contract in {@link ObjectStore}. */
export function checkKey(key: string): void {
  const bad =
    key === '' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.startsWith('.su-') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new SuError('INTERNAL', `invalid object key: ${JSON.stringify(key)}`);
}

/** Checks a {@link PutOptions}: both conditions at once have no portable meaning. */
export function checkPutOptions(opts: PutOptions | undefined): void {
  if (opts?.ifMatch !== undefined && opts.ifNoneMatch !== undefined) {
    throw new SuError('INTERNAL', 'put: ifMatch and ifNoneMatch are mutually exclusive');
  }
  if (opts?.ifNoneMatch !== undefined && opts.ifNoneMatch !== '*') {
    throw new SuError('INTERNAL', "put: ifNoneMatch only supports '*'");
  }
  if (opts?.ifMatch !== undefined && normalizeEtag(opts.ifMatch) === '') {
    throw new SuError('INTERNAL', 'put: ifMatch needs an ETag');
  }
}

/** Byte-order comparison of keys (what S3 listings use), not UTF-16 order. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The store refused a conditional write because it does not implement the condition headers
 * at all. The probe turns this into "no conditional writes" (the local lock then guards
 * manifest writes); callers never send conditions to such a store afterwards.
 */
export class ConditionalWritesUnsupported extends SuError {
  constructor(message: string, cause?: unknown) {
    super('CONFIG', message, { hint: 'run `stackunderflow sync init` again so it records that this bucket has no conditional writes', cause });
    this.name = 'ConditionalWritesUnsupported';
  }
}
