/**
 * Every agent's events travel: a device that ingested Copilot, Gemini and Qwen logs pushes,
 * another pulls, and its union reports show them per agent with the same numbers. An event of
 * an agent this version does not know (what an older device meets when a newer one adds an
 * agent) is landed as it is and reported under its name: the pull never fails on it.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventUid } from '../../../src/model/identity.js';
import type { EventRecord } from '../../../src/model/event.js';
import { ensureDeviceId } from '../../../src/store/db.js';
import { LocalEventWriter } from '../../../src/store/events.js';
import { Hlc, systemClock } from '../../../src/model/clock.js';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { FIXTURES_DIR } from '../../helpers/fixtures.js';

const FUTURE: EventRecord = {
  uid: eventUid('zeta' as never, 'z-session', 'z-1'),
  provider: 'zeta' as never,
  project: '-home-dev-shop',
  projectPath: '/home/dev/shop',
  session: 'z-session',
  record: 'z-1',
  ts: '2026-05-04T12:00:00.000Z',
  kind: 'assistant',
  model: 'zeta-large-1',
  sidechain: false,
  agent: null,
  usageKey: eventUid('zeta' as never, 'z-session', 'z-1'),
  usage: { inputTokens: 100, outputTokens: 20, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 120 },
  text: 'a reply from an agent this version does not know',
  extra: null,
};

const models = (r: any) =>
  r.models.map((m: any) => [m.provider, m.modelName, m.inputTokens, m.outputTokens, m.cacheReadTokens, m.cacheCreationTokens]).sort();

describe('sync carries every agent', () => {
  const env = {
    COPILOT_HOME: join(FIXTURES_DIR, 'copilot'),
    GEMINI_CLI_HOME: join(FIXTURES_DIR, 'gemini'),
    QWEN_DATA_DIR: join(FIXTURES_DIR, 'qwen'),
  };
  const laptop = new Device('laptop', { env });
  const desk = new Device('desk');
  let local: any;

  beforeAll(async () => {
    await setupSync(['--bucket', fileBucket().url], laptop, desk);
    const ingested = await laptop.json(['ingest']);
    expect(Object.keys(ingested.byProvider)).toEqual(['claude', 'codex', 'copilot', 'gemini', 'qwen', 'opencode', 'pi']);
    laptop.withDb((db) => {
      const w = new LocalEventWriter(db, ensureDeviceId(db), new Hlc(systemClock));
      db.transaction(() => w.write([FUTURE]))();
      w.flush();
    });
    local = await laptop.json(['report', 'model', '-z', 'UTC', '--scope', 'local']);
    await laptop.ok(['sync', 'push']);
    await desk.ok(['sync', 'pull']);
  });

  it('the other device reports the same usage per agent and model', async () => {
    const union = await desk.json(['report', 'model', '-z', 'UTC', '--scope', 'all']);
    expect(models(union)).toEqual(models(local));
    expect(new Set(union.models.map((m: any) => m.provider))).toEqual(new Set(['copilot', 'gemini', 'qwen', 'zeta']));
  });

  it('report project breaks a project down by agent, with the same sums', async () => {
    const projects = (await desk.json(['report', 'project', '-z', 'UTC', '--scope', 'all'])).projects;
    const shop = projects.find((p: any) => p.project === '-home-dev-shop');
    expect(shop.providers).toEqual(['copilot', 'gemini', 'zeta']);
    expect(shop.agentBreakdowns.map((a: any) => [a.provider, a.totalTokens])).toEqual([
      ['copilot', 53000],
      ['gemini', 36930 + 9200],
      ['zeta', 120],
    ]);
    const sum = shop.agentBreakdowns.reduce((n: number, a: any) => n + a.totalTokens, 0);
    expect(sum).toBe(shop.totalTokens);
    const human = (await desk.ok(['report', 'project', '-z', 'UTC', '--scope', 'all'])).stdout;
    expect(human).toMatch(/-home-dev-shop\s+copilot, gemini, zeta/);
  });

  it('an unknown agent is landed as it is: reported under its name, unpriced, searchable', async () => {
    const zeta = (await desk.json(['report', 'model', '-z', 'UTC', '--scope', 'all'])).models.find((m: any) => m.provider === 'zeta');
    expect(zeta).toMatchObject({ modelName: 'zeta-large-1', inputTokens: 100, outputTokens: 20, totalCost: null });
    const hits = await desk.json(['search', 'agent this version does not know', '--scope', 'all']);
    expect(JSON.stringify(hits)).toContain('zeta');
  });

  it('the new agents\' sessions are searchable and shown on the other device', async () => {
    const hits = await desk.json(['search', 'healthz', '--scope', 'all']);
    expect(JSON.stringify(hits)).toContain('copilot');
    const shown = await desk.run(['show', '0f1e2d3c-4b5a-4697-8879-aabbccddeeff', '--scope', 'all']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('health check');
    // Copilot's own measure of the request, beside our computed cost
    expect(shown.stdout).toMatch(/claude-sonnet-4\.5 · in 4,000 · out 900 · cache write 6,000 · cache read 20,000 · \$0\.\d{4} · agent logged 3 premium requests, 2\.10 AIU/);
    // Search by agent finds their prompts and replies
    const qwen = await desk.json(['search', 'rate limiting', '--provider', 'qwen', '--scope', 'all']);
    expect(JSON.stringify(qwen)).toContain('Add rate limiting to /login');
    const gem = await desk.json(['search', 'discount', '--provider', 'gemini', '--scope', 'all']);
    expect(JSON.stringify(gem)).toContain('applied after rounding');
    expect(JSON.stringify(gem)).not.toContain('"provider":"copilot"');
  });
});
