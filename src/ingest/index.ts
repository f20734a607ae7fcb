import { statSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { ensureDeviceId } from '../store/db.js';
import { LocalEventWriter, pendingSearchIndex, type WriteStats } from '../store/events.js';
import type { Adapter, ParserState, SourceFile, SourceReader } from '../adapters/types.js';
import type { EventRecord } from '../model/event.js';
import { Hlc, systemClock, type Clock } from '../model/clock.js';
import type { FileMark, LineTask } from './read-lines.js';
import { readFiles, type ReadMode } from './reader.js';

export interface IngestOptions {
  adapters: Adapter[];
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Events per transaction (default BATCH); tests make it small to cut runs at batch boundaries. */
  batchEvents?: number;
  /** The adapters discover only some files (one transcript): leave the other known files alone. */
  partial?: boolean;
  /** Log bytes from which a run leaves search indexing to the first search (default BULK_BYTES). */
  bulkBytes?: number;
  /** Where log files are read: 'auto' (a reader thread for a big run), or forced (tests compare the two). */
  read?: ReadMode;
  /** Called as files are processed, for a progress bar. */
  onProgress?: (p: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }) => void;
}

export interface IngestReport {
  filesSeen: number;
  filesRead: number;
  filesUnchanged: number;
  filesRewritten: number;
  filesMissing: number;
  bytesRead: number;
  linesRead: number;
  malformedLines: number;
  events: WriteStats;
  /** Files with malformed lines in this run, with counts, for the user. */
  malformed: Array<{ path: string; lines: number }>;
  /** Sources that could not be read at all this run (a database locked past the wait), and why; read again next run. */
  unreadable: Array<{ path: string; reason: string }>;
  /** Events the search index still lacks after this run (a bulk run leaves them to the first search). */
  searchPending: number;
  /** The same counts per agent (every adapter of the run has an entry, found or not). */
  byProvider: Record<string, ProviderCounts>;
}

/** One agent's share of an ingest run. */
interface ProviderCounts {
  filesSeen: number;
  filesRead: number;
  events: WriteStats;
}

/** What a run needs of a file's stat: whether it changed since the store last read it. */
interface FileStamp {
  size: number;
  mtimeMs: number;
}

interface FileRow extends FileMark {
  path: string;
  size: number;
  mtime_ms: number;
  missing: number;
}

/**
 * Log bytes to read above which a run is a bulk load (a first ingest, a long-unread backlog):
 * its full-text indexing is left to the first search, which does it once (fts_pending).
 */
const BULK_BYTES = 32 * 1024 * 1024;

/** Events written per transaction: large enough to amortize commits, small enough to bound memory. */
const BATCH = 10_000;
/** Page cache while ingesting, as SQLite's negative KiB (64 MiB). */
const INGEST_CACHE_KIB = -65_536;

/**
 * Incremental ingest. Per source file we remember size, mtime, the byte offset consumed
 * (always at a line boundary) and a hash of the file's head. An unchanged file is not
 * opened; a grown file with the same head is read from the offset; anything else (shrunk,
 * head changed) is re-read from the start and upserted idempotently. A final line without
 * a newline is consumed only if it parses, otherwise it is left for the next run (a torn
 * write being completed).
 */
