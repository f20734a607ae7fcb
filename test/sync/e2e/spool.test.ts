/**
 * The spool is a cache of sealed bytes (spec §7): a spooled segment whose file went missing
 * or no longer hashes to its name is never uploaded; push cuts those events again from the
 * store, and the peer ends with every event.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, listTree, setupSync } from '../../helpers/devices.js';
import { openDb } from '../../../src/store/db.js';
import { loadContext } from '../../../src/sync/context.js';
import { stage } from '../../../src/sync/push.js';

async function spoolWithoutUploading(d: Device): Promise<string[]> {
  const db = openDb(d.storeFile);
  try {
    await stage(await loadContext(db, { env: d.env }));
  } finally {
    db.close();
  }
  return readdirSync(join(d.syncDir, 'outbox'));
}

describe('a damaged spool', () => {
  for (const damage of ['flipped byte', 'missing file'] as const) {
    it(`${damage}: the bad bytes never go up, the events are cut again, the peer gets them all`, async () => {
      const bucket = fileBucket();
      const a = new Device('a');
      const b = new Device('b');
      await setupSync(['--bucket', bucket.url], a, b);
      a.addClaudeProjects('-Users-test-dev-ai-music');
      await a.ingest();
      const files = await spoolWithoutUploading(a);
      expect(files.length).toBeGreaterThan(0);
      const victim = join(a.syncDir, 'outbox', files[0]);
      if (damage === 'missing file') rmSync(victim);
      else writeFileSync(victim, Buffer.from('not the sealed bytes'));

      const pushed = await a.json(['sync', 'push']);
      expect(pushed.generation).toBe(1);
      // Nothing named after the damaged file reached the bucket.
      expect(Object.keys(listTree(bucket.dir)).some((k) => k.includes(files[0]))).toBe(false);

      await b.ok(['sync', 'pull']);
      expect((await b.daily(`device:${a.id}`)).daily).toEqual((await a.daily('local')).daily);
      expect(await b.json(['sync', 'verify'])).toMatchObject({ ok: true });
    });
  }
});
