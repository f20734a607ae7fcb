/**
 * Benchmark of continuous sync: what docs/sync-daemon.md promises.
 *
 *   npx tsx bench/sync-daemon.ts [--events 15] [--skip-latency] [--skip-idle] [--skip-bytes] [--seed 1]
 *
 * 1. latency: two sync loops at the DEFAULT settings (in this process, one per home) against
 *    s3rver; events appended to A's log at random 3–12 s gaps; time until each is in B's store.
 *    B is in its active cadence (it landed A's start-up events): the idle case is bounded by
 *    construction (push delay + one idle pull interval) and not measured here.
 * 2. idle requests: the same two loops with nothing to do, driven by a virtual clock through
 *    one simulated day (every request is real, against s3rver, and counted).
 * 3. bucket bytes: a month of generated activity (bench/gen.ts, 30 days), replayed as 24 pushes
 *    a day (lines appended in time order); bytes and objects without compaction, after one compaction + prune, and with the
 *    default policy (compact above 64 segments) running along.
 *
 * Prints a markdown section for BENCHMARKS.md; raw numbers go to bench/out/sync-daemon.json.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Device, fileBucket, setupSync } from '../test/helpers/devices.js';
import { startS3rver } from '../test/helpers/s3servers.js';
import { appendClaude, hasRecord } from '../test/sync/auto/helpers.js';
import { AUTO_DEFAULTS } from '../src/sync/settings.js';
import { startSyncLoop } from '../src/sync/loop.js';
import type { Timers } from '../src/sync/schedule.js';
import { openObjectStore, type ObjectInfo, type ObjectStore, type PutOptions } from '../src/sync/objectstore/index.js';
import { generate } from './gen.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');

function args(): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, '');
    if (a[i + 1] !== undefined && !a[i + 1].startsWith('--')) out[k] = a[++i];
    else out[k] = true;
  }
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;

/** Counts requests per kind; a LIST counts once per 1,000 keys (a page). */
class CountingStore implements ObjectStore {
  counts: Record<string, number> = { list: 0, get: 0, put: 0, head: 0, delete: 0 };
  putBytes = 0;
  constructor(private readonly inner: ObjectStore) {}
  get url() {
    return this.inner.url;
  }
  get supportsConditionalWrites() {
    return this.inner.supportsConditionalWrites;
  }
  init() {
    return this.inner.init();
  }
  put(key: string, body: Uint8Array, opts?: PutOptions) {
    this.counts.put++;
    this.putBytes += body.length;
    return this.inner.put(key, body, opts);
  }
  get(key: string) {
    this.counts.get++;
    return this.inner.get(key);
  }
  head(key: string) {
    this.counts.head++;
    return this.inner.head(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.counts.list++;
    let n = 0;
    for await (const o of this.inner.list(prefix)) {
      if (++n % 1000 === 0) this.counts.list++;
      yield o;
    }
  }
  delete(keys: string[]) {
    this.counts.delete++;
    return this.inner.delete(keys);
  }
  total() {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

async function s3Setup(name: string) {
  const s3 = await startS3rver(name);
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  process.env.AWS_REGION = s3.region;
  return { s3, args: ['--bucket', `s3://${name}`, '--endpoint', s3.endpoint, '--region', s3.region] };
}

// ---------------------------------------------------------------------------------------------

async function latency(events: number) {
  const { s3, args: bucket } = await s3Setup('bench-latency');
  const a = new Device('a');
  const b = new Device('b');
  await setupSync(bucket, a, b);
  appendClaude(a, { n: 2 });
  appendClaude(b, { n: 2 });
  const loops = [a, b].map((d) => startSyncLoop({ env: d.env, mode: 'embedded' }));
  try {
    // Start-up: both catch up (which makes both active: they just landed each other's events).
    await sleep(3000);
    const samples: number[] = [];
    for (let i = 0; i < events; i++) {
      const [uuid] = appendClaude(a, { outputTokens: 100 + i });
      const t0 = performance.now();
      while (!hasRecord(b, uuid)) await sleep(20);
      samples.push(performance.now() - t0);
      process.stderr.write(`latency ${i + 1}/${events}: ${(samples[i] / 1000).toFixed(1)} s\n`);
      await sleep(3000 + Math.random() * 9000);
    }
    return { samples };
  } finally {
    for (const l of loops) await l.stop();
    await s3.stop();
  }
}

// ---------------------------------------------------------------------------------------------

/** Timers on a virtual clock: sleeping advances it, and the callback runs on the next turn. */
function virtualTime(start: number) {
  let now = start;
  const timers: Timers = {
    setTimeout(fn, ms) {
      now += Math.max(0, ms);
      return setImmediate(fn);
    },
    clearTimeout(h) {
      clearImmediate(h as NodeJS.Immediate);
    },
  };
  return { clock: { now: () => now }, timers };
}

async function idle(hours: number) {
  const { s3, args: bucket } = await s3Setup('bench-idle');
  const a = new Device('a');
  const b = new Device('b');
  await setupSync(bucket, a, b);
  appendClaude(a, { n: 2 });
  appendClaude(b, { n: 2 });
  for (const d of [a, b]) {
    await d.ingest();
    await d.ok(['sync', 'push']);
  }
  for (const d of [a, b]) await d.ok(['sync', 'pull']);
  // The peers' acks are published at the first pull of the day, like a real first start.
  const base = Date.now();
  const runs = await Promise.all(
    [a, b].map(async (d) => {
      const store = new CountingStore(await openObjectStore(bucket[1], { endpoint: bucket[3], region: bucket[5] }));
      const vt = virtualTime(base);
      const end = base + hours * 3600_000;
      const loop = startSyncLoop({ env: d.env, mode: 'embedded', clock: vt.clock, timers: vt.timers, store, watch: false });
      // Skip the start-up catch-up in the count: measure the steady state.
      while (vt.clock.now() < base + 120_000) await sleep(5);
      const at = { ...store.counts };
      const startTotal = store.total();
      while (vt.clock.now() < end + 120_000) await sleep(5);
      await loop.stop();
      const counts = Object.fromEntries(Object.entries(store.counts).map(([k, v]) => [k, v - at[k]]));
      return { device: d.name, requests: store.total() - startTotal, counts };
    }),
  );
  await s3.stop();
  return { hours, runs };
}

// ---------------------------------------------------------------------------------------------

/**
 * Every line of the generated tree with its time (the record's `timestamp`, else the previous
 * line's), in time order: replaying them in slices is a month of activity as it happened,
 * sessions growing line by line, not whole files appearing at once.
 */
function linesInTimeOrder(root: string): Array<{ t: number; rel: string; line: string }> {
  const out: Array<{ t: number; rel: string; line: string; i: number }> = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.jsonl')) {
        const rel = relative(root, p);
        let last = statSync(p).mtimeMs;
        const text = readFileSync(p, 'utf8');
        let first = true;
        for (const line of text.split('\n')) {
          if (line === '') continue;
          let t = NaN;
          try {
            t = Date.parse((JSON.parse(line) as { timestamp?: string }).timestamp ?? '');
          } catch {
            // a torn line: keep it next to its neighbour
          }
          if (Number.isFinite(t)) last = t;
          else if (first) last = statSync(p).mtimeMs;
          first = false;
          out.push({ t: last, rel, line, i: out.length });
        }
      }
    }
  };
  walk(root);
  return out.sort((a, b) => a.t - b.t || a.i - b.i);
}

