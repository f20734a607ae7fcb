import { cpSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { fixedClock } from '../../src/model/clock.js';
import { Device, fileBucket, setupSync } from '../helpers/devices.js';
import { tempDir } from '../helpers/fixtures.js';
import { writeResponseLogs } from '../helpers/responses.js';

/**
 * One subscription used on two machines: the 5-hour window is the account's, so blocks in the
 * `all` scope (the default once a device has pulled) are built from both devices' responses
 * together, exactly as if one machine had written every log.
 */
describe('blocks across two synced devices', () => {
  const laptop = new Device('laptop');
  const workbox = new Device('workbox');
  const both = new Device('one-machine');

  let lastMs = 0;
  beforeAll(async () => {
    // One timeline of responses in two projects: project 0 on the laptop, project 1 on the work machine.
    const logs = tempDir('su-blocks-logs-');
    const stamps = writeResponseLogs(logs, { seed: 21, start: '2026-03-01T06:20:00Z', responses: 300, projects: 2 });
    lastMs = stamps[stamps.length - 1];
    for (const slug of readdirSync(join(logs, 'projects'))) {
      const owner = slug.endsWith('proj0') ? laptop : workbox;
      cpSync(join(logs, 'projects', slug), join(owner.claudeDir, 'projects', slug), { recursive: true });
      cpSync(join(logs, 'projects', slug), join(both.claudeDir, 'projects', slug), { recursive: true });
    }
    await setupSync(['--bucket', fileBucket().url], laptop, workbox);
    for (const d of [laptop, workbox, both]) await d.ingest();
    await laptop.ok(['sync', 'push']);
    await workbox.ok(['sync', 'push']);
    await laptop.ok(['sync', 'pull']);
  }, 120_000);

  const blocks = (d: Device, ...args: string[]) => d.json(['report', 'blocks', '-z', 'UTC', ...args]).then((r) => r.blocks as any[]);
  const strip = (bs: any[]) => bs.map(({ devices: _d, ...b }) => b);

  it("the pulled device's default blocks are those of one machine holding every log", async () => {
    const all = await blocks(laptop);
    expect(all.length).toBeGreaterThan(5);
    expect(strip(all)).toEqual(strip(await blocks(both, '--scope', 'local')));
  });

  it('differ from either device alone: the windows join both machines', async () => {
    const all = await blocks(laptop);
    const own = await blocks(laptop, '--scope', 'local');
    const theirs = await blocks(workbox, '--scope', 'local');
    expect(own).not.toEqual(all);
    const sum = (bs: any[]) => bs.reduce((a, b) => a + b.totalTokens, 0);
    expect(sum(own) + sum(theirs)).toBe(sum(all));
    // Somewhere a window holds responses from both machines.
    expect(all.filter((b) => !b.isGap).length).toBeLessThan(own.filter((b: any) => !b.isGap).length + theirs.filter((b: any) => !b.isGap).length);
  });

  it("--by-device splits each block by machine, and the shares add up to the block", async () => {
    const split = await blocks(laptop, '--by-device');
    const names = new Set<string>();
    let mixed = 0;
    for (const b of split.filter((x) => !x.isGap)) {
      expect(b.devices.reduce((a: number, d: any) => a + d.totalTokens, 0)).toBe(b.totalTokens);
      expect(b.devices.reduce((a: number, d: any) => a + d.entries, 0)).toBe(b.entries);
      expect(b.devices.reduce((a: number, d: any) => a + d.costUSD, 0)).toBeCloseTo(b.costUSD, 9);
      for (const d of b.devices) names.add(d.deviceName);
      if (b.devices.length === 2) mixed++;
    }
    expect([...names].sort()).toEqual(['laptop', 'workbox']);
    expect(mixed).toBeGreaterThan(0);
    const table = (await laptop.ok(['report', 'blocks', '-z', 'UTC', '--by-device'])).stdout;
    expect(table).toMatch(/└ laptop/);
    expect(table).toMatch(/└ workbox/);
  });

  it("statusline's today and block cover both machines", async () => {
    const now = lastMs + 10 * 60_000;
    const day = new Date(now).toISOString().slice(0, 10);
    const transcript = readdirSync(join(laptop.claudeDir, 'projects', '-home-dev-proj0')).map((f) => join(laptop.claudeDir, 'projects', '-home-dev-proj0', f))[0];
    let out = '';
    const code = await runCli(['statusline'], {
      env: laptop.env,
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: () => true },
      stdin: Readable.from([JSON.stringify({ session_id: 'x', transcript_path: transcript, model: { display_name: 'Opus' } })]),
      clock: fixedClock(now),
    });
    expect(code).toBe(0);
    const today = await laptop.json(['report', 'daily', '-z', 'UTC', '--since', day, '--until', day, '--provider', 'claude']);
    const active = (await laptop.json(['report', 'blocks', '-z', 'UTC', '--active'], { clock: fixedClock(now) })).blocks[0];
    expect(out).toContain(`$${today.totals.totalCost.toFixed(2)} today (all devices)`);
    expect(out).toContain(`$${active.costUSD.toFixed(2)} block`);
  });
});
