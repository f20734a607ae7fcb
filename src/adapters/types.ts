/**
 * The adapters' contract: how a log format is found, read line by line or whole, and turned
 * into events (the event itself is src/model/event.ts).
 */
import type { EventRecord, Provider } from '../model/event.js';

/** What a parser remembers between incremental reads of one file. JSON-serializable. */
export type ParserState = Record<string, unknown>;

/** A stateful per-file parser: fed complete lines in order; its state survives between ingests. */
export interface FileParser {
  /** Returns the events for one line; throws nothing: malformed lines return null (counted as skipped). */
  line(text: string): EventRecord[] | null;
  state(): ParserState;
}

export interface SourceFile {
  provider: Provider;
  path: string;
  /** Root it was found under (for diagnostics). */
  root: string;
  /** Set for a source read whole rather than as appended lines (a database, a JSON document: see whole.ts). */
  reader?: SourceReader;
}

/** What one read of a whole source gave. */
export interface SourceRead {
  events: EventRecord[];
  /** Where the next read resumes (JSON-serializable); kept like a line parser's state. */
  cursor: ParserState;
  /** Records read (rows, documents), and how many of them could not be understood. */
  records: number;
  malformed: number;
  /** Why the source could not be read now (locked, not the expected schema); it is read again next time. */
  unreadable?: string;
}

/**
 * A source that is not an append-only log: a database another program writes to, or a JSON
 * document rewritten in place. Ingest skips it while its stamp is unchanged, and otherwise
 * asks for what changed since the cursor; re-reading a record it already has is harmless
 * (events are upserted by identity).
 */
export interface SourceReader {
  /** Sizes and mtimes of the files that change when the source does (a database and its WAL). */
  stamp(): string;
  read(cursor: ParserState | null): SourceRead;
}

export interface Adapter {
  provider: Provider;
  /** Roots to scan, from env overrides or defaults. */
  roots(env: NodeJS.ProcessEnv): string[];
  /** The folders under a root that hold its logs: what the sync daemon watches for changes. */
  watchDirs(root: string): string[];
  /** Every log file under the roots. */
  discover(roots: string[]): Promise<SourceFile[]>;
  /** A parser for one file, resuming from `state` when the file is being read from an offset. */
  parser(file: SourceFile, state: ParserState | null): FileParser;
}
