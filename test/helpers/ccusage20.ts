import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';

/**
 * ccusage 20.0.24, the native (Rust) build, installed on demand into a cached temp folder:
 * its binary comes in a per-platform package that npm does not pull in by itself, so both are
 * named. `reason` says why it is unavailable (a platform without a published binary, no npm).
 */
export const CCUSAGE20 = '20.0.24';

export function installCcusage20(dir = join(tmpdir(), `stackunderflow-ccusage-${CCUSAGE20}`)): { bin: string } | { reason: string } {
  const platformPkg = `@ccusage/ccusage-${process.platform}-${process.arch}`;
  const bin = join(dir, 'node_modules', ...platformPkg.split('/'), 'bin', process.platform === 'win32' ? 'ccusage.exe' : 'ccusage');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"ccusage-cache","private":true}\n');
    try {
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `ccusage@${CCUSAGE20}`, `${platformPkg}@${CCUSAGE20}`], {
        cwd: dir,
        stdio: 'pipe',
        timeout: 180_000,
        shell: process.platform === 'win32',
      });
    } catch (err) {
      const msg = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message);
      return { reason: `ccusage ${CCUSAGE20} has no native binary here (${platformPkg}: ${/E404|404 Not Found/.test(msg) ? 'not published' : msg.trim().split('\n').pop()})` };
    }
    if (!existsSync(bin)) return { reason: `ccusage ${CCUSAGE20}: ${platformPkg} installed no binary` };
  }
  if (process.platform !== 'win32') chmodSync(bin, 0o755);
  return { bin };
}

/**
 * The binary for a comparison test, or why the test is skipped. Under CI a platform that has
 * a binary must run the comparison: only a binary that is not published may skip it.
 */
export function ccusage20ForTests(): { bin: string; skip: string | null } {
  const cc = installCcusage20();
  if ('bin' in cc) return { bin: cc.bin, skip: null };
  if (process.env.CI && !/not published/.test(cc.reason)) throw new Error(cc.reason);
  return { bin: '', skip: cc.reason };
}

/** Runs `ccusage claude <args> --json --offline` over one Claude config dir, nothing of the real user's. */
export function ccusage20Json(bin: string, claudeDir: string, args: string[]): unknown {
  const home = tempDir('su-cc20home-');
  const out = execFileSync(bin, ['claude', ...args, '--json', '--offline'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, '.config'), CLAUDE_CONFIG_DIR: claudeDir, NO_COLOR: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out);
}

/** One day of `ccusage <agent> daily --json`, the counters both tools report. */
export interface Ccusage20Day {
  date: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
}

/** `ccusage <agent> daily --json --offline -z UTC` with the agent's variables only (nothing of the real user's). */
export function ccusage20AgentDaily(bin: string, agent: string, env: NodeJS.ProcessEnv): Ccusage20Day[] {
  const home = tempDir('su-cc20-');
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.includes(CCUSAGE20)) throw new Error(`the comparison is pinned to ccusage ${CCUSAGE20}, found ${version}`);
  const out = execFileSync(bin, [agent, 'daily', '--json', '--offline', '-z', 'UTC'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { daily: Ccusage20Day[] }).daily.map((d) => ({
    date: d.date, inputTokens: d.inputTokens, outputTokens: d.outputTokens, cacheCreationTokens: d.cacheCreationTokens,
    cacheReadTokens: d.cacheReadTokens, totalTokens: d.totalTokens,
  }));
}
