/**
 * Conflicts (spec §9): the same session log ingested on several devices is
 * counted once under `--scope all`, `sync status` counts the identities claimed by more than
 * one device, and the last-write-wins winner (highest written_at, ties to the higher device
 * id) is the same on every device whatever order the segments landed in. Records that only
 * share (provider, project, ts) are different events and all of them survive.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ruleDaily } from '../../helpers/rule.js';
import { Device, fileBucket, setupSync } from '../../helpers/devices.js';
import { fixedClock } from '../../../src/model/clock.js';
import { dashboardSummary } from '../../../src/reports/dashboard.js';

const T0 = Date.parse('2026-09-01T12:00:00.000Z');
const SHARED_ALL = '-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl';
const SHARED_AC = '-home-marco-projects-spotter/d6e0bada-1959-4eec-a9d2-0bfade768d8f.jsonl';
const SESSION_ALL = '03eb5929-52b3-4b13-ada3-b93ae35806b8';
const SESSION_AC = 'd6e0bada-1959-4eec-a9d2-0bfade768d8f';

interface Row {
  uid: string;
  device_id: string;
  written_at: string;
  content: string;
  session_id: string;
}

function rows(d: Device): Row[] {
  return d.withDb((db) => db.prepare('SELECT lower(hex(uid_bytes)) AS uid, device_id, written_at, json_array(kind, ts, model, text, extra, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens) AS content, session_id FROM events ORDER BY uid, device_id').all() as Row[]);
}

/** The LWW winner per uid, computed here from the raw rows (not with the product's SQL). */
function winners(all: Row[]): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of all) {
    const w = out.get(r.uid);
    if (!w || r.written_at > w.written_at || (r.written_at === w.written_at && r.device_id > w.device_id)) out.set(r.uid, r);
  }
  return out;
}

/** What the store itself shows under `all` (one row per uid), for comparison with the above. */
function storeWinners(d: Device): Array<Pick<Row, 'uid' | 'device_id' | 'written_at' | 'content'>> {
  return d.withDb((db) =>
    db
      .prepare(
        `SELECT lower(hex(e.uid_bytes)) AS uid, e.device_id, e.written_at, json_array(e.kind, e.ts, e.model, e.text, e.extra, e.input_tokens, e.output_tokens, e.cache_creation_tokens, e.cache_read_tokens) AS content FROM events e WHERE NOT EXISTS (SELECT 1 FROM events w WHERE w.uid_bytes = e.uid_bytes
           AND w.device_id <> e.device_id AND (w.written_at > e.written_at OR (w.written_at = e.written_at AND w.device_id > e.device_id)))
         ORDER BY uid`,
      )
      .all() as Array<Pick<Row, 'uid' | 'device_id' | 'written_at' | 'content'>>,
  );
}

/**
 * A fresh device whose bucket shows the given devices' folders one at a time, in this order,
 * pulling after each; `check` sees each pull's JSON.
 */
