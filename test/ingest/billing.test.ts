import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/adapters/claude/index.js';
import { openDb } from '../../src/store/db.js';
import { ingest } from '../../src/ingest/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { ccusageDaily, storeDaily } from '../helpers/ccusage.js';

/** Writes `files` (relative to projects/) under a fresh Claude root and ingests them. */
async function ingestFiles(files: Record<string, object[]>) {
  const root = join(tempDir(), 'claude');
  for (const [rel, recs] of Object.entries(files)) {
    const p = join(root, 'projects', rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, recs.map((r) => JSON.stringify(r) + '\n').join(''));
  }
  const db = openDb(join(tempDir(), 'store.db'));
  await ingest(db, { adapters: [claudeAdapter], env: { CLAUDE_CONFIG_DIR: root } });
  return { root, db };
}

const base = { sessionId: 's1', cwd: '/w', version: '2.0.1', timestamp: '2025-07-01T10:00:00.000Z' };
const assistant = (uuid: string, id: string, req: string | undefined, input: number, output: number, ts = base.timestamp) => ({
  ...base,
  timestamp: ts,
  type: 'assistant',
  uuid,
  ...(req ? { requestId: req } : {}),
  message: { id, model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: input, output_tokens: output } },
});
const user = (uuid: string) => ({ ...base, type: 'user', uuid, message: { role: 'user', content: 'hi' } });

describe('billing facts of Claude events', () => {
  it('bills a usage key first seen on an event that changed (same session+uuid reused with other content)', async () => {
    // The -tmp/dag_*.jsonl fixtures do this: uuid "d" is an assistant in one file and a user in another,
    // uuid "e" the other way round. ccusage bills both messages; the store must too.
    const { root, db } = await ingestFiles({
      '-w/a.jsonl': [user('e'), assistant('d', 'd', 'req_2', 15, 8)],
      '-w/b.jsonl': [user('d'), assistant('e', 'e', 'req_2', 20, 9)],
    });
    const keys = db.prepare('SELECT usage_key FROM usage ORDER BY usage_key').pluck().all();
    expect(keys).toEqual(['d:req_2', 'e:req_2']);
    expect(storeDaily(db)).toEqual(ccusageDaily(root));
  });

  it('keeps the earliest split of a message across midnight, as ccusage keeps the first seen', async () => {
    const { root, db } = await ingestFiles({
      '-w/a.jsonl': [assistant('x1', 'm', 'r', 5, 1, '2025-07-01T23:59:59.990Z'), assistant('x2', 'm', 'r', 5, 300, '2025-07-02T00:00:00.010Z')],
    });
    expect(storeDaily(db)).toEqual([{ date: '2025-07-01', inputTokens: 5, outputTokens: 1, cacheCreationTokens: 0, cacheReadTokens: 0 }]);
    expect(storeDaily(db)).toEqual(ccusageDaily(root));
  });

  it('known difference: a verbatim copy of a line without requestId is billed once here, twice by ccusage', async () => {
    const line = assistant('same-uuid', 'm1', undefined, 10, 10);
    const { root, db } = await ingestFiles({ '-w/a.jsonl': [line], '-w/b.jsonl': [line] });
    expect(storeDaily(db)[0].inputTokens).toBe(10);
    expect(ccusageDaily(root)[0].inputTokens).toBe(20);
  });
});
