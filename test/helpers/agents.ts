import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Adapter, FileParser, ParserState, SourceFile } from '../../src/adapters/types.js';
import type { EventRecord } from '../../src/model/event.js';
import { ingest } from '../../src/ingest/index.js';
import { openDb, type Db } from '../../src/store/db.js';
import { tempDir } from './fixtures.js';

/** Parses a file through its adapter's line parser: trimmed non-empty lines, or (a `.json` document) the whole text at once. */
export function parseFile(adapter: Adapter, path: string, state: ParserState | null = null, format: 'lines' | 'document' = path.endsWith('.json') ? 'document' : 'lines'): { events: EventRecord[]; malformed: number[]; parser: FileParser } {
  const file: SourceFile = { provider: adapter.provider, path, root: '' };
  const parser = adapter.parser(file, state);
  const text = readFileSync(path, 'utf8');
  const events: EventRecord[] = [];
  const malformed: number[] = [];
  const pieces = format === 'document' ? [text] : text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  pieces.forEach((l, i) => {
    const r = parser.line(l);
    if (r === null) malformed.push(i + 1);
    else events.push(...r);
  });
  return { events, malformed, parser };
}

/** The last version of each event (as the store keeps them): later copies of a uid replace earlier ones. */
export function latest(events: EventRecord[]): EventRecord[] {
  const m = new Map<string, EventRecord>();
  for (const e of events) m.set(e.uid, e);
  return [...m.values()];
}

/** A fresh store and an ingest of one adapter with the given environment. */
export function agentStore(adapter: Adapter, env: NodeJS.ProcessEnv): { db: Db; run: () => ReturnType<typeof ingest> } {
  const db = openDb(join(tempDir('su-agent-'), 'store.db'));
  return { db, run: () => ingest(db, { adapters: [adapter], env: { HOME: tempDir('su-home-'), ...env } }) };
}

/** Sums of billed usage per UTC day (the store's billing facts). */
export function billedByDay(db: Db, provider: string): Array<Record<string, number | string>> {
  return db
    .prepare(
      `SELECT substr(ts, 1, 10) AS date, SUM(input_tokens) AS input, SUM(output_tokens) AS output,
        SUM(cache_creation_tokens) AS cacheCreation, SUM(cache_read_tokens) AS cacheRead, SUM(reasoning_tokens) AS reasoning,
        SUM(total_tokens) AS total
      FROM usage WHERE provider = ? GROUP BY 1 ORDER BY 1`,
    )
    .all(provider) as Array<Record<string, number | string>>;
}