async function bucketUsage(url: string): Promise<{ objects: number; bytes: number }> {
  const store = await openObjectStore(url);
  let objects = 0;
  let bytes = 0;
  for await (const o of store.list('stackunderflow/v1/devices/')) {
    objects++;
    bytes += o.size;
  }
  return { objects, bytes };
}

async function month(seed: number, targetBytes: number, pushesPerDay: number) {
  const src = mkdtempSync(join(tmpdir(), 'su-bench-month-'));
  const gen = generate({ seed, outDir: src, targetBytes, days: 30, projects: 6 });
  const lines = linesInTimeOrder(src);
  const byDay = new Map<string, typeof lines>();
  for (const l of lines) {
    const day = new Date(l.t).toISOString().slice(0, 10);
    (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(l);
  }
  const replay = async (policy: 'none' | 'default') => {
    const d = new Device(`month-${policy}`);
    const bucket = fileBucket();
    await setupSync(['--bucket', bucket.url], d);
    await d.ok(['sync', 'auto', '--compact-after', policy === 'none' ? '1000000' : String(AUTO_DEFAULTS.compactAfter)]);
    let pushes = 0;
    let compactions = 0;
    let uploaded = 0;
    for (const dayLines of byDay.values()) {
      const per = Math.ceil(dayLines.length / pushesPerDay);
      for (let i = 0; i < dayLines.length; i += per) {
        const chunk = new Map<string, string>();
        for (const l of dayLines.slice(i, i + per)) chunk.set(l.rel, (chunk.get(l.rel) ?? '') + l.line + '\n');
        for (const [rel, text] of chunk) {
          const dest = rel.startsWith('claude/') ? join(d.claudeDir, rel.slice('claude/'.length)) : join(d.codexDir, rel.slice('codex/'.length));
          mkdirSync(dirname(dest), { recursive: true });
          appendFileSync(dest, text);
        }
        await d.ingest();
        const r = await d.json(['sync', 'push']);
        pushes++;
        uploaded += r.uploadedBytes;
        if (r.compaction) {
          compactions++;
          uploaded += r.compaction.bytes;
        }
      }
    }
    const events = d.withDb((db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number);
    const before = await bucketUsage(bucket.url);
    const listed = d.withDb((db) => db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM sync_segments').get() as { n: number; b: number });
    return { d, bucket, pushes, compactions, uploaded, events, before, listed };
  };
  const none = await replay('none');
  const compacted = await none.d.json(['sync', 'prune', '--compact', '--keep-days', '0']);
  const after = await bucketUsage(none.bucket.url);
  const policy = await replay('default');
  const policyPruned = await policy.d.json(['sync', 'prune', '--keep-days', '0']);
  const policyAfter = await bucketUsage(policy.bucket.url);
  return {
    source: { files: gen.files, bytes: gen.bytes, lines: gen.lines },
    pushesPerDay,
    noCompaction: { pushes: none.pushes, events: none.events, objects: none.before.objects, bytes: none.before.bytes },
    afterCompactionAndPrune: { objects: after.objects, bytes: after.bytes, snapshotBytes: compacted.compaction?.bytes ?? 0, deleted: compacted.deleted },
    defaultPolicy: {
      compactions: policy.compactions,
      uploadedBytes: policy.uploaded,
      listedSegments: policy.listed.n,
      listedBytes: policy.listed.b,
      bucketBeforePrune: policy.before,
      bucketAfterPrune: policyAfter,
      pruned: policyPruned.deleted,
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const a = args();
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg().map((x) => x.toFixed(2)), node: process.version },
    settings: AUTO_DEFAULTS,
  };
  const lines: string[] = ['## Continuous sync: `bench/sync-daemon.ts`', ''];
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' / ')}. Bucket: s3rver on loopback (latency, requests), a file:// bucket (bytes). Settings: the defaults (push 5 s after the last event / at most 20 s after the first, pull every 60 s idle / 10 s active).`, '');

  if (!a['skip-latency']) {
    const n = Number(a.events ?? 15);
    const l = await latency(n);
    result.latency = l;
    lines.push('### Push → visible latency, two daemons', '');
    lines.push('| events | min | p50 | p95 | max |', '|---|---|---|---|---|');
    const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
    lines.push(`| ${n}, 3–12 s apart, B active | ${s(Math.min(...l.samples))} | ${s(pct(l.samples, 50))} | ${s(pct(l.samples, 95))} | ${s(Math.max(...l.samples))} |`, '');
  }
  if (!a['skip-idle']) {
    const r = await idle(Number(a.hours ?? 24));
    result.idle = r;
    lines.push(`### Idle requests (virtual clock, ${r.hours} h simulated, real requests to s3rver)`, '');
    lines.push('| device | requests | per hour | per 30-day month | LIST / GET / PUT / HEAD / DELETE |', '|---|---|---|---|---|');
    for (const x of r.runs) {
      const c = x.counts as Record<string, number>;
      lines.push(`| ${x.device} | ${x.requests} | ${(x.requests / r.hours).toFixed(1)} | ${Math.round((x.requests / r.hours) * 720).toLocaleString('en-US')} | ${c.list} / ${c.get} / ${c.put} / ${c.head} / ${c.delete} |`);
    }
    lines.push('');
  }
  if (!a['skip-bytes']) {
    const m = await month(Number(a.seed ?? 1), Number(a['target-bytes'] ?? 20_000_000), Number(a['pushes-per-day'] ?? 24));
    result.month = m;
    lines.push(`### Bucket bytes, a month of generated activity (seed ${a.seed ?? 1}, ${mb(m.source.bytes)} of logs, ${m.source.lines.toLocaleString('en-US')} lines, ${m.pushesPerDay} pushes a day)`, '');
    lines.push('| state | objects | bytes | bytes / log bytes |', '|---|---|---|---|');
    const row = (label: string, o: number, b: number) => lines.push(`| ${label} | ${o} | ${mb(b)} | ${(b / m.source.bytes).toFixed(3)} |`);
    row(`no compaction (${m.noCompaction.pushes} pushes, ${m.noCompaction.events.toLocaleString('en-US')} events)`, m.noCompaction.objects, m.noCompaction.bytes);
    row('after one full compaction + prune (keep-days 0)', m.afterCompactionAndPrune.objects, m.afterCompactionAndPrune.bytes);
    row(`default policy (${m.defaultPolicy.compactions} compactions), before prune`, m.defaultPolicy.bucketBeforePrune.objects, m.defaultPolicy.bucketBeforePrune.bytes);
    row('default policy, after prune (keep-days 0)', m.defaultPolicy.bucketAfterPrune.objects, m.defaultPolicy.bucketAfterPrune.bytes);
    lines.push('', `Default policy: ${mb(m.defaultPolicy.uploadedBytes)} uploaded in the month (segments + snapshots), manifest listing ${m.defaultPolicy.listedSegments} segments (${mb(m.defaultPolicy.listedBytes)}) at the end.`, '');
  }
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'sync-daemon.json'), JSON.stringify(result, null, 2));
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
