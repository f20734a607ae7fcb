/**
 * A bucket writer without the key puts back this device's own manifest from before a
 * compaction (spec §7.4, §12): it lists segments the compaction retired. Until the next push,
 * `sync verify` says it is older than what this device wrote (exit 4); the next push is not
 * blocked (it used to fail for good, blaming a copied store) and writes a generation above it,
 * and peers land everything.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { manifestKey } from '../../../src/sync/layout.js';

describe('a replayed own manifest from before a compaction', () => {
  it('heals on the next push', async () => {
    const a = new Device('a');
    const b = new Device('b');
    const bucket = fileBucket();
    await setupSync(['--bucket', bucket.url], a, b);
    for (const slug of ['-home-u-proj', '-repo']) {
      a.addClaudeProjects(slug);
      await a.ingest();
      await a.ok(['sync', 'push']);
    }
    const file = join(bucket.dir, manifestKey(a.id));
    const beforeCompaction = readFileSync(file);
    const compacted = await a.json(['sync', 'prune', '--compact']);
    expect(compacted.compaction ?? compacted).toBeTruthy();
    expect(a.withDb((db) => db.prepare('SELECT COUNT(*) FROM sync_retired').pluck().get())).toBeGreaterThan(0);
    const generation = Number(a.withDb((db) => db.prepare("SELECT value FROM sync_settings WHERE key = 'generation'").pluck().get()));
    expect(generation).toBe(3);

    writeFileSync(file, beforeCompaction);
    const v = await a.run(['sync', 'verify']);
    expect(v.code).toBe(4);
    expect(v.stdout).toMatch(/generation 2, older than generation 3 this device already wrote/);

    a.addClaudeProjects('-app');
    await a.ingest();
    const pushed = await a.run(['sync', 'push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout).generation).toBe(4);
    expect((await a.run(['sync', 'verify'])).code).toBe(0);
    await b.ok(['sync', 'pull']);
    const count = (d: Device) => d.withDb((db) => db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck().get(a.id));
    expect(count(b)).toBe(count(a));
  });
});
