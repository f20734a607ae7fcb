/**
 * Sync benchmark: initial push and pull of ~1M events, bucket bytes per source-log
 * byte, and the requests of small pushes and pulls, against a `file://` bucket, s3rver
 * (in this process) and a Ceph radosgw on loopback (`scripts/radosgw.sh start`).
 *
 *   npx tsx bench/sync.ts [--targets file,s3rver,rgw] [--data DIR] [--lines N] [--cpu-prof] [--keep] [--prepare-only]
 *                         [--compact-after N] [--node-args '--max-semi-space-size=64'] [--label NAME] [--push-only]
 *
 * `--compact-after N` sets device A's compaction threshold before the push (default 64: a first
 * push of more than 64 segments is compacted at once); `--node-args` go to the measured push and pull.
 *
 * Every measured step is the real CLI (`dist/bin/stackunderflow.js`, the bundled bin, rebuilt when older than `src/`) in
 * its own child process, so wall time and peak RSS are what a user would see. Device A's store
 * is ingested once from the generated logs (a hard-link mirror under bench/out/, so the
 * generated tree is never modified) and copied for each target; device B starts empty and
 * joins with A's key. Small pushes and pulls go through a counting proxy
 * (test/helpers/faultproxy.ts) so their requests can be counted per method.
 *
 * Results: printed, and written to bench/out/sync-results-<target>.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync, constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync,
  unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { generate, presetOptions } from './gen.js';
import { openObjectStore } from '../src/sync/objectstore/index.js';
import { startS3rver, type RunningS3 } from '../test/helpers/s3servers.js';
import { startFaultProxy, type FaultProxy } from '../test/helpers/faultproxy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const CLI = join(ROOT, 'dist', 'bin', 'stackunderflow.js');
const TIME = '/usr/bin/time';
/** Generated lines for ~1M events (the generator yields ~0.8 events per line). */
const DEFAULT_LINES = 1_260_000;
/** A measured step that runs longer than this is killed: the targets are 60 s. */
const STEP_TIMEOUT_MS = 20 * 60 * 1000;
/** The one-time cold ingest of ~1.6 GB of logs took ~20 min at load 10 on 2 cores. */
const INGEST_TIMEOUT_MS = 90 * 60 * 1000;

type Target = 'file' | 's3rver' | 'rgw';

interface Measure {
  wallMs: number;
  /** User + system CPU of the child, ms (GNU time). Less sensitive to other load than wall time. */
  cpuMs: number;
  peakRssMB: number;
  /** 1-minute load average before the step started and after it ended. */
  load: [number, number];
  stdout: string;
  stderr: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(name);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const log = (s: string) => process.stderr.write(`[sync-bench] ${s}\n`);

/** Runs the CLI in a child process under GNU time (peak RSS, CPU) and fails on a non-zero exit. */
async function cli(argv: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = [], timeoutMs = STEP_TIMEOUT_MS): Promise<Measure> {
  const timeOut = join(OUT, `.time-${process.pid}.txt`);
  const useTime = existsSync(TIME);
  const cmd = [process.execPath, ...nodeArgs, CLI, ...argv];
  const [file, args] = useTime ? [TIME, ['-f', '%M %U %S', '-o', timeOut, ...cmd]] : [cmd[0], cmd.slice(1)];
  const load0 = loadavg()[0];
  const t0 = performance.now();
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  // Without GNU time: poll the high-water mark (it survives until the process exits).
  let hwm = 0;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          /* exited between polls */
        }
      }, 20);
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  const wallMs = performance.now() - t0;
  clearTimeout(killer);
  if (poll) clearInterval(poll);
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  let cpuMs = NaN;
  if (useTime) {
    const lines = readFileSync(timeOut, 'utf8').trim().split('\n');
    const [kb, u, s] = lines[lines.length - 1].split(' ').map(Number);
    hwm = kb;
    cpuMs = (u + s) * 1000;
    rmSync(timeOut, { force: true });
  }
  if (code !== 0) throw new Error(`stackunderflow ${argv.join(' ')} exited ${code}\n${stderr}\n${stdout}`.slice(0, 4000));
  return { wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), peakRssMB: Math.round(hwm / 1024), load: [round(load0, 2), round(loadavg()[0], 2)], stdout, stderr };
}

