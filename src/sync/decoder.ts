import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { SuError, type ErrorCode } from '../errors.js';
import { contentHash } from '../model/canonical.js';
import { eventRow, rowValues } from '../store/rows.js';
import { decodeSegment, type SegmentEvent, type SegmentExpectation } from './codec.js';
import type { Identity } from './crypto.js';

/**
 * Turning a peer's segments into event rows: decryption (on the worker), gunzip, the content checks of decodeSegment, the
 * content hash of every event and its row values. A pull lands the rows inside one
 * synchronous SQLite transaction, so the decoder is a plain generator the landing pulls from,
 * segment by segment; for a big backlog it runs on a worker thread, one segment ahead or more,
 * so that decoding (about a third of a 1 M-event pull) overlaps the inserts on the other core.
 */

/** A decrypted segment (still gzip) and what it must decode to. */
export interface UnsealedSegment {
  gz: Uint8Array;
  expect: SegmentExpectation;
}

/** A segment as fetched (size and name checked), still encrypted: what the worker gets. */
export interface SealedItem {
  sealed: Uint8Array;
  expect: SegmentExpectation;
}

/** One segment's rows, in EVENT_COLUMNS order (uid at 1, written_at last). */
export type RowBatch = unknown[][];

/** Rows of a peer's events, keeping only those beyond `cursor` (already landed before). */
export function peerRows(events: SegmentEvent[], device: string, cursor: number): RowBatch {
  const rows: RowBatch = [];
  for (const se of events) if (se.seq > cursor) rows.push(rowValues(eventRow(se.event, device, contentHash(se.event), se.seq, se.writtenAt)));
  return rows;
}

/** Decodes on this thread. */
export function* decodeHere(segments: UnsealedSegment[], device: string, cursor: number): Generator<RowBatch> {
  for (let i = 0; i < segments.length; i++) {
    const { gz, expect } = segments[i];
    segments[i] = { gz: EMPTY, expect }; // the compressed bytes can go once decoded
    yield peerRows(decodeSegment(gz, expect), device, cursor);
  }
}

const EMPTY = new Uint8Array(0);

/** Segments the worker may decode ahead of the landing: bounds memory to a few segments' rows. */
const AHEAD = 3;
/** How long the landing waits for one segment before it calls the worker stuck. */
const STALL_MS = 120_000;

/** What the worker posts for each segment. */
export type DecoderMessage = { i: number; rows: RowBatch } | { i: number; error: { code: ErrorCode; message: string; hint?: string } };

/** The worker's shared counters: [segments posted, segments taken by the landing]. */
export const POSTED = 0;
export const TAKEN = 1;

/**
 * Decodes on a worker thread; the generator blocks (Atomics.wait) until the next segment's rows
 * arrive, which is what lets a synchronous transaction consume them. A failure in the worker
 * comes back as the same SuError the in-thread decoder would throw. The worker ends when the
 * generator finishes, is closed early, or throws.
 */
export function* decodeInWorker(segments: SealedItem[], identity: Identity, device: string, cursor: number): Generator<RowBatch> {
  const state = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const items = segments.map(({ sealed, expect }) => ({ sealed, expect }));
  // The sealed bytes move to the worker (no copy); the caller's array no longer holds them.
  const transfer = [port2, ...new Set(items.map((s) => s.sealed.buffer as ArrayBuffer))];
  // The worker decrypts too (age is JavaScript: ~5 s per 1 M events), so it gets the secret, in
  // memory only, like this thread has it.
  const workerData = { port: port2, state, secret: identity.revealSecret(), device, cursor, items, ahead: AHEAD };
  const worker = new Worker(BOOT, { eval: true, workerData, transferList: transfer });
  worker.unref();
  // Set by the worker's events, which control flow analysis does not see.
  let exited = null as string | null;
  worker.on('error', (err) => (exited = err.message));
  worker.on('exit', (code) => (exited ??= `exited with code ${code}`));
  for (let i = 0; i < segments.length; i++) segments[i] = { sealed: EMPTY, expect: segments[i].expect };
  try {
    for (let taken = 0; taken < items.length; ) {
      const got = receiveMessageOnPort(port1);
      if (!got) {
        const posted = Atomics.load(state, POSTED);
        if (posted > taken) continue; // posted just now: the message is there
        if (Atomics.wait(state, POSTED, posted, STALL_MS) === 'timed-out') {
          throw new SuError('INTERNAL', `the segment decoder stopped responding${exited ? ` (${exited})` : ''}`, { hint: 'run the pull again; nothing was merged from this device' });
        }
        continue;
      }
      const msg = got.message as DecoderMessage;
      taken++;
      Atomics.store(state, TAKEN, taken);
      Atomics.notify(state, TAKEN);
      if ('error' in msg) throw new SuError(msg.error.code, msg.error.message, { hint: msg.error.hint });
      yield msg.rows;
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}

// The worker is a file beside this one, with this one's extension: .cjs in the bundle's
// dist/bin/, .ts from source (the tests), where it is loaded through tsx's
// loader, registered inside the worker (Node 20 does not apply a `--import` hook to a
// worker's entry module). Either way a small boot script imports it: if that fails (a broken
// installation), the landing, blocked in Atomics.wait and deaf to the worker's 'error' event,
// still hears why at once.
const EXT = /\.[cm]?[jt]s$/.exec(import.meta.url)![0];
const FROM_SOURCE = EXT === '.ts';
const WORKER_URL = JSON.stringify(new URL(`./decoder-worker${EXT}`, import.meta.url).href);
const BOOT = `const { workerData } = require('node:worker_threads');
(${FROM_SOURCE ? `import('tsx/esm/api').then(({ register }) => { register(); return import(${WORKER_URL}); })` : `import(${WORKER_URL})`}).catch((err) => {
  workerData.port.postMessage({ i: -1, error: { code: 'INTERNAL', message: 'the segment decoder could not start: ' + (err && err.message), hint: 'reinstall stackunderflow; nothing was merged from this device' } });
  Atomics.add(workerData.state, ${POSTED}, 1);
  Atomics.notify(workerData.state, ${POSTED});
});`;
