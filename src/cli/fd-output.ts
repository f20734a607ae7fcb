import { fstatSync, writeSync } from 'node:fs';
import type { Output } from './io.js';

/**
 * The bin's stdout, written straight to file descriptor 1 where that is what Node's own
 * stream would do. process.stdout brings the stream (and, on a pipe, net) modules: ~4 ms of
 * every command's start, a tenth of a warm report. On a file or a pipe Node's stream writes
 * synchronously anyway; a terminal, Windows, or a pipe some other process left non-blocking
 * (EAGAIN) get Node's stream, from that write on.
 *
 * A reader that went away (EPIPE, `report daily | head`) calls `onClosed`.
 */
export function stdoutOutput(stream: () => NodeJS.WriteStream, onClosed: () => void): Output & { isTTY: () => boolean } {
  const kind = process.platform === 'win32' ? null : fdKind(1);
  let direct = kind === 'file' || kind === 'pipe';
  let streamed = false;
  const viaStream = () => {
    const s = stream();
    if (!streamed) {
      streamed = true;
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') onClosed();
        else throw err;
      });
    }
    return s;
  };
  return {
    write(chunk: string) {
      if (!direct) return viaStream().write(chunk);
      const buf = Buffer.from(chunk, 'utf8');
      let off = 0;
      try {
        while (off < buf.length) off += writeSync(1, buf, off);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') {
          onClosed();
          return false;
        }
        if (code !== 'EAGAIN') throw err;
        direct = false;
        return viaStream().write(buf.subarray(off));
      }
    },
    // A character device may be a terminal; asking builds the stream (tty), the rest cannot be one.
    isTTY: () => (kind === 'file' || kind === 'pipe' ? false : stream().isTTY === true),
  };
}

/** What descriptor `fd` is: a regular file, a pipe or socket, or something else (a terminal, /dev/null). */
function fdKind(fd: number): 'file' | 'pipe' | 'other' | null {
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return 'file';
    if (st.isFIFO() || st.isSocket()) return 'pipe';
    return 'other';
  } catch {
    return null;
  }
}