function ensureCli(): void {
  const newest = (dir: string): number => {
    let m = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return m;
  };
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest(join(ROOT, 'src'))) return;
  log('building dist/ (older than src/)');
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  if (b.status !== 0 && !existsSync(CLI)) throw new Error(`npm run build failed:\n${b.stderr.toString()}`);
}

// ---------------------------------------------------------------------------------------------
// Device A's store, ingested once

interface Base {
  dir: string;
  logs: string;
  home: string;
  /** The log that one-new-event steps append to (a real copy in the mirror) and its pristine original. */
  appendTo: string;
  appendOriginal: string;
  sourceBytes: { claude: number; codex: number; total: number; files: number };
  events: number;
  ingest: Omit<Measure, 'stdout' | 'stderr'> & { report: unknown };
}

function walkFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** A Claude session log with a `user` line to use as the template of an appended event. */
function pickAppendTarget(logs: string): string {
  const projects = join(logs, 'claude', 'projects');
  for (const slug of readdirSync(projects).sort()) {
    for (const f of readdirSync(join(projects, slug)).sort()) {
      if (!f.endsWith('.jsonl')) continue;
      const p = join(projects, slug, f);
      if (userTemplate(p)) return p;
    }
  }
  throw new Error('no Claude log with a user line found');
}

function userTemplate(file: string): Record<string, unknown> | null {
  const lines = readFileSync(file, 'utf8').split('\n').reverse();
  for (const l of lines) {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (o.type === 'user' && typeof o.uuid === 'string' && typeof o.timestamp === 'string' && typeof o.sessionId === 'string') return o;
    } catch {
      /* blank or torn line */
    }
  }
  return null;
}

async function prepareBase(dataDir: string): Promise<Base> {
  const dir = join(OUT, `sync-base-${basename(dataDir)}`);
  const doneFile = join(dir, 'done.json');
  if (existsSync(doneFile)) return JSON.parse(readFileSync(doneFile, 'utf8')) as Base;
  rmSync(dir, { recursive: true, force: true });
  const logs = join(dir, 'logs');
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  log(`mirroring ${relative(ROOT, dataDir)} (hard links) into ${relative(ROOT, logs)}`);
  const sourceBytes = { claude: 0, codex: 0, total: 0, files: 0 };
  for (const provider of ['claude', 'codex'] as const) {
    for (const f of walkFiles(join(dataDir, provider))) {
      const dest = join(logs, relative(dataDir, f));
      mkdirSync(dirname(dest), { recursive: true });
      linkSync(f, dest);
      // Source bytes are the logs ingest reads (sub-agent .meta.json files are not).
      if (!f.endsWith('.jsonl')) continue;
      const size = statSync(f).size;
      sourceBytes[provider] += size;
      sourceBytes.total += size;
      sourceBytes.files++;
    }
  }
  // The appended-to log must not share its inode with the generated tree.
  const appendTo = pickAppendTarget(logs);
  const appendOriginal = join(dataDir, relative(logs, appendTo));
  restoreAppendTarget({ appendTo, appendOriginal });

  log('ingesting (device A), once; this takes minutes on a busy 2-core machine');
  const m = await cli(['ingest', '--json'], deviceEnv(join(dir, 'root'), home, logs), [], INGEST_TIMEOUT_MS);
  const db = new Database(join(home, 'store.db'), { readonly: true });
  const events = db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  db.close();
  const { stdout, stderr, ...rest } = m;
  void stderr;
  const base: Base = { dir, logs, home, appendTo, appendOriginal, sourceBytes, events, ingest: { ...rest, report: parseJson(stdout) } };
  writeFileSync(doneFile, JSON.stringify(base, null, 2));
  return base;
}