async function pullInOrder(bucketDir: string, key: string, order: Device[], check?: (d: Device, pulled: any) => void): Promise<Device> {
  const view = fileBucket().dir;
  mkdirSync(join(view, 'stackunderflow', 'v1', 'devices'), { recursive: true });
  cpSync(join(bucketDir, 'stackunderflow', 'v1', 'key.json'), join(view, 'stackunderflow', 'v1', 'key.json'));
  const o = new Device(`o-${order.map((d) => d.name).join('-')}`, { env: { STACKUNDERFLOW_SYNC_KEY: key } });
  await o.ok(['sync', 'init', '--bucket', `file://${view}`]);
  for (const d of order) {
    cpSync(join(bucketDir, 'stackunderflow', 'v1', 'devices', d.id), join(view, 'stackunderflow', 'v1', 'devices', d.id), { recursive: true });
    const pulled = await o.json(['sync', 'pull']);
    check?.(d, pulled);
  }
  return o;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** (provider, project, ts) groups holding more than one distinct event, with their sizes. */
function collisionGroups(d: Device, origin: string): Map<string, number> {
  const list = d.withDb(
    (db) =>
      db
        .prepare(
          `SELECT provider || ' ' || project || ' ' || ts AS k, COUNT(DISTINCT uid_bytes) AS n FROM events
           WHERE device_id = ? AND ts <> '' GROUP BY provider, project, ts HAVING COUNT(DISTINCT uid_bytes) > 1`,
        )
        .all(origin) as Array<{ k: string; n: number }>,
  );
  return new Map(list.map((r) => [r.k, r.n]));
}

describe('the same session on several devices', () => {
  // Fixed, distinct clocks: every device stamps its copy of an event differently, so the
  // winner is decided by the stamp and would differ if landing order leaked into it.
  const a = new Device('a', { clock: fixedClock(T0 + 1000) });
  const b = new Device('b', { clock: fixedClock(T0 + 3000) });
  const c = new Device('c', { clock: fixedClock(T0 + 2000) });
  const devices = [a, b, c];
  let bucket: { dir: string; url: string };
  let key: string;
  const own = new Map<Device, Row[]>();

  beforeAll(async () => {
    for (const d of devices) d.addClaudeFile(SHARED_ALL);
    a.addClaudeFile(SHARED_AC);
    c.addClaudeFile(SHARED_AC);
    // Same-millisecond records of different events, each set on one device only.
    a.addClaudeFile('-Users-dain-workspace-JSSoundRecorder/7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl');
    b.addClaudeProjects('-home-u-proj');
    c.addCodexFile('archived_sessions/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl');

    bucket = fileBucket();
    key = await setupSync(['--bucket', bucket.url], a, b, c);
    for (const d of devices) {
      await d.ingest();
      own.set(d, rows(d));
    }
    // An interleaving of pushes and pulls, as it happens on real machines.
    await a.ok(['sync', 'push']);
    await b.ok(['sync', 'push']);
    await c.ok(['sync', 'pull']);
    await c.ok(['sync', 'push']);
    await a.ok(['sync', 'pull']);
    await b.ok(['sync', 'pull']);
    await c.ok(['sync', 'pull']);
  });

  it('each copy is stamped by its own device, so the winner is the newest stamp', () => {
    const mine = (d: Device, session: string) => own.get(d)!.filter((r) => r.session_id === session);
    expect(mine(a, SESSION_ALL).length).toBeGreaterThan(20);
    // Same uids and same content on all three devices, different stamps.
    for (const d of [b, c]) {
      expect(mine(d, SESSION_ALL).map((r) => [r.uid, r.content])).toEqual(mine(a, SESSION_ALL).map((r) => [r.uid, r.content]));
    }
    const stampsOf = (d: Device) => new Set(mine(d, SESSION_ALL).map((r) => r.written_at));
    for (const s of stampsOf(a)) expect(stampsOf(b).has(s) || stampsOf(c).has(s)).toBe(false);
    const w = winners(devices.flatMap((d) => own.get(d)!));
    for (const r of mine(a, SESSION_ALL)) expect(w.get(r.uid)!.device_id).toBe(b.id);
    for (const r of mine(a, SESSION_AC)) expect(w.get(r.uid)!.device_id).toBe(c.id);
  });

  it('every device ends with the same rows and picks the same winners', () => {
    const expected = winners(devices.flatMap((d) => own.get(d)!));
    const expectedList = [...expected.values()].map(({ uid, device_id, written_at, content }) => ({ uid, device_id, written_at, content })).sort((x, y) => x.uid.localeCompare(y.uid));
    const allOwn = devices.flatMap((d) => own.get(d)!).sort((x, y) => x.uid.localeCompare(y.uid) || x.device_id.localeCompare(y.device_id));
    for (const d of devices) {
      expect(rows(d)).toEqual(allOwn);
      expect(storeWinners(d)).toEqual(expectedList);
    }
  });

  it('the winner and the union report do not depend on the order segments land in', async () => {
    const reference = await a.daily('all');
    const expected = storeWinners(a);
    for (const order of permutations(devices)) {
      const o = await pullInOrder(bucket.dir, key, order, (d, r) => expect(r.peers.find((p: any) => p.device === d.id).outcome).toBe('landed'));
      expect(storeWinners(o), order.map((d) => d.name).join('')).toEqual(expected);
      expect(await o.daily('all')).toEqual(reference);
    }
    for (const d of [b, c]) expect(await d.daily('all')).toEqual(reference);
  });

  it('a shared session is counted once, in events and in billing', async () => {
    // The billing rule over the three folders: each response once.
    const theirs = ruleDaily(devices.map((d) => d.claudeDir));
    for (const d of devices) {
      const ours = (await d.json(['report', 'daily', '-z', 'UTC', '--scope', 'all', '--provider', 'claude'])).daily.map((x: any) => ({
        date: x.date,
        inputTokens: x.inputTokens,
        outputTokens: x.outputTokens,
        cacheCreationTokens: x.cacheCreationTokens,
        cacheReadTokens: x.cacheReadTokens,
      }));
      expect(ours).toEqual(theirs);
      const sessions = (await d.json(['report', 'session', '-z', 'UTC', '--scope', 'all'])).sessions.filter((s: any) => s.sessionId === SESSION_ALL);
      expect(sessions).toHaveLength(1);
      const single = (await a.json(['report', 'session', '-z', 'UTC', '--scope', 'local'])).sessions.find((s: any) => s.sessionId === SESSION_ALL);
      expect(sessions[0].totalTokens).toBe(single.totalTokens);
      expect(single.totalTokens).toBeGreaterThan(0);
    }
  });

  it('sync status counts the identities claimed by more than one device', async () => {
    const seen = new Map<string, number>();
    for (const d of devices) for (const r of own.get(d)!) seen.set(r.uid, (seen.get(r.uid) ?? 0) + 1);
    const expected = [...seen.values()].filter((n) => n > 1).length;
    const shared = own.get(a)!.filter((r) => r.session_id === SESSION_ALL || r.session_id === SESSION_AC).length;
    expect(expected).toBe(shared);
    for (const d of devices) {
      const s = await d.json(['sync', 'status']);
      expect(s.conflictCount).toBe(expected);
    }
  });

  it('records that only share (provider, project, ts) are all kept, on every device', () => {
    const origins: Array<[Device, number]> = [
      [a, 1], // three parallel tool results in one millisecond
      [b, 1], // two sessions of one project with a user record at the same instant
      [c, 1], // Codex session start: several lines in one millisecond
    ];
    for (const [origin, min] of origins) {
      const groups = collisionGroups(origin, origin.id);
      expect(groups.size, origin.name).toBeGreaterThanOrEqual(min);
      for (const viewer of devices.filter((d) => d !== origin)) {
        expect(collisionGroups(viewer, origin.id), `${origin.name} seen from ${viewer.name}`).toEqual(groups);
      }
    }
    const jsr = collisionGroups(b, a.id).get('claude -Users-dain-workspace-JSSoundRecorder 2025-11-17T23:50:18.634Z');
    expect(jsr).toBe(3);
    const mem = collisionGroups(a, b.id).get('claude -home-u-proj 2025-06-01T10:00:00.000Z');
    expect(mem).toBeGreaterThanOrEqual(2);
    const codex = [...collisionGroups(a, c.id).entries()].filter(([k]) => k.startsWith('codex ') && k.endsWith('2026-02-23T19:34:26.098Z'));
    expect(codex).toHaveLength(1);
    expect(codex[0][1]).toBeGreaterThanOrEqual(4);
  });
});

describe('equal stamps on two devices', () => {
  it('fall to the higher device id, on both devices', async () => {
    // Same clock, same file, fresh stores: both devices stamp every event identically.
    const p = new Device('p', { clock: fixedClock(T0) });
    const q = new Device('q', { clock: fixedClock(T0) });
    for (const d of [p, q]) d.addClaudeProjects('-home-u-proj');
    await setupSync(['--bucket', fileBucket().url], p, q);
    for (const d of [p, q]) {
      await d.ingest();
      await d.ok(['sync', 'push']);
    }
    const stamps = (d: Device) => rows(d).map((r) => [r.uid, r.written_at]);
    expect(stamps(p)).toEqual(stamps(q));
    for (const d of [p, q]) await d.ok(['sync', 'pull']);
    const high = p.id > q.id ? p.id : q.id;
    for (const d of [p, q]) {
      const w = storeWinners(d);
      expect(w.length).toBe(own(d).length);
      expect(new Set(w.map((r) => r.device_id))).toEqual(new Set([high]));
      expect(await d.daily('all')).toMatchObject({ daily: (await d.daily('local')).daily });
      expect((await d.json(['sync', 'status'])).conflictCount).toBe(w.length);
    }
    function own(d: Device) {
      return rows(d).filter((r) => r.device_id === d.id);
    }
  });
});

describe('an edit made after seeing the other version', () => {
  it('wins on every device, even from the device with the slower clock', async () => {
    // fast's clock is 5 s ahead; slow edits the event after it merged fast's copy.
    const fast = new Device('fast', { clock: fixedClock(T0 + 5000) });
    const slow = new Device('slow', { clock: fixedClock(T0) });
    const rel = '-home-u-proj/memory_interactions.jsonl';
    for (const d of [fast, slow]) d.addClaudeFile(rel);
    await setupSync(['--bucket', fileBucket().url], fast, slow);
    for (const d of [fast, slow]) {
      await d.ingest();
      await d.ok(['sync', 'push']);
    }
    for (const d of [fast, slow]) await d.ok(['sync', 'pull']);
    const uidOf = (d: Device) => d.withDb((db) => db.prepare(`SELECT lower(hex(uid_bytes)) FROM events WHERE device_id = ? AND record_id = 'u1'`).pluck().get(d.id) as string);
    const uid = uidOf(slow);
    expect(uidOf(fast)).toBe(uid);
    const winner = (d: Device) => storeWinners(d).find((r) => r.uid === uid)!;
    expect(winner(slow).device_id).toBe(fast.id);

    const path = join(slow.claudeDir, 'projects', rel);
    const lines = readFileSync(path, 'utf8').split('\n');
    const first = JSON.parse(lines[0]);
    first.message.content = 'Please remember my build command: make all.';
    writeFileSync(path, [JSON.stringify(first), ...lines.slice(1)].join('\n'));
    expect(JSON.parse((await slow.ok(['ingest', '--json'])).stdout).events.updated).toBe(1);
    await slow.ok(['sync', 'push']);
    await fast.ok(['sync', 'pull']);

    for (const d of [fast, slow]) {
      const w = winner(d);
      expect(w.device_id, d.name).toBe(slow.id);
      const text = d.withDb((db) => db.prepare('SELECT text FROM events WHERE device_id = ? AND uid_bytes = unhex(?)').pluck().get(slow.id, uid) as string);
      expect(text).toContain('make all');
    }
    expect(storeWinners(fast)).toEqual(storeWinners(slow));
  });
});

describe('copies of the same responses on several devices, billed once at their largest usage', () => {
  // The real response msg_01RcDNkcZxwfy4UY9xdcSoX3 streams output 8, 8, 436 over lines 3-5.
  const REL = '-Users-test-user-agent-sample/7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9.jsonl';
  const host = new Device('host', { clock: fixedClock(T0 + 1000) });
  const container = new Device('container', { clock: fixedClock(T0 + 2000) });
  const laptop = new Device('laptop', { clock: fixedClock(T0 + 3000) });
  const devices = [host, container, laptop];
  let bucket: { dir: string; url: string };
  let key: string;

  beforeAll(async () => {
    host.addClaudeFile(REL);
    const lines = readFileSync(join(host.claudeDir, 'projects', REL), 'utf8').split('\n').filter((l) => l.trim() !== '');
    // A dev container mounting the host's logs mid-stream: its copy ends before the final line, under another project path.
    const mounted = join(container.claudeDir, 'projects', '-workspace', '7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9.jsonl');
    mkdirSync(join(mounted, '..'), { recursive: true });
    writeFileSync(mounted, lines.slice(0, 4).map((l) => l + '\n').join(''));
    // The session resumed on a laptop: the earlier lines copied under a new session id.
    const resumed = join(laptop.claudeDir, 'projects', '-Users-test-user-agent-sample', '0resumed-0000-4000-8000-000000000000.jsonl');
    mkdirSync(join(resumed, '..'), { recursive: true });
    writeFileSync(resumed, lines.slice(0, 4).map((l) => JSON.stringify({ ...JSON.parse(l), sessionId: '0resumed-0000-4000-8000-000000000000' }) + '\n').join(''));
    bucket = fileBucket();
    key = await setupSync(['--bucket', bucket.url], host, container, laptop);
    for (const d of devices) {
      await d.ingest();
      await d.ok(['sync', 'push']);
    }
  });

  it('each device alone bills what its own lines say; the union bills output 436 once, in every pull order', async () => {
    const output = (db: Parameters<Parameters<Device['withDb']>[0]>[0], table: string) =>
      db.prepare(`SELECT output_tokens FROM ${table} WHERE usage_key = 'm:msg_01RcDNkcZxwfy4UY9xdcSoX3'`).pluck().all();
    expect(container.withDb((db) => output(db, 'usage'))).toEqual([8]);
    const truth = ruleDaily(devices.map((d) => d.claudeDir)).map((d) => ({ ...d }));
    for (const order of permutations(devices)) {
      const o = await pullInOrder(bucket.dir, key, order);
      expect(o.withDb((db) => output(db, 'usage_union'))).toEqual([436]);
      const daily = (await o.daily('all')).daily.map((x: any) => ({ date: x.date, inputTokens: x.inputTokens, outputTokens: x.outputTokens, cacheCreationTokens: x.cacheCreationTokens, cacheReadTokens: x.cacheReadTokens }));
      expect(daily, order.map((d) => d.name).join(' ')).toEqual(truth);
    }
  });

  it('every report kind sums to the same totals under all', async () => {
    await host.ok(['sync', 'pull']);
    const tokens = (t: any) => t.inputTokens + t.outputTokens + t.cacheCreationTokens + t.cacheReadTokens;
    const daily = await host.json(['report', 'daily', '-z', 'UTC', '--scope', 'all']);
    const total = tokens(daily.totals);
    expect(total).toBeGreaterThan(0);
    for (const kind of ['monthly', 'session', 'project', 'model']) {
      const r = await host.json(['report', kind, '-z', 'UTC', '--scope', 'all']);
      expect(tokens(r.totals), kind).toBe(total);
      expect(r.totals.totalCost, kind).toBeCloseTo(daily.totals.totalCost, 9);
    }
    // show: the session's per-turn usage adds up to its totals, and to its row in the session report.
    const sessions = (await host.json(['report', 'session', '-z', 'UTC', '--scope', 'all'])).sessions;
    let shown = 0;
    for (const s of sessions) {
      const conv = await host.json(['show', s.sessionId, '--scope', 'all']);
      const perTurn = conv.turns.filter((t: any) => t.usage).reduce((n: number, t: any) => n + t.usage.totalTokens, 0);
      expect(perTurn, s.sessionId).toBe(conv.totals.totalTokens);
      expect(conv.totals.totalTokens, s.sessionId).toBe(s.totalTokens);
      shown += perTurn;
    }
    expect(shown).toBe(total);
    // The dashboard's API, under every scope: the union, and each device's own.
    const dash = host.withDb((db) => dashboardSummary(db, { timezone: 'UTC', scope: { kind: 'all' } }));
    expect(tokens(dash.totals)).toBe(total);
    for (const d of devices) {
      const own = await d.json(['report', 'daily', '-z', 'UTC', '--scope', 'local']);
      const seen = host.withDb((db) => dashboardSummary(db, { timezone: 'UTC', scope: { kind: 'device', device: d.id } }));
      expect(tokens(seen.totals), d.name).toBe(tokens(own.totals));
    }
  });
});
