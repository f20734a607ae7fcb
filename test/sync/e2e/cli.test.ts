/**
 * The `sync` command group as a user meets it: documented exit codes
 * (0 ok, 2 configuration/key, 64 usage), what each command prints before and after
 * `sync init`, the --json shapes, and the key box rules of spec §3.5.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Identity, fingerprint } from '../../../src/sync/crypto.js';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';

describe('before sync init', () => {
  const d = new Device('fresh');

  it('status says sync is off and how to turn it on (exit 0); --json says enabled: false', async () => {
    const r = await d.ok(['sync', 'status']);
    expect(r.stdout).toMatch(/Sync is off/);
    expect(r.stdout).toMatch(/sync init --bucket/);
    const j = await d.json(['sync', 'status']);
    expect(j).toMatchObject({ enabled: false, bucket: null, keyFingerprint: null, peers: [] });
    expect(j.device.id).toBe(d.id);
  });

  it('push, pull, verify and key export: exit 2 with a hint naming `sync init`', async () => {
    for (const cmd of [['sync', 'push'], ['sync', 'pull'], ['sync', 'verify'], ['sync', 'key', 'export'], ['sync', 'push', '--json']]) {
      const r = await d.run(cmd);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(/hint: .*sync init/);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(d.syncDir) && existsSync(join(d.syncDir, 'identity.txt'))).toBe(false);
  });

  it('usage errors exit 64 and write nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sync', 'init'], /--bucket/],
      [['sync', 'init', '--bucket', 'ftp://example.com/x'], /scheme/],
      [['sync', 'init', '--bucket', 's3://b'], /bucket name/],
      [['sync', 'init', '--bucket', 'file://relative/dir'], /file/],
      [['sync', 'init', '--bucket', 's3://bucket/a/../b'], /\.\./],
      [['sync', 'key', 'export', '--json'], /JSON/],
      [['sync', 'shove'], /unknown command|shove/],
      [['sync', 'push', '--force'], /unknown option/],
    ];
    for (const [argv, msg] of cases) {
      const r = await d.run(argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.stderr, argv.join(' ')).toMatch(msg);
    }
    const creds = await d.run(['sync', 'init', '--bucket', 's3://AKIAXXXX:hunter2secret@bucket/p']);
    expect(creds.code).toBe(64);
    expect(creds.stderr).not.toContain('hunter2secret');
    expect((await d.json(['sync', 'status'])).enabled).toBe(false);
  });

  it('sync --help documents the exit codes', async () => {
    const r = await d.run(['sync', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 configuration or key error, 3 bucket unreachable.*4 integrity error, 64 usage error/s);
  });
});

describe('sync init output', () => {
  it('--json: no key in the JSON, the box without the key on stderr, the key kept in a 0600 file', async () => {
    const d = new Device('jsonfirst');
    const bucket = fileBucket();
    const r = await d.run(['sync', 'init', '--bucket', bucket.url, '--json', '--device-name', 'jf']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ mode: 'created', deviceId: d.id, deviceName: 'jf', keySource: 'file', keyShown: false, conditionalWrites: true });
    expect(j.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).not.toMatch(/AGE-SECRET-KEY/);
    expect(r.stderr).toMatch(/SHOWN ONCE/);
    expect(r.stderr).toMatch(/sync key export/);
    expect(r.stderr).not.toMatch(/AGE-SECRET-KEY/);
    expect(r.stderr).toContain(j.fingerprint.slice(0, 16));
    const keyFile = join(d.syncDir, 'identity.txt');
    expect(j.keyFile).toBe(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The key export prints the key whose fingerprint init published.
    const exported = await d.ok(['sync', 'key', 'export']);
    expect(fingerprint(await (await Identity.parse(exported.stdout.trim())).recipient())).toBe(j.fingerprint);
    // Once, on stdout only: the box on stderr does not repeat it.
    const k = exported.stdout.trim();
    expect(exported.stdout.split(k)).toHaveLength(2);
    expect(exported.stderr).not.toContain(k);
    expect(exported.stderr).toMatch(/printed on standard output/);
  });

  it('text: device, bucket, fingerprint, conditional writes, what the bucket can see, and the key box once', async () => {
    const d = new Device('textfirst');
    const bucket = fileBucket();
    const r = await d.ok(['sync', 'init', '--bucket', bucket.url, '--device-name', 'tf']);
    const key = (await d.ok(['sync', 'key', 'export'])).stdout.trim();
    expect(r.stdout).toMatch(/Sync set up: file:\/\//);
    expect(r.stdout).toContain(`Device: tf (${d.id})`);
    expect(r.stdout).toMatch(/Conditional writes: yes/);
    // What each party can and cannot do, as the spec's threat model says it.
    expect(r.stdout).toMatch(/never an event/);
    expect(r.stdout).toMatch(/cannot add or change events/);
    expect(r.stdout).toMatch(/public recipient \(age1\.\.\.\) lets someone encrypt to you, not write events you accept/);
    expect(r.stdout).toMatch(/Other users of this machine cannot read/);
    expect(r.stdout).toMatch(/joining device trusts the manifests it finds on its first pull/);
    expect(r.stdout).not.toMatch(/cannot forge or roll back events unnoticed/);
    expect(r.stdout.split(key)).toHaveLength(2);
    // The box is 80 columns of ASCII.
    const box = r.stdout.split('\n').filter((l) => l.startsWith('+') || l.startsWith('|'));
    expect(box.length).toBeGreaterThanOrEqual(10);
    for (const l of box) expect(l).toMatch(/^[\x20-\x7e]{80}$/);

    // A joining device: no box, no key, and the key is not stored by us.
    const j = new Device('joiner', { env: { STACKUNDERFLOW_SYNC_KEY: key } });
    const joined = await j.ok(['sync', 'init', '--bucket', bucket.url]);
    expect(joined.stdout).toMatch(/^Joined: /);
    expect(joined.stdout).not.toMatch(/SHOWN ONCE/);
    expect(joined.stdout + joined.stderr).not.toContain(key);
    expect(joined.stdout).toMatch(/from STACKUNDERFLOW_SYNC_KEY/);
    expect(existsSync(join(j.syncDir, 'identity.txt'))).toBe(false);
  });
});

describe('after sync init', () => {
  it('push, pull, status and verify in text form', async () => {
    const a = new Device('alpha');
    const b = new Device('beta');
    const bucket = fileBucket();
    await setupSync(['--bucket', bucket.url], a, b);
    expect((await a.ok(['sync', 'verify'])).stdout).toMatch(/no device manifests yet/);
    expect((await a.ok(['sync', 'pull'])).stdout).toMatch(/No other device has pushed/);
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    const events = a.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);

    const pending = await a.ok(['sync', 'status']);
    expect(pending.stdout).toMatch(new RegExp(`Pending events:\\s+${events}\\b`));
    // The pull above was a sync too: it is the last one, though nothing was pushed yet.
    expect(pending.stdout).toMatch(/Last sync:\s+\d{4}-\d{2}-\d{2}T/);
    expect(pending.stdout).toMatch(/Last pushed seq:\s+0\b/);

    const pushed = await a.ok(['sync', 'push']);
    expect(pushed.stdout).toMatch(new RegExp(`Pushed ${events} new event\\(s\\) in 1 segment\\(s\\), .*; manifest generation 1\\.`));
    const pulled = await b.ok(['sync', 'pull']);
    expect(pulled.stdout).toContain(`alpha (${a.id}): merged ${events} event(s) from 1 segment(s)`);
    expect((await b.ok(['sync', 'pull'])).stdout).toContain(`alpha (${a.id}): up to date`);

    const st = await b.ok(['sync', 'status']);
    expect(st.stdout).toContain(`Device:            beta (${b.id})`);
    expect(st.stdout).toContain(`Bucket:            ${bucket.url}`);
    expect(st.stdout).toMatch(/key from \$STACKUNDERFLOW_SYNC_KEY/);
    expect(st.stdout).toContain(`alpha (${a.id}): ${events} events`);
    expect(st.stdout).toMatch(new RegExp(`Remote events:\\s+${events} merged`));

    const v = await b.ok(['sync', 'verify']);
    expect(v.stdout).toMatch(new RegExp(`^ok   alpha \\(${a.id}\\): generation 1, 1 segment\\(s\\), ${events} event\\(s\\)`, 'm'));

    const remote = await b.json(['sync', 'status', '--remote']);
    expect(remote.remote.devices).toEqual([{ id: a.id, objects: 2, bytes: expect.any(Number) }]);
  });

  it('a long push shows progress on a terminal, and nothing on a pipe', async () => {
    const a = new Device('tty');
    await setupSync(['--bucket', fileBucket().url], a);
    a.addClaudeProjects('-home-marco-projects-spotter-worktrees-spotter-4te');
    await a.ingest();
    const tty = await a.run(['sync', 'push'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/Pushing/);
    a.addClaudeProjects('-home-u-proj');
    await a.ingest();
    const pipe = await a.run(['sync', 'push']);
    expect(pipe.code).toBe(0);
    expect(pipe.stderr).toBe('');
  });
});