function restoreAppendTarget(b: Pick<Base, 'appendTo' | 'appendOriginal'>): void {
  const st = statSync(b.appendOriginal);
  if (existsSync(b.appendTo)) unlinkSync(b.appendTo);
  copyFileSync(b.appendOriginal, b.appendTo);
  utimesSync(b.appendTo, st.atime, st.mtime);
}

/** One new Claude `user` record after the last one of the file. */
function appendOneEvent(file: string): void {
  const t = userTemplate(file)!;
  const ts = new Date(Date.parse(t.timestamp as string) + 1000).toISOString();
  const line = { ...t, parentUuid: t.uuid, uuid: randomUUID(), timestamp: ts, message: { role: 'user', content: 'one more (sync benchmark)' } };
  appendFileSync(file, JSON.stringify(line) + '\n');
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s.trim().slice(0, 500);
  }
}

/** A closed world: nothing of the real user's home, logs or AWS config is read. */
function deviceEnv(root: string, home: string, logs: string | null, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const claude = logs ? join(logs, 'claude') : join(root, 'claude');
  const codex = logs ? join(logs, 'codex') : join(root, 'codex');
  mkdirSync(claude, { recursive: true });
  mkdirSync(codex, { recursive: true });
  return { PATH: process.env.PATH, HOME: root, TZ: 'UTC', NO_COLOR: '1', STACKUNDERFLOW_HOME: home, CLAUDE_CONFIG_DIR: claude, CODEX_HOME: codex, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Buckets

interface Bucket {
  url: string;
  endpoint?: string;
  /** For the child's AWS credential chain (never on a command line). */
  env: NodeJS.ProcessEnv;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  stop(): Promise<void>;
}

function rgwEnv(): Record<string, string> {
  const script = join(ROOT, 'scripts', 'radosgw.sh');
  let r = spawnSync('bash', [script, 'env'], { encoding: 'utf8' });
  if (r.status !== 0) {
    log('radosgw not running: scripts/radosgw.sh start');
    r = spawnSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error('scripts/radosgw.sh start failed');
  }
  const out: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^export (\w+)=(.*)$/gm)) out[m[1]] = m[2];
  return out;
}

async function openBucket(target: Target, dir: string): Promise<Bucket> {
  if (target === 'file') {
    const d = join(dir, 'bucket');
    mkdirSync(d, { recursive: true });
    return { url: pathToFileURL(d).href, env: {}, stop: () => Promise.resolve() };
  }
  let s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; prefix: string; stop(): Promise<void> };
  if (target === 's3rver') {
    const srv: RunningS3 = await startS3rver('bench-sync');
    s3 = { ...srv, prefix: '', stop: () => srv.stop() };
  } else {
    const e = rgwEnv();
    // A prefix of our own: the test suites share this bucket.
    s3 = {
      endpoint: e.STACKUNDERFLOW_TEST_RGW_ENDPOINT,
      bucket: e.STACKUNDERFLOW_TEST_RGW_BUCKET,
      region: e.STACKUNDERFLOW_TEST_RGW_REGION,
      accessKeyId: e.STACKUNDERFLOW_TEST_RGW_ACCESS_KEY,
      secretAccessKey: e.STACKUNDERFLOW_TEST_RGW_SECRET_KEY,
      prefix: `bench-sync-${Date.now()}`,
      stop: () => Promise.resolve(),
    };
  }
  const url = `s3://${s3.bucket}${s3.prefix ? `/${s3.prefix}` : ''}`;
  const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return {
    url,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials,
    env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
    async stop() {
      if (target === 'rgw' && !flag('--keep')) {
        // radosgw keeps objects in memory (memstore): give the space back.
        const store = await openObjectStore(url, { endpoint: s3.endpoint, region: s3.region, credentials });
        const keys: string[] = [];
        for await (const o of store.list('')) keys.push(o.key);
        for (let i = 0; i < keys.length; i += 500) await store.delete(keys.slice(i, i + 500));
      }
      await s3.stop();
    },
  };
}

