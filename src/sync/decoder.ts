import { SuError } from '../errors.js';
import { eventRow, rowValues } from '../store/rows.js';
import { decodeSegment, type SegmentEvent, type SegmentExpectation } from './codec.js';
import type { Identity } from './crypto.js';
import { streamFromWorker } from '../util/worker-stream.js';

/**
 * Turning a peer's segments into event rows: decryption (on the worker), gunzip, the content checks of decodeSegment, and
 * every event's row values. A pull lands the rows inside one
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
  for (const se of events) if (se.seq > cursor) rows.push(rowValues(eventRow(se.event, device, se.seq, se.writtenAt)));
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
export interface DecoderMessage {
  i: number;
  rows: RowBatch;
}

/**
 * Decodes on a worker thread; the generator blocks until the next segment's rows arrive, which
 * is what lets a synchronous transaction consume them. A failure in the worker comes back as
 * the same SuError the in-thread decoder would throw. The worker ends when the generator
 * finishes, is closed early, or throws.
 */
export function* decodeInWorker(segments: SealedItem[], identity: Identity, device: string, cursor: number): Generator<RowBatch> {
  if (segments.length === 0) return;
  const items = segments.map(({ sealed, expect }) => ({ sealed, expect }));
  for (let i = 0; i < segments.length; i++) segments[i] = { sealed: EMPTY, expect: segments[i].expect };
  const stream = streamFromWorker<DecoderMessage>(
    {
      from: import.meta.url,
      name: 'decoder-worker',
      // The worker decrypts too (age is JavaScript: ~5 s per 1 M events), so it gets the secret,
      // in memory only, like this thread has it. The sealed bytes move to it (no copy).
      data: { secret: identity.revealSecret(), device, cursor, items },
      transfer: [...new Set(items.map((s) => s.sealed.buffer as ArrayBuffer))],
      ahead: AHEAD,
      stallMs: STALL_MS,
      fail: (f) =>
        'stalled' in f
          ? new SuError('INTERNAL', `the segment decoder stopped responding${f.why ? ` (${f.why})` : ''}`, { hint: 'run the pull again; nothing was merged from this device' })
          : new SuError(f.code ?? 'INTERNAL', f.message, { hint: f.hint }),
    },
    (_msg, taken) => taken === items.length,
  );
  for (const msg of stream) yield msg.rows;
}

