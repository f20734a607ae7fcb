/**
 * Simulated devices for the sync end-to-end tests: each device is a temp STACKUNDERFLOW_HOME
 * with its own Claude Code and Codex log folders, driven through the real CLI (`runCli`,
 * in-process) exactly as a user would drive it. Every command's output is kept in a shared
 * transcript so a test can later scan all of it (e.g. for a leaked secret).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, relative } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { openDb, type Db } from '../../src/store/db.js';
import type { Clock } from '../../src/model/clock.js';
import { FIXTURES_DIR, tempDir } from './fixtures.js';

/** One CLI run as a device saw it. */
export interface RunResult {
  argv: string[];
  device: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** Every command run by any device in this test file, in order. */
export const transcript: RunResult[] = [];

export interface DeviceOptions {
  /** Clock for this device's commands (HLC stamps of ingest, times in sync state). Default: the system clock. */
  clock?: Clock;
  /** Extra environment for every command of this device. */
  env?: NodeJS.ProcessEnv;
}

/** A simulated machine: its own store, its own logs, the CLI run against them. */
export class Device {
  readonly home: string;
  readonly claudeDir: string;
  readonly codexDir: string;
  readonly env: NodeJS.ProcessEnv;
  clock?: Clock;

  constructor(
    readonly name: string,
    opts: DeviceOptions = {},
  ) {
    const root = tempDir(`su-dev-${name}-`);
    this.home = join(root, 'home');
    this.claudeDir = join(root, 'claude');
    this.codexDir = join(root, 'codex');
    mkdirSync(join(this.claudeDir, 'projects'), { recursive: true });
    mkdirSync(join(this.codexDir, 'sessions'), { recursive: true });
    this.clock = opts.clock;
    // A closed world: nothing of the real user's home, logs or AWS config is read.
    this.env = {
      PATH: process.env.PATH,
      HOME: root,
      TZ: 'UTC',
      NO_COLOR: '1',
      STACKUNDERFLOW_HOME: this.home,
      CLAUDE_CONFIG_DIR: this.claudeDir,
      CODEX_HOME: this.codexDir,
      ...opts.env,
    };
  }

  /** Runs `stackunderflow <argv>` on this device; never throws for a non-zero exit. */
  async run(argv: string[], extra: { env?: NodeJS.ProcessEnv; clock?: Clock; tty?: boolean } = {}): Promise<RunResult> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: { ...this.env, ...extra.env },
      clock: extra.clock ?? this.clock,
      stdout: { write: (s: string) => (stdout += s) },
      // A terminal as cli-progress sees one: isTTY and a width.
      stderr: Object.assign({ write: (s: string) => (stderr += s) }, extra.tty ? { isTTY: true, columns: 80 } : {}),
      isTTY: false,
      stderrIsTTY: extra.tty ?? false,
    });
    const r = { argv, device: this.name, code, stdout, stderr };
    transcript.push(r);
    return r;
  }

  /** Runs a command that must succeed (exit 0) and returns its result. */
  async ok(argv: string[], extra: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<RunResult> {
    const r = await this.run(argv, extra);
    if (r.code !== 0) throw new Error(`${this.name}: stackunderflow ${argv.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
    return r;
  }

  /** Runs a `--json` command that must succeed and parses its stdout. */
  async json<T = any>(argv: string[], extra: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<T> {
    return JSON.parse((await this.ok([...argv, '--json'], extra)).stdout) as T;
  }

  ingest(): Promise<RunResult> {
    return this.ok(['ingest']);
  }

  /** `report daily --json -z UTC --scope <scope>`. */
  daily(scope: string): Promise<any> {
    return this.json(['report', 'daily', '-z', 'UTC', '--scope', scope]);
  }

  /** Copies `test/fixtures/claude/projects/<slug>` (whole project folders) into this device's Claude dir. */
  addClaudeProjects(...slugs: string[]): void {
    for (const slug of slugs) cpSync(join(FIXTURES_DIR, 'claude', 'projects', slug), join(this.claudeDir, 'projects', slug), { recursive: true });
  }

  /** Copies one fixture file (path relative to test/fixtures/claude/projects) into this device's Claude dir. */
  addClaudeFile(rel: string): void {
    const dest = join(this.claudeDir, 'projects', rel);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(join(FIXTURES_DIR, 'claude', 'projects', rel), dest);
  }

  /** Copies one Codex fixture file (path relative to test/fixtures/codex) into this device's Codex home. */
  addCodexFile(rel: string): void {
    const dest = join(this.codexDir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(join(FIXTURES_DIR, 'codex', rel), dest);
  }

  /** Copies the Codex fixtures (sessions and archived_sessions) into this device's Codex home. */
  addCodexFixtures(): void {
    cpSync(join(FIXTURES_DIR, 'codex'), this.codexDir, { recursive: true });
  }

  get storeFile(): string {
    return join(this.home, 'store.db');
  }

  get syncDir(): string {
    return join(this.home, 'sync');
  }

  /** Opens this device's store for a moment (reads only by convention) and closes it again. */
  withDb<T>(fn: (db: Db) => T): T {
    const db = openDb(this.storeFile);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  /** This device's id (`meta.device_id`). */
  get id(): string {
    return this.withDb((db) => db.prepare(`SELECT value FROM meta WHERE key = 'device_id'`).pluck().get() as string);
  }
}

/** Every table of the store, every row, in a stable order: for "nothing changed" comparisons. */
export function dumpStore(device: Device, opts: { exclude?: string[] } = {}): Record<string, unknown[]> {
  return device.withDb((db) => {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[]).filter(
      (t) => !(opts.exclude ?? []).includes(t),
    );
    const out: Record<string, unknown[]> = {};
    for (const t of tables) {
      const cols = (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[]).map((c) => `"${c}"`);
      out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY ${cols.join(', ')}`).all();
    }
    return out;
  });
}

/** Files under `dir` (relative paths) with size and SHA-256: a bucket listing you can diff. */
export function listTree(dir: string): Record<string, { size: number; sha256: string }> {
  const out: Record<string, { size: number; sha256: string }> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const buf = readFileSync(p);
        out[relative(dir, p)] = { size: statSync(p).size, sha256: createHash('sha256').update(buf).digest('hex') };
      }
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** A fresh, empty `file://` bucket directory and its URL. */
export function fileBucket(): { dir: string; url: string } {
  const dir = tempDir('su-bucket-');
  return { dir, url: `file://${dir}` };
}

/** Sets up sync on `first` (generating the key) and joins the others with it. Returns the secret. */
export async function setupSync(bucketArgs: string[], first: Device, ...others: Device[]): Promise<string> {
  await first.ok(['sync', 'init', ...bucketArgs, '--device-name', first.name]);
  const key = (await first.ok(['sync', 'key', 'export'])).stdout.trim();
  for (const d of others) {
    d.env.STACKUNDERFLOW_SYNC_KEY = key;
    await d.ok(['sync', 'init', ...bucketArgs, '--device-name', d.name]);
  }
  return key;
}

/**
 * A TCP forwarder on a fixed local port that can be taken down and brought back: while it is
 * down the port refuses connections, as a stopped server's would, and the server behind it
 * keeps its data for when it "comes back".
 */
export class TcpGate {
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.#sockets) sock.destroy();
    await closed;
  }
}