async function bucketBytes(b: Bucket): Promise<{ objects: number; bytes: number; segments: number; segmentBytes: number }> {
  const store = await openObjectStore(b.url, b.endpoint ? { endpoint: b.endpoint, region: b.region, credentials: b.credentials } : {});
  const r = { objects: 0, bytes: 0, segments: 0, segmentBytes: 0 };
  for await (const o of store.list('')) {
    r.objects++;
    r.bytes += o.size;
    if (o.key.includes('/seg/')) {
      r.segments++;
      r.segmentBytes += o.size;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Request counting

interface Requests {
  total: number;
  byMethod: Record<string, number>;
  /** `METHOD path` of every request, query strings cut (they carry no object names worth keeping). */
  list: string[];
}

function requests(p: FaultProxy | null): Requests | null {
  if (!p) return null;
  const byMethod: Record<string, number> = {};
  for (const r of p.requests) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
  const list = p.requests.map((r) => {
    const [path, q] = r.url.split('?');
    const short = path.replace(/[0-9a-f]{64}/, (h) => h.slice(0, 8) + '…');
    return `${r.method} ${short}${q && /list-type|delete/.test(q) ? `?${q.split('&').filter((x) => /list-type|delete|prefix/.test(x)).join('&')}` : ''} → ${r.status ?? r.outcome}`;
  });
  return { total: p.requests.length, byMethod, list };
}

// ---------------------------------------------------------------------------------------------
// CPU profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self and inclusive time per function of a .cpuprofile, top entries. */
function summarizeProfile(file: string, top = 15): { totalMs: number; self: [string, number][]; inclusive: [string, number][] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.startsWith(ROOT) ? relative(ROOT, url) : url;
    return `${n.callFrame.functionName || '(anonymous)'} ${short ? `${short}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    let n = byId.get(p.samples[i]);
    if (!n) continue;
    const k0 = key(n);
    self.set(k0, (self.get(k0) ?? 0) + ms);
    const seen = new Set<string>();
    for (; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + ms);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Math.round(v)] as [string, number]);
  return { totalMs: Math.round(total), self: sorted(self), inclusive: sorted(incl) };
}

function nodeArgs(): string[] {
  return (arg('--node-args') ?? '').split(' ').filter(Boolean);
}

function profArgs(dir: string, name: string): string[] {
  if (!flag('--cpu-prof')) return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`];
}

// ---------------------------------------------------------------------------------------------
// One target

function countEvents(home: string, deviceId?: string): number {
  const db = new Database(join(home, 'store.db'), { readonly: true });
  try {
    return (deviceId
      ? db.prepare('SELECT COUNT(*) FROM events WHERE device_id = ?').pluck().get(deviceId)
      : db.prepare('SELECT COUNT(*) FROM events').pluck().get()) as number;
  } finally {
    db.close();
  }
}

/** Bytes of the segments a device's manifest lists (what a new peer downloads). */
function listedBytes(home: string): number {
  const db = new Database(join(home, 'store.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COALESCE(SUM(bytes), 0) FROM sync_segments').pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
}

function deviceIdOf(home: string): string {
  const db = new Database(join(home, 'store.db'), { readonly: true });
  try {
    return db.prepare(`SELECT value FROM meta WHERE key = 'device_id'`).pluck().get() as string;
  } finally {
    db.close();
  }
}

const strip = ({ stdout, stderr, ...m }: Measure) => (void stderr, { ...m, result: parseJson(stdout) });

async function runTarget(target: Target, base: Base): Promise<Record<string, unknown>> {
  const dir = join(OUT, 'sync-work', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const profDir = join(OUT, 'prof-sync', `${target}${arg('--label') ? `-${arg('--label')}` : ''}`);
  if (flag('--cpu-prof')) rmSync(profDir, { recursive: true, force: true });

  // Device A: a copy of the ingested store, the same log mirror (paths match its bookkeeping).
  const homeA = join(dir, 'A', 'home');
  mkdirSync(homeA, { recursive: true });
  for (const f of readdirSync(base.home)) if (f.startsWith('store.db')) copyFileSync(join(base.home, f), join(homeA, f), fsConstants.COPYFILE_FICLONE);
  restoreAppendTarget(base);
  const homeB = join(dir, 'B', 'home');
  mkdirSync(homeB, { recursive: true });

  const bucket = await openBucket(target, dir);
  const out: Record<string, unknown> = { target, bucket: bucket.url.replace(/^file:\/\/.*$/, 'file://<tmp>'), endpoint: bucket.endpoint ?? null };
  let proxy: FaultProxy | null = null;
  try {
    const envA = deviceEnv(join(dir, 'A'), homeA, base.logs, bucket.env);
    const where = (endpoint?: string) => ['--bucket', bucket.url, ...(endpoint ? ['--endpoint', endpoint] : [])];
    await cli(['sync', 'init', ...where(bucket.endpoint), '--device-name', 'bench-A', '--json'], envA);
    const key = (await cli(['sync', 'key', 'export'], envA)).stdout.trim();
    const compactAfter = arg('--compact-after');
    if (compactAfter) await cli(['sync', 'auto', '--compact-after', compactAfter, '--json'], envA);
    out.settings = { compactAfter: compactAfter ? Number(compactAfter) : 'default', nodeArgs: nodeArgs() };
    const eventsA = countEvents(homeA);
    const idA = deviceIdOf(homeA);

    log(`${target}: initial push of ${eventsA} events`);
    const push = await cli(['sync', 'push', '--json'], envA, [...nodeArgs(), ...profArgs(profDir, 'push')]);
    const bytes = await bucketBytes(bucket);
    out.initialPush = { ...strip(push), events: eventsA, eventsPerSec: Math.round(eventsA / (push.wallMs / 1000)), sourceMBps: round(base.sourceBytes.total / 1e6 / (push.wallMs / 1000)), uploadMBps: round(bytes.bytes / 1e6 / (push.wallMs / 1000)) };
    const listedAfterPush = listedBytes(homeA);
    out.bucket = {
      ...bytes,
      perSourceByte: round(bytes.bytes / base.sourceBytes.total, 4),
      // Objects the manifest lists; the rest (segments a compaction replaced) wait for prune.
      listedBytes: listedAfterPush,
      listedPerSourceByte: round(listedAfterPush / base.sourceBytes.total, 4),
      sourceBytes: base.sourceBytes.total,
    };
    log(`${target}: push ${push.wallMs} ms, ${push.peakRssMB} MB RSS; bucket ${round(bytes.bytes / 1e6)} MB (${round(bytes.bytes / base.sourceBytes.total, 4)} per source byte)`);

    if (flag('--push-only')) return out;
    const envB = deviceEnv(join(dir, 'B'), homeB, null, { ...bucket.env, STACKUNDERFLOW_SYNC_KEY: key });
    await cli(['sync', 'init', ...where(bucket.endpoint), '--device-name', 'bench-B', '--json'], envB);
    log(`${target}: initial pull`);
    const pull = await cli(['sync', 'pull', '--json'], envB, [...nodeArgs(), ...profArgs(profDir, 'pull')]);
    const landed = countEvents(homeB, idA);
    if (landed !== eventsA) throw new Error(`B has ${landed} events of A, A has ${eventsA}`);
    // A new device downloads what A's manifest lists (after a compaction: the snapshots only).
    const listed = listedBytes(homeA);
    out.initialPull = { ...strip(pull), events: landed, eventsPerSec: Math.round(landed / (pull.wallMs / 1000)), downloadedBytes: listed, downloadMBps: round(listed / 1e6 / (pull.wallMs / 1000)), sourceMBps: round(base.sourceBytes.total / 1e6 / (pull.wallMs / 1000)) };
    log(`${target}: pull ${pull.wallMs} ms, ${pull.peakRssMB} MB RSS`);

    // Small steps, through the counting proxy for S3 (a re-run of init only updates the endpoint).
    if (bucket.endpoint) {
      proxy = await startFaultProxy(bucket.endpoint);
      await cli(['sync', 'init', ...where(proxy.url), '--json'], envA);
      await cli(['sync', 'init', ...where(proxy.url), '--json'], envB);
    }
    const step = async (name: string, argv: string[], env: NodeJS.ProcessEnv) => {
      proxy?.reset();
      const m = await cli(argv, env);
      out[name] = { ...strip(m), requests: requests(proxy) };
      const r = requests(proxy);
      log(`${target}: ${name} ${m.wallMs} ms${r ? `, requests ${JSON.stringify(r.byMethod)}` : ''}`);
    };
    await step('pushNothingNew', ['sync', 'push', '--json'], envA);
    await step('pullNothingNew', ['sync', 'pull', '--json'], envB);
    appendOneEvent(base.appendTo);
    const ing = await cli(['ingest', '--json'], envA);
    out.ingestOneEvent = strip(ing);
    await step('pushOneEvent', ['sync', 'push', '--json'], envA);
    await step('pullOneEvent', ['sync', 'pull', '--json'], envB);
    if (countEvents(homeB, idA) !== countEvents(homeA, idA)) throw new Error('B did not get the new event');
    await step('pullNothingNewAgain', ['sync', 'pull', '--json'], envB);
    await step('pushNothingNewAgain', ['sync', 'push', '--json'], envA);

    if (flag('--cpu-prof')) {
      const profiles: Record<string, unknown> = {};
      for (const f of readdirSync(profDir)) profiles[f] = summarizeProfile(join(profDir, f));
      out.profiles = profiles;
    }
  } finally {
    await proxy?.close();
    await bucket.stop();
    restoreAppendTarget(base);
    if (!flag('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const targets = (arg('--targets') ?? 'file,s3rver,rgw').split(',') as Target[];
  for (const t of targets) if (!['file', 's3rver', 'rgw'].includes(t)) throw new Error(`unknown target ${t}`);
  const lines = Number(arg('--lines') ?? DEFAULT_LINES);
  const dataDir = resolve(arg('--data') ?? join(OUT, `data-seed1-${lines === DEFAULT_LINES ? '1m' : `${lines}l`}`));
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(join(dataDir, 'manifest.json'))) {
    log(`generating ${lines} lines into ${relative(ROOT, dataDir)}`);
    generate({ ...presetOptions('large', 1, dataDir), targetBytes: Infinity, events: lines });
  }
  ensureCli();
  const base = await prepareBase(dataDir);
  log(`device A: ${base.events} events from ${round(base.sourceBytes.total / 1e6)} MB of logs`);
  if (flag('--prepare-only')) return;
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGB: Math.round(totalmem() / 2 ** 30), node: process.version };
  for (const t of targets) {
    const r = await runTarget(t, base);
    const file = join(OUT, `sync-results-${t}${arg('--label') ? `-${arg('--label')}` : ''}.json`);
    const res = { date: new Date().toISOString(), machine, data: relative(ROOT, dataDir), sourceBytes: base.sourceBytes, baseIngest: base.ingest, ...r };
    writeFileSync(file, JSON.stringify(res, null, 2));
    log(`${t}: results in ${relative(ROOT, file)}`);
    process.stdout.write(JSON.stringify(res, null, 2) + '\n');
  }
}

await main();
