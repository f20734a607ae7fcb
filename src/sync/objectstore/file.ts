import { createHash, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import lockfile from 'proper-lockfile';
import { SuError, messageOf } from '../../errors.js';
import {
  checkKey,
  checkPutOptions,
  compareKeys,
  normalizeEtag,
  tooLarge,
  type GetOptions,
  ObjectNotFound,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './types.js';

const TMP_DIR = '.su-tmp';
const LOCK_FILE = '.su-lock';
/** Temp files older than this are leftovers of a crashed writer; `init` removes them. */
const STALE_TMP_MS = 60 * 60 * 1000;

/**
 * Object store in a local directory (`file:///abs/dir`): a key `a/b/c` is the file
 * `<root>/a/b/c`. Writes go to a temp file in `<root>/.su-tmp`, are fsynced and renamed
 * into place, so readers never see partial objects. The ETag is the hex SHA-256 of the
 * content.
 *
 * Conditional writes take a lock file (`<root>/.su-lock`, proper-lockfile), so they are
 * compare-and-swap safe between processes **on one machine**; on a directory shared by
 * several machines (NFS, SMB, a synced folder) that guarantee does not hold.
 * A key cannot also be a "directory" of other keys (`a` and `a/b` at once), unlike S3.
 *
 * The directory may be shared or synced, so anyone who can write to it is treated like a bucket
 * writer: nothing under the root is followed if it is a symbolic link (every directory on a
 * key's path is checked with lstat, objects are opened with O_NOFOLLOW), an object that is not a
 * regular file (a FIFO, a device) is an integrity error rather than something to block on, and
 * nothing is deleted outside a directory verified to be the real `<root>/.su-tmp`. New files are
 * 0600 and new directories 0700. (A writer racing us between the check and the use can still
 * win a rename; what it gains is what a bucket writer has anyway: it never reaches outside.)
 */
export class FileObjectStore implements ObjectStore {
  readonly url: string;
  readonly supportsConditionalWrites = true;
  readonly #root: string;
  readonly #etags = new Map<string, { size: number; mtimeMs: number; ctimeMs: number; ino: number; etag: string }>();
  #tmpReady = false;

  /** `root` must be an absolute directory path. */
  constructor(root: string) {
    this.#root = root.length > 1 && root.endsWith(sep) ? root.slice(0, -1) : root;
    this.url = pathToFileURL(this.#root).href;
  }

  /** Creates the root (only here: elsewhere a missing root is an error) and removes stale temp files. */
  async init(): Promise<void> {
    try {
      await mkdir(this.#root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError('init', this.url, err);
    }
    const tmp = await this.#tmpDir();
    const now = Date.now();
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const p = join(tmp, name);
      const st = await lstat(p).catch(() => undefined);
      // Only regular files, only in the directory just verified, checked again right before.
      if (!st?.isFile() || now - st.mtimeMs <= STALE_TMP_MS) continue;
      if ((await this.#tmpDir()) !== tmp) break;
      await unlink(p).catch(() => undefined);
    }
  }

  /**
   * `<root>/.su-tmp`, created (0700) if missing, as its real path, after checking that it is a
   * directory and not a symbolic link, and that its real path is inside the root's.
   */
  async #tmpDir(): Promise<string> {
    const dir = join(this.#root, TMP_DIR);
    let st = await lstat(dir).catch((err) => {
      if (errno(err) === 'ENOENT') return undefined;
      throw fsError('put', TMP_DIR, err);
    });
    if (!st) {
      try {
        await mkdir(dir, { mode: 0o700 });
      } catch (err) {
        if (errno(err) === 'ENOENT') throw rootMissing(this.url);
        if (errno(err) !== 'EEXIST') throw fsError('put', TMP_DIR, err);
      }
      st = await lstat(dir);
    }
    if (!st.isDirectory()) throw notReal(TMP_DIR, st);
    const [real, root] = await Promise.all([realpath(dir), realpath(this.#root)]);
    if (real !== join(root, TMP_DIR)) throw notReal(TMP_DIR, st);
    this.#tmpReady = true;
    return real;
  }

  /**
   * The directory holding `key`, after checking every directory from the root down to it with
   * lstat: each must be a real directory. Missing ones are created (0700) when `create`, else
   * `null` is returned (the object does not exist).
   */
  async #parentDir(key: string, create: boolean): Promise<string | null> {
    const parts = key.split('/').slice(0, -1);
    let p = this.#root;
    for (const [i, part] of parts.entries()) {
      p = join(p, part);
      let st = await lstat(p).catch((err) => {
        if (isMissing(err)) return undefined;
        throw err;
      });
      if (!st) {
        if (!create) return null;
        try {
          await mkdir(p, { mode: 0o700 });
        } catch (err) {
          if (errno(err) === 'ENOENT' && i === 0) throw rootMissing(this.url);
          if (errno(err) !== 'EEXIST') throw err;
        }
        st = await lstat(p);
      }
      if (!st.isDirectory()) throw notReal(parts.slice(0, i + 1).join('/'), st);
    }
    return p;
  }

  async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<{ etag: string }> {
    checkKey(key);
    checkPutOptions(opts);
    const target = this.#path(key);
    const etag = sha256Hex(body);
    const tmp = await this.#writeTemp(key, body);
    try {
      await this.#parentDir(key, true);
      if (opts.ifMatch === undefined && opts.ifNoneMatch === undefined) {
        await rename(tmp, target);
      } else {
        const release = await this.#lock();
        try {
          if (opts.ifNoneMatch === '*') {
            // link() fails atomically if the name exists, even against writers that don't lock.
            try {
              await link(tmp, target);
            } catch (err) {
              if (errno(err) === 'EEXIST') throw conflict(key, 'an object already exists');
              throw err;
            }
            await unlink(tmp);
          } else {
            const current = await this.#etagOf(target).catch((err) => {
              if (isMissing(err)) throw conflict(key, 'the object does not exist');
              throw err;
            });
            if (current !== normalizeEtag(opts.ifMatch!)) throw conflict(key, 'the object changed');
            await rename(tmp, target);
          }
        } finally {
          await release();
        }
      }
      await fsyncDir(dirname(target));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (err instanceof SuError) throw err;
      throw fsError('put', key, err);
    }
    return { etag };
  }

  async get(key: string, opts: GetOptions = {}): Promise<{ body: Uint8Array; etag: string }> {
    checkKey(key);
    let buf: Buffer;
    try {
      if ((await this.#parentDir(key, false)) === null) throw new ObjectNotFound(key);
      // O_NOFOLLOW: a symbolic link is refused (ELOOP); O_NONBLOCK: opening a FIFO returns at once.
      const fh = await open(this.#path(key), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw notReal(key, st);
        if (opts.maxBytes !== undefined && st.size > opts.maxBytes) throw tooLarge(key, st.size, opts.maxBytes);
        buf = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof SuError) throw err;
      if (errno(err) === 'ELOOP') throw notReal(key, 'symlink');
      if (isMissing(err)) throw new ObjectNotFound(key);
      throw fsError('get', key, err);
    }
    const body = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return { body, etag: sha256Hex(body) };
  }

  async head(key: string): Promise<ObjectInfo> {
    checkKey(key);
    const p = this.#path(key);
    try {
      if ((await this.#parentDir(key, false)) === null) throw new ObjectNotFound(key);
      const st = await lstat(p);
      if (st.isDirectory()) throw new ObjectNotFound(key);
      if (!st.isFile()) throw notReal(key, st);
      return { key, size: st.size, etag: await this.#etagOf(p, st), lastModified: st.mtime };
    } catch (err) {
      if (err instanceof SuError) throw err;
      if (isMissing(err)) throw new ObjectNotFound(key);
      throw fsError('head', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const dir = slash < 0 ? '' : prefix.slice(0, slash);
    if (dir !== '') checkKey(dir);
    const keys: string[] = [];
    try {
      // The listed folder itself, and every one above it, must be real directories.
      if (dir !== '' && (await this.#parentDir(`${dir}/_`, false)) === null) return;
      await this.#walk(dir, keys);
    } catch (err) {
      if (err instanceof SuError) throw err;
      throw fsError('list', prefix, err);
    }
    const matching = keys.filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of matching) {
      try {
        yield await this.head(key);
      } catch (err) {
        // Deleted between the walk and now: a listing is not a snapshot.
        if (err instanceof ObjectNotFound) continue;
        throw err;
      }
    }
  }

  async delete(keys: string[]): Promise<void> {
    keys.forEach(checkKey);
    const one = async (key: string) => {
      try {
        // Through a symlinked folder the unlink would land outside the bucket: checked first.
        if ((await this.#parentDir(key, false)) === null) return;
        // A directory is no object (unlink on one fails with EISDIR or EPERM depending on the OS).
        if (await lstat(this.#path(key)).then((s) => s.isDirectory(), () => false)) return;
        await unlink(this.#path(key));
      } catch (err) {
        if (err instanceof SuError) throw err;
        if (isMissing(err)) return;
        throw fsError('delete', key, err);
      }
    };
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map(one));
  }

  #path(key: string): string {
    return join(this.#root, ...key.split('/'));
  }

  async #writeTemp(key: string, body: Uint8Array): Promise<string> {
    try {
      const dir = this.#tmpReady ? join(this.#root, TMP_DIR) : await this.#tmpDir();
      const tmp = join(dir, `${randomBytes(8).toString('hex')}.tmp`);
      // O_EXCL with O_NOFOLLOW: never through a planted link. 0600: bucket files are the user's alone.
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return tmp;
    } catch (err) {
      if (err instanceof SuError) throw err;
      throw fsError('put', key, err);
    }
  }

  async #lock(): Promise<() => Promise<void>> {
    try {
      return await lockfile.lock(this.#root, {
        lockfilePath: join(this.#root, LOCK_FILE),
        realpath: false,
        stale: 10_000,
        retries: { retries: 200, minTimeout: 5, maxTimeout: 50, factor: 1.5 },
        // The critical section is milliseconds; a compromised lock only matters if the
        // process stalled for >10 s, and throwing from a timer would crash the host.
        onCompromised: () => undefined,
      });
    } catch (err) {
      throw new SuError('LOCKED', `another writer holds ${this.url}/${LOCK_FILE}`, {
        hint: 'retry; if no other stackunderflow process is running, the lock goes stale after 10 s',
        cause: err,
      });
    }
  }

  /** Hashes the file unless a rename-proof stat fingerprint says it has not changed. */
  async #etagOf(path: string, st?: Stats): Promise<string> {
    st ??= await lstat(path);
    const hit = this.#etags.get(path);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs && hit.ino === st.ino) {
      return hit.etag;
    }
    const etag = sha256Hex(await readFile(path));
    if (this.#etags.size > 100_000) this.#etags.clear();
    this.#etags.set(path, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, etag });
    return etag;
  }

  async #walk(rel: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(rel === '' ? this.#root : this.#path(rel), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (rel === '' && e.name.startsWith('.su-')) continue;
      const key = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await this.#walk(key, out);
      else if (e.isFile()) out.push(key);
      // Dirents are not followed: a link or a FIFO where objects live is tampering, said so.
      else throw notReal(key, e.isSymbolicLink() ? 'symlink' : 'special');
    }
  }
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function isMissing(err: unknown): boolean {
  const c = errno(err);
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR';
}

/** Something under the root that is not what an object store holds there: never followed, never read. */
function notReal(what: string, st: Stats | 'symlink' | 'special'): SuError {
  const kind = st === 'symlink' || (typeof st === 'object' && st.isSymbolicLink()) ? 'a symbolic link' : st === 'special' || (typeof st === 'object' && !st.isFile() && !st.isDirectory()) ? 'not a regular file or directory (a FIFO, socket or device)' : 'not what it should be (a file where a folder belongs, or the reverse)';
  return new SuError('INTEGRITY', `${what} in the bucket directory is ${kind}: refusing to follow or read it`, {
    hint: 'someone with write access to the bucket directory put it there; nothing outside the bucket was read, written or deleted. Remove it, then run `stackunderflow sync verify`',
  });
}

function rootMissing(url: string): SuError {
  return new SuError('CONFIG', `the bucket directory ${url} does not exist`, {
    hint: 'mount the disk or restore the folder (it is not recreated outside `stackunderflow sync init`), or run `stackunderflow sync init --bucket <url>` for a new bucket',
  });
}

function conflict(key: string, why: string): SuError {
  return new SuError('CONFLICT', `conditional write of ${key} refused: ${why}`, {
    hint: 'another device wrote first; re-read and retry',
  });
}

function fsError(op: string, what: string, err: unknown): SuError {
  const code = errno(err);
  const detail = messageOf(err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
    return new SuError('CONFIG', `${op} ${what}: ${detail}`, {
      hint: 'check that the bucket directory is a writable directory',
      cause: err,
    });
  }
  if (code === 'EIO' || code === 'ENOSPC' || code === 'ESTALE' || code === 'ETIMEDOUT' || code === 'EDQUOT') {
    return new SuError('UNREACHABLE', `${op} ${what}: ${detail}`, { hint: 'retry when the disk is available', cause: err });
  }
  return new SuError('INTERNAL', `${op} ${what}: ${detail}`, { cause: err });
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable; not possible on every platform (Windows), where it is skipped.
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}
