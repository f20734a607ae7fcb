/**
 * OpenCode's and pi's events travel like Claude's and Codex's: one device ingests OpenCode,
 * another pi; after push and pull each holds both, reports them the same, and shows the other
 * device's session with the cost the agent logged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeAgentLogs } from '../../helpers/agentLogs.js';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { tempDir } from '../../helpers/fixtures.js';

describe('sync carries OpenCode and pi', () => {
  const laptop = new Device('laptop', { env: writeAgentLogs(tempDir('su-oc-'), { opencode: true }) });
  const desktop = new Device('desktop', { env: writeAgentLogs(tempDir('su-pi-'), { pi: true }) });
  const local = new Map<Device, any>();

  beforeAll(async () => {
    await setupSync(['--bucket', fileBucket().url], laptop, desktop);
    for (const d of [laptop, desktop]) {
      await d.ingest();
      local.set(d, await d.json(['report', 'daily', '--scope', 'local', '--json']));
      await d.ok(['sync', 'push']);
    }
    for (const d of [laptop, desktop]) await d.ok(['sync', 'pull']);
  });

  it('each device holds the other agent’s events, each once', () => {
    const count = (d: Device) => d.withDb((db) => db.prepare('SELECT provider, COUNT(*) AS n FROM events GROUP BY provider ORDER BY provider').all());
    expect(count(laptop)).toEqual(count(desktop));
    expect(count(laptop).map((r: any) => r.provider)).toEqual(['opencode', 'pi']);
  });

  it('the union report is the sum of the two local ones, per agent and day', async () => {
    for (const d of [laptop, desktop]) {
      for (const provider of ['opencode', 'pi']) {
        const all = await d.json(['report', 'daily', '--scope', 'all', '--provider', provider, '--json']);
        const own = [laptop, desktop].map((x) => local.get(x).daily.filter((day: any) => day.providers.includes(provider)));
        const expected = own.flat().map((day: any) => [day.date, day.totalTokens]);
        expect(all.daily.map((day: any) => [day.date, day.totalTokens])).toEqual(expected);
      }
    }
  });

  it("shows the other device's session with the logged cost", async () => {
    const conv = await desktop.json(['show', 'ses_main01', '--scope', 'all', '--json']);
    expect(conv.session.provider).toBe('opencode');
    expect(conv.turns.find((t: any) => t.usage).usage.loggedCost).toEqual({ usd: 0.02181 });
    expect(conv.turns.find((t: any) => t.role === 'tool_call').tools).toEqual([{ name: 'edit', args: '' }]);
    const pi = await laptop.json(['show', '0b6c1f0e', '--scope', 'all', '--json']);
    expect(pi.totals.requests).toBe(2);
  });
});