export async function ingest(db: Db, opts: IngestOptions): Promise<IngestReport> {
  const env = opts.env ?? process.env;
  const deviceId = ensureDeviceId(db);
  const writer = new LocalEventWriter(db, deviceId, new Hlc(opts.clock ?? systemClock));
  const report: IngestReport = {
    filesSeen: 0, filesRead: 0, filesUnchanged: 0, filesRewritten: 0, filesMissing: 0,
    bytesRead: 0, linesRead: 0, malformedLines: 0,
    events: { inserted: 0, updated: 0, unchanged: 0 }, malformed: [], unreadable: [], searchPending: 0, byProvider: {},
  };
  const eventsByProvider: Record<string, WriteStats> = {};
  for (const a of opts.adapters) {
    eventsByProvider[a.provider] = { inserted: 0, updated: 0, unchanged: 0 };
    report.byProvider[a.provider] = { filesSeen: 0, filesRead: 0, events: eventsByProvider[a.provider] };
  }

  const files: Array<{ adapter: Adapter; file: SourceFile }> = [];
  for (const adapter of opts.adapters) {
    for (const file of await adapter.discover(adapter.roots(env))) {
      files.push({ adapter, file });
      report.byProvider[adapter.provider].filesSeen++;
    }
  }
  report.filesSeen = files.length;

  const getFile = db.prepare('SELECT * FROM source_files WHERE path = ?');
  const putFile = db.prepare(`INSERT INTO source_files(path, provider, size, mtime_ms, offset, head_hash, state, lines, skipped, missing)
    VALUES (@path, @provider, @size, @mtime_ms, @offset, @head_hash, @state, @lines, @skipped, 0)
    ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ms=excluded.mtime_ms, offset=excluded.offset,
      head_hash=excluded.head_hash, state=excluded.state, lines=excluded.lines, skipped=excluded.skipped, missing=0`);

  // Only size and mtime are kept: ~30,000 live Stats objects (four Dates each on Node 20) made
  // every young-generation collection copy them, a fifth of an ingest with nothing new.
  const stats = files.map(({ file }): FileStamp | null => {
    try {
      const st = statSync(file.path, { throwIfNoEntry: false }); // no exception built for a file gone since discovery
      return st ? { size: st.size, mtimeMs: st.mtimeMs } : null;
    } catch {
      return null;
    }
  });
  // What the store knows of each file, read in one query for a full run (a lookup per file cost
  // a third of an ingest with nothing new at ~25,000 files); a partial run (the status line's one
  // transcript) looks up its files alone.
  const knownRows = opts.partial ? null : new Map((db.prepare('SELECT path, size, mtime_ms, missing FROM source_files').raw().all() as Array<[string, number, number, number]>).map((r) => [r[0], r]));
  // Each found file's row leaves knownRows as it is looked up: what remains at the end is gone.
  const known = (path: string): { size: number; mtime_ms: number; missing: number } | undefined => {
    if (!knownRows) return getFile.get(path) as FileRow | undefined;
    const r = knownRows.get(path);
    if (r === undefined) return undefined;
    knownRows.delete(path);
    return { size: r[1], mtime_ms: r[2], missing: r[3] };
  };
  const bytesTotal = stats.reduce((a, s) => a + (s?.size ?? 0), 0);
  let bytesDone = 0;

  const batchEvents = opts.batchEvents ?? BATCH;
  let pending: EventRecord[] = [];
  let done: Array<() => void> = [];
  // A file's events and its bookkeeping row commit in the same transaction, so a crash never
  // records an offset whose events were not written. Files are grouped: one transaction per
  // BATCH events, not per file. Every commit writes each page it dirtied to the WAL, and the
  // random-keyed indexes dirty hundreds of pages per commit: per-file commits wrote the store
  // ~25 times over (1.3 M page writes for a 200 MB store).
  const flush = (force = false) => {
    if (!force && pending.length < batchEvents) return;
    if (pending.length === 0 && done.length === 0) return;
    const batch = pending;
    const after = done;
    pending = [];
    done = [];
    db.transaction(() => {
      writer.write(batch, report.events, eventsByProvider);
      for (const f of after) f();
    })();
  };
  // Random-keyed index inserts miss SQLite's small default page cache; a ceiling, not an
  // allocation (pages are cached only as they are touched), restored when ingest ends.
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  db.pragma(`cache_size = ${INGEST_CACHE_KIB}`);
  // A source read whole: skipped while its stamp (kept in head_hash) is unchanged; otherwise the
  // reader returns what changed since its cursor (kept in state), and the row records both. A
  // source unreadable now keeps no stamp: it is read again next run.
  const readWhole = (file: SourceFile, reader: SourceReader, st: FileStamp, prev: FileRow | undefined) => {
    const stamp = reader.stamp();
    if (prev && prev.head_hash === stamp && prev.missing === 0) {
      report.filesUnchanged++;
      return;
    }
    const r = reader.read(prev?.state ? (JSON.parse(prev.state) as ParserState) : null);
    report.filesRead++;
    report.byProvider[file.provider].filesRead++;
    report.bytesRead += st.size;
    report.linesRead += r.records;
    report.malformedLines += r.malformed;
    if (r.malformed > 0) report.malformed.push({ path: file.path, lines: r.malformed });
    if (r.unreadable !== undefined) report.unreadable.push({ path: file.path, reason: r.unreadable });
    for (const e of r.events) pending.push(e);
    done.push(() => putFile.run({
      path: file.path, provider: file.provider, size: st.size, mtime_ms: Math.trunc(st.mtimeMs), offset: st.size,
      head_hash: r.unreadable !== undefined ? '' : stamp, state: JSON.stringify(r.cursor),
      lines: (prev?.lines ?? 0) + r.records, skipped: (prev?.skipped ?? 0) + r.malformed,
    }));
    flush();
  };
  try {
    // Sources read whole are read here, in order; log files are listed, then read in one
    // stream (on the reader thread for a big run: reader.ts) while this thread writes.
    const tasks: LineTask[] = [];
    let taskBytes = 0;
    for (let i = 0; i < files.length; i++) {
      const { adapter, file } = files[i];
      const mark = known(file.path);
      const st = stats[i];
      if (!st) continue;
      const unchanged = mark !== undefined && mark.size === st.size && mark.mtime_ms === Math.trunc(st.mtimeMs) && mark.missing === 0;
      if (!file.reader && unchanged) {
        report.filesUnchanged++;
        bytesDone += st.size;
        continue;
      }
      const prev = mark && (getFile.get(file.path) as FileRow);
      if (file.reader) {
        bytesDone += st.size;
        opts.onProgress?.({ filesDone: i, filesTotal: files.length, bytesDone, bytesTotal });
        readWhole(file, file.reader, st, prev);
        continue;
      }
      const bytes = st.size - (prev && prev.offset <= st.size ? prev.offset : 0);
      tasks.push({ provider: adapter.provider, path: file.path, root: file.root, mtimeMs: st.mtimeMs, prev: prev ?? null, bytes });
      taskBytes += bytes;
    }
    writer.deferSearch = taskBytes >= (opts.bulkBytes ?? BULK_BYTES);
    let filesDone = files.length - tasks.length;
    opts.onProgress?.({ filesDone, filesTotal: files.length, bytesDone, bytesTotal });
    await readFiles(tasks, taskBytes, opts.adapters, opts.read ?? 'auto', (batch) => {
      for (const e of batch.events) pending.push(e);
      for (const d of batch.done) {
        report.bytesRead += d.bytesRead;
        report.linesRead += d.linesRead;
        report.malformedLines += d.malformed;
        if (d.malformed > 0) report.malformed.push({ path: d.path, lines: d.malformed });
        if (d.rewritten) report.filesRewritten++;
        report.filesRead++;
        report.byProvider[d.provider].filesRead++;
        done.push(() => putFile.run({ path: d.path, provider: d.provider, ...d.row }));
        filesDone++;
        bytesDone += d.row.size;
      }
      if (batch.done.length) opts.onProgress?.({ filesDone, filesTotal: files.length, bytesDone, bytesTotal });
      flush();
    });
    flush(true);
  } finally {
    db.pragma(`cache_size = ${cacheSize}`);
  }
  // Files we knew that are gone: their events stay (the store is the archive); just mark them.
  const markMissing = db.prepare('UPDATE source_files SET missing = 1 WHERE path = ?');
  for (const [p, , , missing] of knownRows?.values() ?? []) {
    if (missing === 0) {
      markMissing.run(p);
      report.filesMissing++;
    }
  }
  db.transaction(() => writer.flush())();
  report.searchPending = pendingSearchIndex(db);
  opts.onProgress?.({ filesDone: files.length, filesTotal: files.length, bytesDone: bytesTotal, bytesTotal });
  return report;
}
