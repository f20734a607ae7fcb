import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { writeAgentLogs } from '../helpers/agentLogs.js';
import { tempDir } from '../helpers/fixtures.js';

async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, isTTY: false, stderrIsTTY: false });
  return { code, stdout, stderr };
}

let env: NodeJS.ProcessEnv;
let ingested: string;
beforeAll(async () => {
  const dir = tempDir('su-cli-agents-');
  mkdirSync(join(dir, 'claude'));
  mkdirSync(join(dir, 'codex'));
  env = { ...writeAgentLogs(dir), STACKUNDERFLOW_HOME: join(dir, 'home'), TZ: 'UTC', HOME: dir, CLAUDE_CONFIG_DIR: join(dir, 'claude'), CODEX_HOME: join(dir, 'codex') };
  const r = await cli(['ingest'], env);
  expect(r.code, r.stderr).toBe(0);
  ingested = r.stdout;
});

describe('OpenCode and pi, end to end from the CLI', () => {
  it('ingest names their folders and the records it could not read', () => {
    expect(ingested).toContain(`OpenCode logs: ${env.OPENCODE_DATA_DIR}`);
    expect(ingested).toContain(`pi logs: ${env.PI_AGENT_DIR!.replace(',', ', ')}`);
    expect(ingested).toMatch(/Malformed lines skipped: 3\n/);
    expect(ingested).toMatch(/opencode\.db: 1\n/);
  });

  it('a second ingest reads nothing', async () => {
    const r = await cli(['ingest'], env);
    expect(r.stdout).toMatch(/Files: 9 found, 0 read \(0 B, 0 lines\), 9 unchanged\./);
  });

  it('reports each agent by day, with its own totals', async () => {
    const oc = await cli(['report', 'daily', '--provider', 'opencode', '--json'], env);
    expect(oc.code, oc.stderr).toBe(0);
    const days = JSON.parse(oc.stdout).daily;
    expect(days.map((d: any) => [d.date, d.totalTokens])).toEqual([['2025-12-01', 7_600], ['2026-01-01', 16_770 + 11_000]]);
    expect(days[1].reasoningTokens).toBe(250 + 600);
    const pi = JSON.parse((await cli(['report', 'daily', '--provider', 'pi', '--json'], env)).stdout).daily;
    expect(pi.map((d: any) => [d.date, d.totalTokens])).toEqual([
      ['2025-11-20', 1_001_063], ['2025-11-21', 46_608_843], ['2026-01-02', 5_352 + 5_346], ['2026-01-03', 3_700],
    ]);
  });

  it('reports sessions, sub-agent sessions among them', async () => {
    const r = await cli(['report', 'session', '--provider', 'opencode', '--json'], env);
    const sessions = JSON.parse(r.stdout).sessions.map((s: any) => s.sessionId).sort();
    expect(sessions).toEqual(['ses_main01', 'ses_old01', 'ses_sub001']);
  });

  it('searches their prompts, replies and tool output', async () => {
    const r = await cli(['search', 'checkout', '--json'], env);
    const hits = JSON.parse(r.stdout).results.map((h: any) => `${h.provider} ${h.sessionId}`);
    expect(hits).toContain('opencode ses_main01');
    expect(hits).toContain('pi 0b6c1f0e-5a4e-4c57-9d2f-6f1b2a9c3e11');
  });

  it('shows a session with the cost the agent logged beside ours', async () => {
    const oc = await cli(['show', 'ses_main01'], env);
    expect(oc.code, oc.stderr).toBe(0);
    expect(oc.stdout).toContain('Refactor the cart module into smaller functions');
    expect(oc.stdout).toMatch(/→ edit\n {4}I split checkout\(\) into price\(\), tax\(\) and total\(\)\.\n {4}↳ in 120 · out 1,150 · cache write 3,500 · cache read 12,000 · \$0\.0343 · agent logged \$0\.0218\n/);
    const pi = await cli(['show', '0b6c1f0e', '--json'], env);
    const conv = JSON.parse(pi.stdout);
    expect(conv.session.provider).toBe('pi');
    const billed = conv.turns.filter((t: any) => t.usage).map((t: any) => t.usage);
    expect(billed.map((u: any) => u.loggedCost)).toEqual([{ usd: 0.021636 }, { usd: 0.006012 }]);
    expect(billed.map((u: any) => u.cost)).toEqual([0.021636, 0.006012]); // pi's prices are the list prices we use
  });

  it('leaves a model without a list price unpriced, its logged cost still shown', async () => {
    const dir = join(env.PI_AGENT_DIR!.split(',')[0], '--home-dev-zen--');
    mkdirSync(dir);
    const reply = {
      role: 'assistant', content: [{ type: 'text', text: 'done' }], api: 'openai-completions', provider: 'opencode', model: 'big-pickle', stopReason: 'stop', timestamp: 1767600000000,
      usage: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0, totalTokens: 30, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0.0001 } },
    };
    writeFileSync(join(dir, '2026-01-05T08-00-00-000Z_zen-1.jsonl'), [
      { type: 'session', version: 3, id: 'zen-1', timestamp: '2026-01-05T08:00:00.000Z', cwd: '/home/dev/zen' },
      { type: 'message', id: 'd0000001', parentId: null, timestamp: '2026-01-05T08:00:00.500Z', message: reply },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect((await cli(['ingest'], env)).stdout).toMatch(/Files: 10 found, 1 read/);
    const day = JSON.parse((await cli(['report', 'daily', '--provider', 'pi', '--since', '2026-01-05', '--json'], env)).stdout).daily[0];
    expect(day).toMatchObject({ unpricedModels: ['big-pickle'], unpricedTokens: 30, totalCost: 0, totalTokens: 30 });
    const shown = await cli(['show', 'zen-1'], env);
    expect(shown.stdout).toContain('cost ? (no price) · agent logged $0.0001');
  });

  it('names a database it cannot read, and reads the rest', async () => {
    const broken = join(env.OPENCODE_DATA_DIR!, 'opencode-broken.db');
    writeFileSync(broken, 'this is not a database, whatever its name says\n'.repeat(200));
    const r = await cli(['ingest'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Could not be read now (read again at the next ingest; nothing is lost):\n  ${broken}: file is not a database\n`);
    expect(r.stdout).not.toMatch(/Malformed/);
  });
});
