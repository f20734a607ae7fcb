/**
 * Files only this user may read. The store holds every prompt, reply and tool output of every
 * device, and `sync/` holds the key and the spool: other local users must not read them,
 * whatever the umask. Missing folders are created 0700; an existing folder or file that group
 * or others can reach is tightened (0700 / 0600), or, when this user cannot change it, refused
 * with the command that fixes it.
 */
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { SuError } from '../errors.js';

// POSIX modes mean nothing on Windows, where the user profile's ACLs already keep others out.
const POSIX = process.platform !== 'win32';

/** Creates `dir` (and missing parents) 0700, or tightens it to 0700 if group/others have access. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
}

/** Tightens an existing file to 0600 if group/others have access; a missing file is fine. */
export function privateFile(path: string): void {
  tighten(path, 0o600);
}

/** Creates `path` empty at 0600 if it does not exist (so whatever opens it next inherits 0600), then tightens it. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  tighten(path, 0o600);
}

function tighten(path: string, mode: number): void {
  if (!POSIX) return;
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((st.mode & 0o077) === 0) return;
  try {
    chmodSync(path, mode);
  } catch (cause) {
    const octal = (st.mode & 0o777).toString(8);
    throw new SuError('CONFIG', `${path} can be read by other users of this machine (mode ${octal}), and this user cannot change that`, {
      hint: `run \`chmod ${mode.toString(8)} '${path}'\` as its owner (it holds your conversations or your sync key)`,
      cause,
    });
  }
}
