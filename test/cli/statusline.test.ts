import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { openDb } from '../../src/store/db.js';
import { fixedClock } from '../../src/model/clock.js';
import { blocksReport } from '../../src/reports/blocks-report.js';
import { sessionReport, dailyReport } from '../../src/reports/reports.js';
import { copyFixture, FIXTURES_DIR, tempDir } from '../helpers/fixtures.js';

const SESSION = 'ba79134d-b6e9-4867-af0c-6941038c9e4b';
// Ten minutes after the fixture session's last response: its block is active.
const NOW = Date.parse('2025-06-08T11:06:00Z');

function setup() {
  const claude = copyFixture('claude');
  const transcript = join(claude, 'projects', '-Users-test-dev-ai-music', `${SESSION}.jsonl`);
  const home = tempDir('su-sl-');
  const env: NodeJS.ProcessEnv = { STACKUNDERFLOW_HOME: join(home, 'su'), HOME: home, CLAUDE_CONFIG_DIR: claude, CODEX_HOME: join(home, 'codex'), TZ: 'UTC' };
  const payload = readFileSync(join(FIXTURES_DIR, 'statusline', 'hook.json'), 'utf8').replace('TRANSCRIPT', transcript.replace(/\\/g, '\\\\'));
  return { env, transcript, payload, store: join(home, 'su', 'store.db') };
}

async function statusline(env: NodeJS.ProcessEnv, input: string | null, now = NOW) {
  let out = '';
  let err = '';
  const stdin =
    input === null
      ? undefined
      : input === 'never-closes'
        ? (async function* () { yield Buffer.from('{"model":{"display_name":"Opus"}'); await new Promise(() => {}); })()
        : Readable.from([Buffer.from(input)]);
  const code = await runCli(['statusline'], {
    env,
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    stdin,
    clock: fixedClock(now),
  });
  return { code, out, err };
}

const usd = (n: number) => '$' + n.toFixed(2);

describe('statusline', () => {
  it("prints model, session / today / block cost, time left and burn rate from a real hook payload, ingesting only that transcript", async () => {
    const s = setup();
    const r = await statusline(s.env, s.payload);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toHaveLength(2);
    const db = openDb(s.store);
    try {
      // Only the named transcript was read, not the whole Claude folder.
      expect(db.prepare('SELECT path FROM source_files').pluck().all()).toEqual([s.transcript]);
      const session = sessionReport(db, { scope: { kind: 'local' } }).sessions.find((x) => x.sessionId === SESSION)!;
      const today = dailyReport(db, { since: '2025-06-08', until: '2025-06-08', provider: 'claude', timezone: 'UTC' }).totals.totalCost;
      const active = blocksReport(db, { now: NOW, active: true, timezone: 'UTC' }).blocks[0];
      expect(active.isActive).toBe(true);
      expect(active.remainingMinutes).toBe(3 * 60 + 54); // block 10:00-15:00, now 11:06
      expect(r.out).toBe(
        `🤖 Sonnet 4 | 💰 ${usd(session.totalCost)} session / ${usd(today)} today / ${usd(active.costUSD)} block (3h 54m left) | 🔥 ${usd(active.burnRate!.costPerHour)}/hr\n`,
      );
    } finally {
      db.close();
    }
  });

  it('reads only what the transcript gained since the last call', async () => {
    const s = setup();
    const first = await statusline(s.env, s.payload);
    const line = JSON.parse(readFileSync(s.transcript, 'utf8').trim().split('\n').filter((l) => l.includes('"usage"')).pop()!);
    line.uuid = '11111111-2222-4333-a444-555555555555';
    line.message.id = 'msg_statusline_extra';
    line.requestId = 'req_statusline_extra';
    line.timestamp = '2025-06-08T11:00:00.000Z';
    line.message.usage = { input_tokens: 100_000, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    appendFileSync(s.transcript, JSON.stringify(line) + '\n');
    const second = await statusline(s.env, s.payload);
    const session = (o: string) => Number(/\$([\d.]+) session/.exec(o)![1]);
    // 100,000 Sonnet 4 input tokens at $3 per million.
    expect(session(second.out) - session(first.out)).toBeCloseTo(0.3, 2);
    const db = openDb(s.store);
    try {
      expect(db.prepare('SELECT lines FROM source_files').pluck().get()).toBe(readFileSync(s.transcript, 'utf8').trim().split('\n').length);
    } finally {
      db.close();
    }
  });

  it('a missing transcript still gives a line (nothing of the session yet), exit 0', async () => {
    const s = setup();
    const r = await statusline(s.env, s.payload.replace(`${SESSION}.jsonl`, 'gone.jsonl'));
    expect(r.code).toBe(0);
    expect(r.out).toBe('🤖 Sonnet 4 | 💰 N/A session / $0.00 today / no active block\n');
  });

  it('a broken store prints the short fallback line and exits 0', async () => {
    const s = setup();
    mkdirSync(join(s.env.STACKUNDERFLOW_HOME!), { recursive: true });
    writeFileSync(s.store, 'this is not a SQLite database, just bytes '.repeat(200));
    const r = await statusline(s.env, s.payload);
    expect(r.code).toBe(0);
    expect(r.out).toBe('🤖 Sonnet 4 | 💰 usage unavailable (stackunderflow)\n');
  });

  it('no input or junk input: the fallback line, exit 0', async () => {
    const s = setup();
    for (const input of [null, '', 'not json {']) {
      const r = await statusline(s.env, input);
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n')).toHaveLength(1);
    }
    expect((await statusline(s.env, 'not json {')).out).toBe('💰 usage unavailable (stackunderflow)\n');
  });

  it('input that never ends does not hang the prompt: the fallback line after a second', async () => {
    const s = setup();
    const t0 = Date.now();
    const r = await statusline(s.env, 'never-closes');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ code: 0, out: '💰 usage unavailable (stackunderflow)\n' });
  });
});
