/**
 * Other local users read nothing (spec §2): whatever the umask, the home and `sync/` are 0700,
 * and the store (with its -wal and -shm), the key, the spool and the logs are 0600 — after
 * init, ingest, pull and a daemon run. A home or store loosened since is tightened again on the
 * next run.
 */
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { runLockedLoop } from '../../../src/sync/host.js';
import { appendClaude, until } from '../auto/helpers.js';

const mode = (p: string) => statSync(p).mode & 0o777;

/** Every file and folder under the home with a mode group or others can use. */
function openToOthers(home: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.mode & 0o077) out.push(`${p.slice(home.length) || '/'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(home);
  return out;
}

describe('file modes under a permissive umask', () => {
  let umask: number;
  const a = new Device('a');
  const b = new Device('b');
  const bucket = fileBucket();

  beforeAll(() => {
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
  });

  it('init, ingest, push, pull and a daemon run leave nothing readable by others', async () => {
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    expect(openToOthers(a.home)).toEqual([]);
    expect(mode(a.home)).toBe(0o700);
    expect(mode(a.storeFile)).toBe(0o600);
    await setupSync(['--bucket', bucket.url], a, b);
    await a.ok(['sync', 'push']);
    await b.ok(['sync', 'pull']);
    for (const d of [a, b]) expect(openToOthers(d.home), d.name).toEqual([]);
    expect(mode(join(a.syncDir, 'identity.txt'))).toBe(0o600);
    // The bucket directory too: 0600 files, 0700 folders.
    expect(openToOthers(bucket.dir)).toEqual([]);

    appendClaude(b, { n: 2 });
    const r = await runLockedLoop({ env: b.env, mode: 'daemon', overrides: { pullInterval: 1, pushQuiet: 0.2, pushMaxWait: 1 }, log: () => undefined });
    if ('holder' in r) throw new Error('lock held');
    try {
      await until(() => existsSync(join(b.home, 'sync')) && (b.withDb((db) => db.prepare('SELECT last_sync_event_id FROM sync_state').pluck().get() as number) ?? 0) > 0, 20_000, 'the daemon pushed');
    } finally {
      await r.loop.stop();
      await r.finished;
    }
    expect(openToOthers(b.home)).toEqual([]);
  });

  it('a home and store loosened since are tightened again by the next command', async () => {
    chmodSync(a.home, 0o755);
    chmodSync(a.storeFile, 0o644);
    for (const side of ['-wal', '-shm']) if (existsSync(a.storeFile + side)) chmodSync(a.storeFile + side, 0o644);
    chmodSync(a.syncDir, 0o755);
    await a.ingest();
    await a.ok(['sync', 'pull']);
    expect(openToOthers(a.home)).toEqual([]);
  });
});
