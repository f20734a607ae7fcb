/**
 * A store holding three synced devices, made with the real CLI and the real sync (file://
 * bucket): the fixture projects are dealt round-robin to laptop, desktop and devbox, devbox
 * also holds the Codex fixtures and a copy of one laptop project (a dev container that mounts
 * the host's logs, so some events exist on two devices). All three ingest and push; the laptop
 * pulls, and its store is the one served.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Device, fileBucket, setupSync } from '../helpers/devices.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

/** The laptop project that devbox holds a copy of. */
export const SHARED_PROJECT = '-home-u-proj';

export interface ThreeDevices {
  laptop: Device;
  desktop: Device;
  devbox: Device;
  ids: { laptop: string; desktop: string; devbox: string };
}

/** Builds the three devices' stores (a few seconds: real ingest, push and pull). */
export async function threeSyncedDevices(): Promise<ThreeDevices> {
  const laptop = new Device('laptop');
  const desktop = new Device('desktop');
  const devbox = new Device('devbox');
  const devices = [laptop, desktop, devbox];
  const projects = readdirSync(join(FIXTURES_DIR, 'claude', 'projects')).sort();
  projects.forEach((p, i) => devices[i % 3].addClaudeProjects(p));
  devbox.addCodexFixtures();
  if (!projects.includes(SHARED_PROJECT) || projects.indexOf(SHARED_PROJECT) % 3 !== 0) throw new Error(`fixture ${SHARED_PROJECT} should land on the laptop`);
  devbox.addClaudeProjects(SHARED_PROJECT);

  await setupSync(['--bucket', fileBucket().url], laptop, desktop, devbox);
  for (const d of devices) {
    await d.ingest();
    await d.ok(['sync', 'push']);
  }
  await laptop.ok(['sync', 'pull']);
  return { laptop, desktop, devbox, ids: { laptop: laptop.id, desktop: desktop.id, devbox: devbox.id } };
}

/** Every log file's text under a device's Claude and Codex folders, lower-cased: to prove a phrase is only on one device. */
export function logText(d: Device): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (statSync(p).isFile()) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(d.claudeDir);
  walk(d.codexDir);
  return out.join('\n').toLowerCase();
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the page build (`scripts/build-web.mjs`, part of `npm run build`) so dist/web/ matches web/. */
export function buildWeb(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { stdio: 'pipe' });
}

/** Dashboard totals formatted as the page formats them. */
export const usd = (n: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
export const int = (n: number) => new Intl.NumberFormat('en-US').format(n);
