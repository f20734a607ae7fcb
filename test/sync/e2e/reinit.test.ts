/**
 * `sync init --force` is for replacing a key or a bucket. Forcing a re-run with the same
 * bucket and key must not make the device forget what it pushed (its next push would take
 * its own segments for a copied store's), and a forced join uses the key file when that key
 * is the bucket's.
 */
import { describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';

describe('sync init --force', () => {
  it('on the same bucket and key keeps what was pushed: the next push just pushes', async () => {
    const bucket = fileBucket();
    const a = new Device('a');
    const b = new Device('b');
    await setupSync(['--bucket', bucket.url], a, b);
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    expect((await a.json(['sync', 'push'])).generation).toBe(1);

    await a.ok(['sync', 'init', '--bucket', bucket.url, '--force']);
    a.addClaudeProjects('-repo');
    await a.ingest();
    const second = await a.run(['sync', 'push', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).generation).toBe(2);
    await b.ok(['sync', 'pull']);
    expect((await b.daily(`device:${a.id}`)).daily).toEqual((await a.daily('local')).daily);
  });

  it('joining a bucket the key file already opens uses that key', async () => {
    const bucket = fileBucket();
    const a = new Device('a');
    await setupSync(['--bucket', bucket.url], a);
    const fp = (await a.json(['sync', 'status'])).keyFingerprint;
    const r = await a.run(['sync', 'init', '--bucket', bucket.url, '--force', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fingerprint: fp, mode: 'joined' });
  });
});
