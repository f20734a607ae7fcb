/**
 * Where the sync key lives. First match wins: the environment variable named by
 * `--key-from-env` (default STACKUNDERFLOW_SYNC_KEY), then
 * `$STACKUNDERFLOW_HOME/sync/identity.txt` — an age identity file, so
 * `age -d -i identity.txt` works on it, kept at mode 0600.
 */
import { privateDir } from '../store/private.js';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SuError } from '../errors.js';
import { syncDir } from '../paths.js';
import { Identity, fingerprint } from './crypto.js';

/** The default environment variable for the key. */
export const DEFAULT_KEY_ENV = 'STACKUNDERFLOW_SYNC_KEY';

/** `$STACKUNDERFLOW_HOME/sync/identity.txt`. */
export function identityPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(syncDir(env), 'identity.txt');
}

/** A key and where it came from (for `sync status` and messages; never the key itself). */
export interface ResolvedKey {
  identity: Identity;
  source: 'env' | 'file';
  /** The variable name (source 'env') or the file path (source 'file'). */
  from: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Name of the environment variable to read first. */
  keyFromEnv?: string;
}

/**
 * The key, or null when neither the environment variable nor the key file is present.
 * A present but invalid or unsafe key is an error, not null: silently falling through
 * to another key would sync with the wrong one.
 */
export async function resolveIdentity(opts: ResolveOptions = {}): Promise<ResolvedKey | null> {
  const env = opts.env ?? process.env;
  const varName = opts.keyFromEnv ?? DEFAULT_KEY_ENV;
  const fromEnv = env[varName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { identity: await parseIdentityText(fromEnv, `the ${varName} environment variable`), source: 'env', from: varName };
  }
  const path = identityPath(env);
  if (!fs.existsSync(path)) return null;
  return { identity: await readIdentityFile(path), source: 'file', from: path };
}

/** Like `resolveIdentity`, but a missing key is a KEY error that says how to get one. */
export async function requireIdentity(opts: ResolveOptions = {}): Promise<ResolvedKey> {
  const found = await resolveIdentity(opts);
  if (found) return found;
  const varName = opts.keyFromEnv ?? DEFAULT_KEY_ENV;
  throw new SuError('KEY', `no sync key: ${varName} is not set and ${identityPath(opts.env ?? process.env)} does not exist`, {
    hint: `run \`stackunderflow sync key export\` on a device that already syncs and put the key in ${varName}, or run \`stackunderflow sync init\``,
  });
}

/**
 * Parses the age identity file format: `#` comment lines, blank lines, and exactly one
 * `AGE-SECRET-KEY-1…` line. A bare key string is a valid file too, so the same parser
 * reads the environment variable.
 */
export async function parseIdentityText(text: string, source: string): Promise<Identity> {
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (keys.length !== 1) {
    throw new SuError('KEY', `${source} holds ${keys.length === 0 ? 'no key' : `${keys.length} non-comment lines`}; expected exactly one AGE-SECRET-KEY-1… line`, {
      hint: 'copy the key again from `stackunderflow sync key export` on a device that already syncs',
    });
  }
  return Identity.parse(keys[0], source);
}

/**
 * Reads the key file, refusing one that group or others may access (as ssh does with
 * private keys): a readable key is a key that may already be copied.
 */
export async function readIdentityFile(path: string): Promise<Identity> {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    throw new SuError('KEY', `cannot read the sync key file ${path}`, { cause: err });
  }
  if (!st.isFile()) throw new SuError('KEY', `the sync key file ${path} is not a regular file`);
  // POSIX permission bits mean nothing on Windows, where ACLs protect the profile folder.
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SuError('KEY', `the sync key file ${path} is accessible by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it`, {
      hint: `chmod 600 ${path}`,
    });
  }
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new SuError('KEY', `cannot read the sync key file ${path}`, { cause: err });
  }
  return parseIdentityText(text, `the sync key file ${path}`);
}

/**
 * The identity file's text: age's identity-file format (comments, then the key). Unlike
 * age-keygen it leaves out the `# public key:` line: in this design the recipient is
 * what lets someone write segments we would accept, so it is never written anywhere;
 * the fingerprint identifies the key instead.
 */
export async function formatIdentityFile(identity: Identity, created: Date): Promise<string> {
  // age-keygen writes RFC 3339 at second precision.
  const ts = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    '# stackunderflow sync key - SECRET. Whoever has this line can read your bucket; lose it and the bucket is unreadable.\n' +
    `# created: ${ts}\n` +
    `# fingerprint: ${fingerprint(await identity.recipient())}\n` +
    `${identity.revealSecret()}\n`
  );
}

export interface WriteIdentityOptions {
  /** Timestamp for the `# created:` line (injected so tests are deterministic). */
  created: Date;
  /** Replace an existing file. Without it an existing file is a KEY error, decided atomically. */
  overwrite?: boolean;
}

/**
 * Writes the key file at mode 0600 (directory 0700): temp file created 0600, chmod
 * against a permissive umask, fsync, then an atomic link (no overwrite) or rename.
 * A crash leaves either the old file or the new one, never half a key.
 */
export async function writeIdentityFile(path: string, identity: Identity, opts: WriteIdentityOptions): Promise<void> {
  const dir = dirname(path);
  privateDir(dir);
  const text = await formatIdentityFile(identity, opts.created);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (opts.overwrite) {
      fs.renameSync(tmp, path);
    } else {
      try {
        // link() fails with EEXIST instead of replacing: no window where a key is clobbered.
        fs.linkSync(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new SuError('KEY', `a sync key already exists at ${path}; not replacing it`, {
            hint: 'use --force to replace it (the old key is lost unless you exported it)',
          });
        }
        throw err;
      }
      fs.unlinkSync(tmp);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  syncDirectory(dir);
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directory fsync is unsupported on some platforms (Windows); the rename is still atomic.
  }
}
