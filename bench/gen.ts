/**
 * Seedable synthetic log generator for the benchmark: writes Claude Code and Codex logs in
 * their on-disk layouts, with the record shapes seen in real logs (see test/fixtures/SOURCES.md),
 * and a `manifest.json` with the per-day token totals a correct reader must find.
 *
 * Output is a pure function of the options (no Math.random, no wall clock): the same seed and
 * options give byte-identical trees. Files are written line by line through small buffers, so
 * memory stays flat whatever the size.
 *
 *   tsx bench/gen.ts --seed 1 --size small --out DIR
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Named scales: bytes to write, days spanned, projects used. */
export type SizePreset = 'tiny' | 'small' | 'hundred' | 'medium' | 'large';

export const PRESETS: Record<SizePreset, { targetBytes: number; days: number; projects: number }> = {
  tiny: { targetBytes: 2_000_000, days: 5, projects: 3 },
  small: { targetBytes: 20_000_000, days: 14, projects: 6 },
  hundred: { targetBytes: 100_000_000, days: 30, projects: 12 },
  medium: { targetBytes: 200_000_000, days: 45, projects: 16 },
  large: { targetBytes: 1_000_000_000, days: 90, projects: 30 },
};

export interface GenerateOptions {
  seed: number;
  /** Receives `claude/projects/...`, `codex/sessions/...` and `manifest.json`. */
  outDir: string;
  /** Stop starting new sessions once this many bytes are written (the last session finishes). */
  targetBytes?: number;
  /** Alternatively (or additionally) stop once this many lines are written. */
  events?: number;
  days?: number;
  projects?: number;
  /** Last UTC day of the span, YYYY-MM-DD. Fixed by default so output does not depend on today. */
  endDate?: string;
  /** Share of sessions that are Codex rather than Claude Code. */
  codexShare?: number;
  /**
   * Share of sessions from the other agents (Copilot CLI, Gemini CLI, Qwen Code, OpenCode, pi, in turn).
   * Default 0, which leaves the trees of earlier versions byte for byte as they were.
   */
  otherShare?: number;
  /** Every session from this one agent (for per-agent throughput). */
  only?: GenAgent;
  /** Probability that a garbage (torn) line is inserted after any line. */
  malformedRate?: number;
  /** Called after each session with running totals. */
  onProgress?: (p: { bytes: number; lines: number }) => void;
}

/** Billing totals per UTC day, by the rule of docs/numbers.md. */
export interface ClaudeDay {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/** Codex per-day totals from cumulative `token_count` deltas (inputTokens excludes cached input). */
export interface CodexDay {
  inputTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

/** The agents the generator writes logs for. */
export type GenAgent = 'claude' | 'codex' | OtherAgent;
export type OtherAgent = 'copilot' | 'gemini' | 'qwen' | 'opencode' | 'pi';
export const OTHER_AGENTS: readonly OtherAgent[] = ['copilot', 'gemini', 'qwen', 'opencode', 'pi'];

/** The environment that points every adapter at a generated tree (`outDir`). */
export function genEnv(outDir: string): NodeJS.ProcessEnv {
  return {
    HOME: outDir, CLAUDE_CONFIG_DIR: join(outDir, 'claude'), CODEX_HOME: join(outDir, 'codex'), COPILOT_HOME: join(outDir, 'copilot'),
    GEMINI_CLI_HOME: join(outDir, 'gemini'), QWEN_DATA_DIR: join(outDir, 'qwen'), OPENCODE_DATA_DIR: join(outDir, 'opencode'), PI_AGENT_DIR: join(outDir, 'pi'),
  };
}

/** Per-day billing of the other agents, each token once (see docs/numbers.md, "Other agents"). */
export interface AgentDay {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export interface FileCounts {
  files: number;
  bytes: number;
  lines: number;
  sessions: number;
}

export interface GenerateResult {
  seed: number;
  files: number;
  bytes: number;
  lines: number;
  malformedLines: number;
  claude: { files: number; bytes: number; lines: number; sessions: number; usageLines: number; uniqueUsage: number };
  codex: { files: number; bytes: number; lines: number; sessions: number; tokenCounts: number };
  copilot: FileCounts;
  gemini: FileCounts;
  qwen: FileCounts;
  /** OpenCode's database is one file; its lines are message and part rows. */
  opencode: FileCounts;
  pi: FileCounts;
  expected: { claude: Record<string, ClaudeDay>; codex: Record<string, CodexDay> } & { [A in OtherAgent]: Record<string, AgentDay> };
}

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32. Small, fast, and identical on every platform.

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  weighted<T>(xs: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of xs) total += w;
    let r = this.next() * total;
    for (const [x, w] of xs) {
      r -= w;
      if (r < 0) return x;
    }
    return xs[xs.length - 1][0];
  }
  /** Log-normal with the given median; `sigma` sets the tail. */
  logn(median: number, sigma: number): number {
    const u = 1 - this.next();
    const v = this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * z);
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
  b62(n: number): string {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += abc[this.u32() % 62];
    return s;
  }
  uuid(): string {
    const h = this.hex(32);
    const v = ((parseInt(h[16], 16) & 3) | 8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** UUIDv7-style id (Codex session ids start with the creation time). */
  uuid7(ms: number): string {
    const t = Math.floor(ms).toString(16).padStart(12, '0');
    const h = this.hex(20);
    const v = ((parseInt(h[3], 16) & 3) | 8).toString(16);
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${h.slice(0, 3)}-${v}${h.slice(4, 7)}-${h.slice(7, 19)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Text. Slices of pools built once per run keep 1 GB of output cheap to produce.

const WORDS = (
  'the a to of and in is it that for on with this we be as are function file test error value ' +
  'return type should can will not from by config build module import export const let async await ' +
  'update change fix add remove check run output input parse line data path name state store event ' +
  'session project report daily token usage cache read write query index table column row schema ' +
  'migration commit branch merge diff patch review issue bug feature refactor performance memory ' +
  'request response server client handler route api endpoint json string number array object map ' +
  'list set key hash stream buffer chunk offset size limit timeout retry lock queue worker thread ' +
  'component render props hook effect context provider layout style theme button form field ' +
  'I think let me look at first then next now also here there because so but however actually ' +
  'looks good done works failing passing expected received undefined null true false'
).split(' ');

const CODE_LINES = [
  'export function {w}({w}: string): number {',
  '  const {w} = await {w}.{w}({w});',
  '  if (!{w}) throw new Error("{w} {w}");',
  '  return {w}.map(({w}) => {w}.{w});',
  '}',
  'import { {w} } from "./{w}.js";',
  '  for (const {w} of {w}) {',
  '    {w}.push({w});',
  '  }',
  'def {w}(self, {w}):',
  '    return self.{w}[{w}]',
  '  it("{w} {w} {w}", async () => {',
  '    expect({w}).toBe({w});',
  '  });',
  '// {w} {w} {w} {w}',
  '  {w}: {w}.{w} ?? 0,',
  'SELECT {w}, sum({w}) FROM {w} WHERE {w} = ? GROUP BY {w};',
];

interface Pools {
  prose: string;
  code: string;
  b64: string;
}

function buildPools(rng: Rng): Pools {
  const prose: string[] = [];
  let n = 0;
  while (n < 400_000) {
    const len = rng.int(6, 22);
    const ws: string[] = [];
    for (let i = 0; i < len; i++) ws.push(rng.pick(WORDS));
    let s = ws.join(' ');
    s = s[0].toUpperCase() + s.slice(1) + rng.weighted([['. ', 8], ['.\n\n', 2], [': ', 1], ['? ', 1], [' → ', 0.3], [' — ', 0.3], [' ✓ ', 0.1]] as const);
    if (rng.chance(0.08)) s += '`' + rng.pick(WORDS) + '.' + rng.pick(['ts', 'js', 'py', 'md', 'json']) + '` ';
    if (rng.chance(0.03)) s += '\n- ' + rng.pick(WORDS) + ' "' + rng.pick(WORDS) + '"\n- ' + rng.pick(WORDS) + '\n';
    if (rng.chance(0.01)) s += 'café naïve 日本語 ';
    prose.push(s);
    n += s.length;
  }
  const code: string[] = [];
  n = 0;
  while (n < 400_000) {
    const s = rng.pick(CODE_LINES).replace(/\{w\}/g, () => rng.pick(WORDS).replace(/ /g, '_')) + '\n';
    code.push(rng.chance(0.05) ? `${rng.int(1, 400)}\t${s}` : s);
    n += s.length;
  }
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let b64 = '';
  for (let i = 0; i < 200_000; i++) b64 += abc[rng.u32() & 63];
  return { prose: prose.join(''), code: code.join(''), b64 };
}

function slice(rng: Rng, pool: string, len: number): string {
  len = Math.max(1, Math.floor(len));
  let out = '';
  while (out.length < len) {
    const take = Math.min(len - out.length, pool.length - 1);
    const at = rng.int(0, pool.length - take - 1);
    out += pool.slice(at, at + take);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

class LineFile {
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  bytes = 0;
  lines = 0;
  lastTs = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }
  raw(line: string): number {
    const n = Buffer.byteLength(line) + 1;
    this.buf.push(line, '\n');
    this.bufLen += n;
    this.bytes += n;
    this.lines++;
    if (this.bufLen > 1 << 20) this.flush();
    return n;
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.bufLen = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    // mtime = last record, as the tool would have left it; keeps the tree reproducible too.
    if (this.lastTs > 0) utimesSync(this.path, this.lastTs / 1000, this.lastTs / 1000);
  }
}

const DAY = 86_400_000;
/** OpenCode's tables as its drizzle schema declares them: the DDL of the fixture database (everything before its first row). */
const OPENCODE_SCHEMA = readFileSync(new URL('../test/fixtures/opencode/opencode.sql', import.meta.url), 'utf8').split('\nINSERT ')[0];

const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();
const dayOf = (ms: number) => iso(ms).slice(0, 10);

const CLAUDE_MODELS: ReadonlyArray<readonly [string, number]> = [
  ['claude-sonnet-4-5-20250929', 5],
  ['claude-opus-4-5-20251101', 3],
  ['claude-opus-4-6', 2],
  ['claude-sonnet-4-20250514', 1],
  ['claude-opus-4-1-20250805', 0.5],
];
const SUBAGENT_MODELS = ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929'];
const CODEX_MODELS: ReadonlyArray<readonly [string, number]> = [
  ['gpt-5-codex', 3],
  ['gpt-5.1-codex-max', 2],
  ['gpt-5.1-codex', 1],
  ['gpt-5', 1],
];
const PROJECT_NAMES = [
  'api-server', 'web_app', 'infra', 'data-pipeline', 'mobile.client', 'docs', 'ml-experiments', 'cli-tools',
  'payments', 'auth-service', 'dashboard', 'sdk-js', 'sdk_python', 'scraper', 'game-engine', 'notes',
];
const TOOLS: ReadonlyArray<readonly [string, number]> = [
  ['Bash', 5], ['Read', 6], ['Edit', 3], ['Grep', 2], ['Glob', 1], ['Write', 1], ['TodoWrite', 1], ['WebFetch', 0.3],
];

type Era = 'old' | 'mid' | 'new';

interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

interface Project {
  cwd: string;
  slug: string;
  branch: string;
  /** Head of the last Claude session, replayed when a later session is resumed from it. */
  replay: string[] | null;
}

interface ClaudeSession {
  id: string;
  project: Project;
  era: Era;
  version: string;
  model: string;
  cache1h: boolean;
  t: number;
  parent: string | null;
  ctx: number;
  sidechain: boolean;
  agentId: string | null;
  slugName: string | null;
  file: LineFile;
  /** First lines, kept for a later resumed session to replay. */
  head: string[] | null;
}

class Generator {
  private rng: Rng;
  private pools: Pools;
  private out: string;
  private projects: Project[] = [];
  /** Each response's bill by the rule (docs/numbers.md): earliest line's day, each count at its max. */
  private bills = new Map<string, { ts: string; c: [number, number, number, number] }>();
  private lineNo = 0;
  private otherTurn = 0;
  readonly result: GenerateResult;
  private malformedRate: number;

  constructor(private opts: Required<Pick<GenerateOptions, 'seed' | 'outDir'>> & GenerateOptions) {
    this.rng = new Rng(opts.seed);
    this.pools = buildPools(this.rng);
    this.out = resolve(opts.outDir);
    this.malformedRate = opts.malformedRate ?? 1 / 5000;
    this.result = {
      seed: opts.seed, files: 0, bytes: 0, lines: 0, malformedLines: 0,
      claude: { files: 0, bytes: 0, lines: 0, sessions: 0, usageLines: 0, uniqueUsage: 0 },
      codex: { files: 0, bytes: 0, lines: 0, sessions: 0, tokenCounts: 0 },
      copilot: { files: 0, bytes: 0, lines: 0, sessions: 0 },
      gemini: { files: 0, bytes: 0, lines: 0, sessions: 0 },
      qwen: { files: 0, bytes: 0, lines: 0, sessions: 0 },
      opencode: { files: 0, bytes: 0, lines: 0, sessions: 0 },
      pi: { files: 0, bytes: 0, lines: 0, sessions: 0 },
      expected: { claude: {}, codex: {}, copilot: {}, gemini: {}, qwen: {}, opencode: {}, pi: {} },
    };
    const n = opts.projects ?? 6;
    for (let i = 0; i < n; i++) {
      const base = PROJECT_NAMES[i % PROJECT_NAMES.length] + (i >= PROJECT_NAMES.length ? `-${Math.floor(i / PROJECT_NAMES.length) + 1}` : '');
      const cwd = this.rng.pick(['/home/dev/work/', '/Users/dev/src/', '/home/dev/code/']) + base;
      this.projects.push({ cwd, slug: cwd.replace(/[^a-zA-Z0-9]/g, '-'), branch: this.rng.pick(['main', 'master', 'dev', 'feat/' + this.rng.pick(WORDS)]), replay: null });
    }
  }

  run(): GenerateResult {
    const o = this.opts;
    const days = o.days ?? 14;
    const end = Date.parse(`${o.endDate ?? '2026-03-31'}T00:00:00.000Z`);
    const first = end - (days - 1) * DAY;
    const target = o.targetBytes ?? (o.events ? Infinity : 20_000_000);
    const maxLines = o.events ?? Infinity;
    const codexShare = o.codexShare ?? 0.25;
    const otherShare = o.otherShare ?? 0;
    // Zipf-ish project popularity: a few projects get most sessions, as in real use.
    const projWeights = this.projects.map((p, i) => [p, 1 / (i + 1)] as const);
    while (this.result.bytes < target && this.result.lines < maxLines) {
      const d = this.rng.int(0, days - 1);
      const dayStart = first + d * DAY;
      const weekday = new Date(dayStart).getUTCDay();
      if ((weekday === 0 || weekday === 6) && this.rng.chance(0.6)) continue;
      // Mostly working hours; some late sessions so that a share runs past midnight UTC.
      const hour = this.rng.weighted([[this.rng.int(8, 18), 8], [this.rng.int(19, 22), 2], [23, 1], [this.rng.int(0, 7), 0.5]] as const);
      const start = dayStart + hour * 3_600_000 + this.rng.int(0, 3_599_999);
      const project = this.rng.weighted(projWeights);
      const agent: GenAgent = o.only ?? (otherShare > 0 && this.rng.chance(otherShare) ? OTHER_AGENTS[this.otherTurn++ % OTHER_AGENTS.length] : this.rng.chance(codexShare) ? 'codex' : 'claude');
      if (agent === 'codex') this.codexSession(project, start);
      else if (agent === 'claude') this.claudeSession(project, start);
      else if (agent === 'opencode') this.opencodeSession(project, start);
      else this.otherSession(agent, project, start);
      o.onProgress?.({ bytes: this.result.bytes, lines: this.result.lines });
    }
    this.closeOpencode();
    this.result.claude.uniqueUsage = this.bills.size;
    for (const { ts, c } of this.bills.values()) {
      const d = (this.result.expected.claude[ts.slice(0, 10)] ??= { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
      d.inputTokens += c[0];
      d.outputTokens += c[1];
      d.cacheCreationTokens += c[2];
      d.cacheReadTokens += c[3];
    }
    const sortKeys = <T>(r: Record<string, T>) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
    this.result.expected.claude = sortKeys(this.result.expected.claude);
    this.result.expected.codex = sortKeys(this.result.expected.codex);
    for (const a of OTHER_AGENTS) this.result.expected[a] = sortKeys(this.result.expected[a]);
    writeFileSync(join(this.out, 'manifest.json'), JSON.stringify({ options: { ...o, outDir: undefined, onProgress: undefined }, ...this.result }, null, 2) + '\n');
    return this.result;
  }

  private write(f: LineFile, rec: object, ts: number, provider: GenAgent): string {
    const line = JSON.stringify(rec);
    this.emit(f, line, provider);
    if (ts > f.lastTs) f.lastTs = ts;
    if (this.rng.chance(this.malformedRate)) {
      // A torn write left behind by a crash: a strict prefix of a record is never valid JSON.
      this.emit(f, line.slice(0, this.rng.int(1, Math.max(1, Math.min(line.length - 1, 400)))), provider);
      this.result.malformedLines++;
    }
    return line;
  }

  private emit(f: LineFile, line: string, provider: GenAgent): void {
    const n = f.raw(line);
    this.result.bytes += n;
    this.result.lines++;
    this.result[provider].bytes += n;
    this.result[provider].lines++;
  }

  private openFile(path: string, provider: GenAgent): LineFile {
    this.result.files++;
    this.result[provider].files++;
    return new LineFile(join(this.out, path));
  }

  // ------------------------------------------------------------- Copilot CLI, Gemini CLI, Qwen Code

  /** Adds one billed response to the expected per-day totals of an agent. */
  private bill(agent: OtherAgent, ts: number, u: Omit<AgentDay, 'totalTokens'>): void {
    const e = (this.result.expected[agent][dayOf(ts)] ??= { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, reasoningTokens: 0, totalTokens: 0 });
    e.inputTokens += u.inputTokens;
    e.outputTokens += u.outputTokens;
    e.cacheCreationTokens += u.cacheCreationTokens;
    e.cacheReadTokens += u.cacheReadTokens;
    e.reasoningTokens += u.reasoningTokens;
    e.totalTokens += u.inputTokens + u.outputTokens + u.cacheCreationTokens + u.cacheReadTokens;
  }

  /**
   * One session of Copilot CLI, Gemini CLI or Qwen Code, in its own layout and record shapes:
   * turns of prompt, reply, tool call and result, with each agent's way of logging usage
   * (Copilot: running totals at shutdown, sometimes resumed; Gemini: a reply appended again
   * with its tokens; Qwen: OpenAI-style usage, reasoning inside the candidates).
   */
  private otherSession(agent: Exclude<OtherAgent, 'opencode'>, project: Project, start: number): void {
    const rng = this.rng;
    const P = this.pools;
    const id = rng.uuid();
    const path =
      agent === 'copilot' ? `copilot/session-state/${id}/events.jsonl`
      : agent === 'gemini' ? `gemini/.gemini/tmp/${project.slug}/chats/session-${iso(start).slice(0, 16).replace(/:/g, '-')}-${id.slice(0, 8)}.jsonl`
      : agent === 'pi' ? `pi/--${project.cwd.slice(1).replace(/\//g, '-')}--/${iso(start).replace(/[:.]/g, '-')}_${id}.jsonl`
      : `qwen/projects/${project.slug}/chats/${id}.jsonl`;
    const f = this.openFile(path, agent);
    this.result[agent].sessions++;
    let t = start;
    let ctx = rng.int(8_000, 20_000);
    const model =
      agent === 'copilot' ? rng.pick(['claude-sonnet-4.5', 'gpt-5.1-codex', 'gemini-3-pro-preview'])
      : agent === 'gemini' ? rng.pick(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-3-pro-preview'])
      : agent === 'pi' ? rng.pick(['claude-sonnet-4-5', 'gpt-5.1-codex'])
      : rng.pick(['qwen3-coder-plus', 'coder-model']);
    const totals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    let billed = { ...totals };
    let prev: string | null = null;
    const w = (rec: Record<string, unknown>) => this.write(f, rec, t, agent);
    const cp = (type: string, data: Record<string, unknown>) => {
      const eid = rng.uuid();
      w({ type, data, id: eid, timestamp: iso(t), parentId: prev });
      prev = eid;
    };
    const shutdown = () => {
      cp('session.shutdown', { shutdownType: 'routine', sessionStartTime: start, totalApiDurationMs: rng.int(1000, 90000), currentModel: model, codeChanges: { linesAdded: 0, linesRemoved: 0, filesModified: [] },
        modelMetrics: { [model]: { requests: { count: 1, cost: 1 }, usage: { inputTokens: totals.input, outputTokens: totals.output, cacheReadTokens: totals.cacheRead, cacheWriteTokens: totals.cacheWrite, reasoningTokens: totals.reasoning } } } });
      const d = { input: totals.input - billed.input, output: totals.output - billed.output, cacheRead: totals.cacheRead - billed.cacheRead, cacheWrite: totals.cacheWrite - billed.cacheWrite, reasoning: totals.reasoning - billed.reasoning };
      if (d.input + d.output > 0) {
        this.bill('copilot', t, { inputTokens: d.input - d.cacheRead - d.cacheWrite, outputTokens: d.output, cacheCreationTokens: d.cacheWrite, cacheReadTokens: d.cacheRead, reasoningTokens: d.reasoning });
      }
      billed = { ...totals };
    };
    if (agent === 'copilot') cp('session.start', { sessionId: id, version: 1, producer: 'copilot-agent', copilotVersion: '1.0.40', startTime: iso(start), selectedModel: model, context: { cwd: project.cwd, branch: project.branch } });
    if (agent === 'gemini') w({ sessionId: id, projectHash: project.slug, startTime: iso(start), lastUpdated: iso(start), kind: 'main' });
    // pi: the header, then entries with 8-hex ids chained by parentId; kept to copy into a branch.
    const piLines: Array<Record<string, unknown>> = [];
    if (agent === 'pi') w({ type: 'session', version: 3, id, timestamp: iso(start), cwd: project.cwd });
    const turns = Math.max(1, Math.min(40, Math.round(rng.logn(6, 0.9))));
    for (let turn = 0; turn < turns; turn++) {
      const prompt = slice(rng, P.prose, rng.logn(250, 1.1)).trim() || 'go on';
      const reply = slice(rng, P.prose, rng.logn(500, 0.9));
      const args = { path: `${project.cwd}/src/${rng.pick(WORDS)}.ts` };
      const result = slice(rng, P.code, rng.logn(1200, 0.8));
      const input = ctx;
      const cached = turn === 0 ? 0 : Math.floor(input * (0.5 + rng.next() * 0.4));
      const output = Math.max(1, Math.round(rng.logn(300, 1.0)));
      const thoughts = Math.floor(output * rng.next() * 0.5);
      ctx += output + Math.ceil(result.length / 3.5);
      const uid = rng.uuid();
      if (agent === 'copilot') {
        cp('user.message', { content: prompt });
        t += rng.int(1000, 20000);
        cp('assistant.message', { messageId: uid, content: reply, model, toolRequests: [] });
        cp('tool.execution_start', { toolCallId: `call-${turn}`, toolName: 'view', arguments: args });
        t += rng.int(100, 3000);
        cp('tool.execution_complete', { toolCallId: `call-${turn}`, success: true, result: { content: result } });
        const write = turn === 0 ? rng.int(0, 4000) : 0;
        totals.input += input + write;
        totals.cacheRead += cached;
        totals.cacheWrite += write;
        totals.output += output;
        totals.reasoning += thoughts;
        if (turn === Math.floor(turns / 2) && rng.chance(0.3)) {
          // Closed and resumed later the same day: the next shutdown carries running totals.
          shutdown();
          t += rng.int(60_000, 3_600_000);
          cp('session.resume', { resumeTime: iso(t), eventCount: turn * 5 });
        }
      } else if (agent === 'gemini') {
        w({ id: rng.uuid(), timestamp: iso(t), type: 'user', content: [{ text: prompt }] });
        t += rng.int(1000, 20000);
        const msg = { id: uid, timestamp: iso(t), type: 'gemini', content: '', model, tokens: null as unknown };
        // The recorder writes a reply first without tokens, then again, same id, with them.
        if (rng.chance(0.6)) w(msg);
        const tokens = { input, output, cached, thoughts, tool: 0, total: input + output + thoughts };
        w({ ...msg, content: reply, thoughts: thoughts > 0 ? [{ subject: rng.pick(WORDS), description: slice(rng, P.prose, 120), timestamp: iso(t) }] : [], tokens,
          toolCalls: [{ id: `read_file-${turn}`, name: 'read_file', args, status: 'success', timestamp: iso(t), result: [{ functionResponse: { id: `read_file-${turn}`, name: 'read_file', response: { output: result } } }] }] });
        this.bill('gemini', t, { inputTokens: input - cached, outputTokens: output + thoughts, cacheCreationTokens: 0, cacheReadTokens: cached, reasoningTokens: thoughts });
      } else if (agent === 'pi') {
        const entry = (message: Record<string, unknown>) => {
          const eid = rng.uuid().slice(0, 8);
          const rec = { type: 'message', id: eid, parentId: prev, timestamp: iso(t), message: { ...message, timestamp: Math.floor(t) } };
          w(rec);
          piLines.push(rec);
          prev = eid;
        };
        entry({ role: 'user', content: [{ type: 'text', text: prompt }] });
        t += rng.int(1000, 20000);
        // pi's Usage: input is uncached, output includes any reasoning, the cost is its own.
        const write = turn === 0 ? rng.int(0, 4000) : 0;
        const usage = { input: input - cached, output, cacheRead: cached, cacheWrite: write, totalTokens: input + output + write, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: (input + output) / 1e6 } };
        entry({ role: 'assistant', content: [{ type: 'text', text: reply }, { type: 'toolCall', id: `call_${turn}`, name: 'read', arguments: args }], api: 'anthropic-messages', provider: 'anthropic', model, usage, stopReason: 'toolUse' });
        this.bill('pi', t, { inputTokens: input - cached, outputTokens: output, cacheCreationTokens: write, cacheReadTokens: cached, reasoningTokens: 0 });
        t += rng.int(100, 3000);
        entry({ role: 'toolResult', toolCallId: `call_${turn}`, toolName: 'read', content: [{ type: 'text', text: result }], isError: false });
      } else {
        const base = { sessionId: id, cwd: project.cwd, version: '0.9.1', gitBranch: project.branch };
        const u1 = rng.uuid();
        w({ uuid: u1, parentUuid: prev, timestamp: iso(t), type: 'user', ...base, message: { role: 'user', parts: [{ text: prompt }] } });
        t += rng.int(1000, 20000);
        w({ uuid: uid, parentUuid: u1, timestamp: iso(t), type: 'assistant', ...base, model, message: { role: 'model', parts: [{ text: slice(rng, P.prose, 100), thought: true }, { text: reply }, { functionCall: { id: `call_${turn}`, name: 'read_file', args } }] },
          usageMetadata: { promptTokenCount: input, candidatesTokenCount: output, thoughtsTokenCount: thoughts, cachedContentTokenCount: cached, totalTokenCount: input + output } });
        this.bill('qwen', t, { inputTokens: input - cached, outputTokens: output, cacheCreationTokens: 0, cacheReadTokens: cached, reasoningTokens: thoughts });
        const u3 = rng.uuid();
        w({ uuid: u3, parentUuid: uid, timestamp: iso(t + 500), type: 'tool_result', ...base, message: { role: 'user', parts: [{ functionResponse: { id: `call_${turn}`, name: 'read_file', response: { output: result } } }] }, toolCallResult: { callId: `call_${turn}`, status: 'success' } });
        prev = u3;
      }
      t += rng.logn(90_000, 1.2);
    }
    if (agent === 'copilot') shutdown();
    f.close();
    if (agent === 'pi' && piLines.length > 3 && rng.chance(0.2)) {
      // A branch (`/tree`): a new session file that copies the entries up to a point; the copied replies are the same calls, billed once.
      const bid = rng.uuid();
      const b = this.openFile(`pi/--${project.cwd.slice(1).replace(/\//g, '-')}--/${iso(t).replace(/[:.]/g, '-')}_${bid}.jsonl`, 'pi');
      this.result.pi.sessions++;
      this.write(b, { type: 'session', version: 3, id: bid, timestamp: iso(t), cwd: project.cwd, parentSession: f.path }, t, 'pi');
      for (const rec of piLines.slice(0, rng.int(2, piLines.length))) this.write(b, rec, t, 'pi');
      b.close();
    }
  }

  /**
   * One OpenCode session, as rows of its database (`opencode/opencode.db`, OpenCode's own
   * tables): a user message and an assistant reply per turn, each with its parts, sometimes
   * a sub-agent session (parent_id set). Tokens as OpenCode splits them: input uncached,
   * output without reasoning, cache read and write apart.
   */
  private opencodeSession(project: Project, start: number): void {
    const rng = this.rng;
    const P = this.pools;
    const db = this.opencodeDb();
    const sub = this.opencodeLast !== null && rng.chance(0.2);
    const sid = `ses_${rng.uuid().replace(/-/g, '').slice(0, 24)}`;
    const pid = `prj_${project.slug}`;
    db.prepare('INSERT OR IGNORE INTO project VALUES (?, ?, ?, ?, ?, ?)').run(pid, project.cwd, 'git', project.slug, start, start);
    db.prepare('INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(sid, pid, sub ? this.opencodeLast : null, rng.pick(WORDS) + '-' + rng.pick(WORDS), project.cwd, slice(rng, P.prose, 40).trim() || 'session', '1.2.10', start, start);
    if (!sub) this.opencodeLast = sid;
    this.result.opencode.sessions++;
    const msg = db.prepare('INSERT INTO message VALUES (?, ?, ?, ?, ?)');
    const part = db.prepare('INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)');
    const model = rng.pick([['anthropic', 'claude-sonnet-4-5'], ['openai', 'gpt-5'], ['google', 'gemini-2.5-pro']] as const);
    let t = start;
    let ctx = rng.int(8_000, 20_000);
    const row = (data: string, parts: Array<Record<string, unknown>>, created: number, updated: number) => {
      const mid = `msg_${(this.opencodeSeq++).toString(16).padStart(12, '0')}`;
      msg.run(mid, sid, created, updated, data);
      this.opencodeRows(1, data.length);
      parts.forEach((p, i) => {
        const text = JSON.stringify(p);
        part.run(`prt_${mid.slice(4)}_${i}`, mid, sid, created + i, updated, text);
        this.opencodeRows(1, text.length);
      });
      return mid;
    };
    const turns = Math.max(1, Math.min(40, Math.round(rng.logn(6, 0.9))));
    for (let turn = 0; turn < turns; turn++) {
      const prompt = slice(rng, P.prose, rng.logn(250, 1.1)).trim() || 'go on';
      const reply = slice(rng, P.prose, rng.logn(500, 0.9));
      const result = slice(rng, P.code, rng.logn(1200, 0.8));
      const uid = row(JSON.stringify({ role: 'user', time: { created: Math.floor(t) }, agent: 'build', model: { providerID: model[0], modelID: model[1] } }), [{ type: 'text', text: prompt }], Math.floor(t), Math.floor(t));
      if (rng.chance(this.malformedRate)) {
        // A row whose data is not JSON (a damaged database page): malformed, counted, nothing billed.
        row(JSON.stringify({ role: 'assistant' }).slice(0, 5), [], Math.floor(t), Math.floor(t));
        this.result.malformedLines++;
      }
      t += rng.int(1000, 20000);
      const cached = turn === 0 ? 0 : Math.floor(ctx * (0.5 + rng.next() * 0.4));
      const write = turn === 0 ? rng.int(0, 4000) : rng.int(0, 400);
      const output = Math.max(1, Math.round(rng.logn(300, 1.0)));
      const reasoning = Math.floor(output * rng.next() * 0.5);
      const input = ctx - cached;
      const done = t + rng.int(1000, 30000);
      const tokens = { total: input + output + reasoning + cached + write, input, output, reasoning, cache: { read: cached, write } };
      row(JSON.stringify({ role: 'assistant', time: { created: Math.floor(t), completed: Math.floor(done) }, parentID: uid, modelID: model[1], providerID: model[0], mode: sub ? 'general' : 'build', agent: sub ? 'general' : 'build',
        path: { cwd: project.cwd, root: project.cwd }, cost: (input + output) / 1e6, tokens, finish: 'tool-calls' }),
      [{ type: 'step-start' }, { type: 'text', text: reply }, { type: 'tool', callID: `call_${turn}`, tool: 'read', state: { status: 'completed', input: { filePath: `${project.cwd}/src/${rng.pick(WORDS)}.ts` }, output: result, title: 'read', metadata: {}, time: { start: Math.floor(t), end: Math.floor(done) } } }],
      Math.floor(t), Math.floor(done));
      this.opencodeLastTs = Math.max(this.opencodeLastTs, Math.floor(done));
      this.bill('opencode', Math.floor(t), { inputTokens: input, outputTokens: output + reasoning, cacheCreationTokens: write, cacheReadTokens: cached, reasoningTokens: reasoning });
      ctx += output + Math.ceil(result.length / 3.5);
      t = done + rng.logn(90_000, 1.2);
    }
  }

  private opencode: Database.Database | null = null;
  private opencodeLast: string | null = null;
  private opencodeSeq = 0;
  private opencodeLastTs = 0;

  /** The database, created on the first OpenCode session in OpenCode's schema (the fixture's tables), in WAL mode as OpenCode keeps it. */
  private opencodeDb(): Database.Database {
    if (this.opencode) return this.opencode;
    const path = join(this.out, 'opencode', 'opencode.db');
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(OPENCODE_SCHEMA);
    this.result.files++;
    this.result.opencode.files++;
    this.opencode = db;
    return db;
  }

  private opencodeRows(n: number, bytes: number): void {
    this.result.lines += n;
    this.result.opencode.lines += n;
    this.result.bytes += bytes;
  }

  private closeOpencode(): void {
    if (!this.opencode) return;
    this.opencode.close();
    const path = join(this.out, 'opencode', 'opencode.db');
    // bytes counted as the JSON written; the file's own size replaces them for the per-agent row.
    this.result.opencode.bytes = statSync(path).size;
    // mtime = the last row written, as for the log files: keeps the tree reproducible.
    utimesSync(path, this.opencodeLastTs / 1000, this.opencodeLastTs / 1000);
    this.opencode = null;
  }

  // ------------------------------------------------------------------------------ Claude Code

  private claudeSession(project: Project, start: number): void {
    const rng = this.rng;
    const era = rng.weighted([['old', 1], ['mid', 3], ['new', 6]] as const);
    const version = era === 'old' ? `1.0.${rng.int(30, 128)}` : era === 'mid' ? `2.0.${rng.int(10, 76)}` : `2.1.${rng.int(1, 120)}`;
    const id = rng.uuid();
    const file = this.openFile(`claude/projects/${project.slug}/${id}.jsonl`, 'claude');
    this.result.claude.sessions++;
    if (rng.chance(0.004)) {
      // Claude Code leaves empty files behind (sessions opened and closed without a prompt).
      file.lastTs = start;
      file.close();
      return;
    }
    const s: ClaudeSession = {
      id, project, era, version, model: rng.weighted(CLAUDE_MODELS), cache1h: era === 'new' && rng.chance(0.3), t: start,
      parent: null, ctx: rng.int(12_000, 25_000), sidechain: false, agentId: null,
      slugName: era === 'new' ? `${rng.pick(WORDS)}-${rng.pick(WORDS)}-${rng.pick(WORDS)}` : null, file, head: [],
    };
    if (rng.chance(0.1)) {
      // Older versions start a file with summaries of earlier conversations (no timestamp).
      for (let i = rng.int(1, 3); i > 0; i--) this.write(file, { type: 'summary', summary: slice(rng, this.pools.prose, rng.int(30, 160)).trim(), leafUuid: rng.uuid() }, 0, 'claude');
    }
    if (project.replay && rng.chance(0.12)) {
      // A resumed conversation: the new file starts with a copy of the earlier one, same
      // message ids, request ids and timestamps under the new session id. Billing must count these once.
      const prevId = /"sessionId":"([^"]+)"/.exec(project.replay[0])?.[1];
      for (const line of project.replay) {
        const copy = prevId ? line.split(`"sessionId":"${prevId}"`).join(`"sessionId":"${id}"`) : line;
        this.emit(file, copy, 'claude');
        this.accountClaudeLine(copy);
        const m = /"uuid":"([^"]+)"/.exec(copy);
        if (m) s.parent = m[1];
      }
    }
    const turns = Math.max(1, Math.min(80, Math.round(rng.logn(6, 0.9))));
    for (let t = 0; t < turns; t++) {
      this.claudeTurn(s, t === 0);
      s.t += rng.logn(90_000, 1.3);
      if (s.ctx > 150_000 && rng.chance(0.5)) this.compact(s);
    }
    if (era === 'new' && rng.chance(0.5)) {
      this.write(file, { type: 'last-prompt', lastPrompt: slice(rng, this.pools.prose, 120).trim() + '…', sessionId: id }, 0, 'claude');
    }
    if (s.head && s.head.length > 0) project.replay = s.head;
    file.close();
  }

  private base(s: ClaudeSession, type: string): Record<string, unknown> {
    const r: Record<string, unknown> = { parentUuid: s.parent, isSidechain: s.sidechain, userType: 'external', cwd: s.project.cwd, sessionId: s.id, version: s.version, gitBranch: s.project.branch };
    if (s.agentId) r.agentId = s.agentId;
    if (s.slugName) r.slug = s.slugName;
    r.type = type;
    return r;
  }

  private claudeLine(s: ClaudeSession, rec: Record<string, unknown>): void {
    const uuid = this.rng.uuid();
    rec.uuid = uuid;
    rec.timestamp = iso(s.t);
    const line = this.write(s.file, rec, s.t, 'claude');
    s.parent = uuid;
    if (s.head && s.head.length < 30 && rec.type !== 'progress') s.head.push(line);
  }

  /** Adds a replayed line's usage to the expected totals. */
  private accountClaudeLine(line: string): void {
    if (!line.includes('"usage"')) return;
    const o = JSON.parse(line) as { type?: string; timestamp?: string; requestId?: string; message?: { id?: string; usage?: Usage } };
    if (o.type === 'assistant' && o.message?.usage && o.timestamp) this.accountUsage(o.timestamp, o.message.id, o.requestId, o.message.usage);
  }

  /** Billing by the rule: one bill per message.id (else requestId, else the line), max per count, dated by the earliest line. */
  private accountUsage(ts: string, messageId: string | undefined, requestId: string | undefined, u: Usage): void {
    this.result.claude.usageLines++;
    const key = messageId ? `m:${messageId}` : requestId ? `r:${requestId}` : `line:${this.lineNo++}`;
    const c: [number, number, number, number] = [u.input_tokens, u.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens];
    const b = this.bills.get(key);
    if (!b) this.bills.set(key, { ts, c });
    else {
      if (ts < b.ts) b.ts = ts;
      b.c = b.c.map((x, i) => Math.max(x, c[i])) as typeof c;
    }
  }

  private claudeTurn(s: ClaudeSession, firstTurn: boolean): void {
    const rng = this.rng;
    const P = this.pools;
    const f = s.file;
    if (!s.sidechain) {
      if (s.era !== 'old') {
        const mid = rng.uuid();
        this.write(f, { type: 'file-history-snapshot', messageId: mid, snapshot: { messageId: mid, trackedFileBackups: {}, timestamp: iso(s.t) }, isSnapshotUpdate: false }, s.t, 'claude');
      }
      if (firstTurn && s.era === 'new') {
        this.write(f, { type: 'permission-mode', permissionMode: rng.pick(['default', 'acceptEdits', 'bypassPermissions']), sessionId: s.id }, 0, 'claude');
        if (rng.chance(0.5)) this.claudeLine(s, { ...this.base(s, 'progress'), data: { type: 'hook_progress', hookEvent: 'SessionStart', hookName: 'SessionStart:startup', command: '~/.claude/hooks/session-start.sh' }, parentToolUseID: rng.uuid(), toolUseID: rng.uuid() });
      }
      if (rng.chance(0.05)) {
        const cmd = rng.pick(['/model', '/clear', '/context', '/cost']);
        this.claudeLine(s, { ...this.base(s, 'system'), subtype: 'local_command', content: `<command-name>${cmd}</command-name>\n            <command-message>${cmd.slice(1)}</command-message>\n            <command-args></command-args>`, level: 'info', isMeta: false });
        s.t += rng.int(1000, 20_000);
      }
      if (s.era !== 'old' && rng.chance(0.05)) {
        this.write(f, { type: 'queue-operation', operation: 'enqueue', timestamp: iso(s.t), content: [{ type: 'text', text: slice(rng, P.prose, rng.int(10, 200)) }], sessionId: s.id }, s.t, 'claude');
      }
      let prompt = slice(rng, P.prose, rng.logn(250, 1.1)).trim() || 'continue';
      if (rng.chance(0.2)) prompt += `\n\n<system-reminder>\n${slice(rng, P.prose, rng.int(200, 1500))}\n</system-reminder>`;
      const content = rng.chance(0.7) ? prompt : [{ type: 'text', text: prompt }];
      const rec: Record<string, unknown> = { ...this.base(s, 'user'), message: { role: 'user', content } };
      if (s.era !== 'old' && firstTurn) rec.thinkingMetadata = { maxThinkingTokens: 31999 };
      if (s.era !== 'old') rec.permissionMode = 'default';
      s.ctx += Math.ceil(prompt.length / 4);
      this.claudeLine(s, rec);
      s.t += rng.int(1500, 9000);
    }

    const steps = Math.max(0, Math.min(40, Math.round(rng.logn(3, 1.0))));
    for (let i = 0; i <= steps; i++) {
      const final = i === steps;
      if (rng.chance(0.006)) this.apiError(s);
      const blocks: Array<Record<string, unknown>> = [];
      if (s.era !== 'old' && rng.chance(0.5)) {
        blocks.push({ type: 'thinking', thinking: slice(rng, P.prose, rng.logn(250, 1.0)), signature: slice(rng, P.b64, rng.int(200, 1200)) });
      }
      if (final || rng.chance(0.5)) blocks.push({ type: 'text', text: slice(rng, P.prose, final ? rng.logn(700, 0.9) : rng.logn(120, 0.8)) });
      const calls: Array<{ id: string; name: string; input: Record<string, unknown> }> = [];
      if (!final) {
        const k = rng.weighted([[1, 8], [2, 2], [3, 1], [4, 0.3]] as const);
        for (let j = 0; j < k; j++) {
          const name = !s.sidechain && rng.chance(0.06) ? 'Task' : rng.weighted(TOOLS);
          const call = { id: `toolu_01${rng.b62(22)}`, name, input: this.toolInput(s, name) };
          calls.push(call);
          blocks.push({ type: 'tool_use', id: call.id, name, input: call.input });
        }
      }
      this.assistantCall(s, blocks, final ? 'end_turn' : 'tool_use');
      for (const c of calls) this.toolResult(s, c);
    }
    if (!s.sidechain && s.era === 'new') {
      if (rng.chance(0.3)) this.claudeLine(s, { ...this.base(s, 'system'), subtype: 'stop_hook_summary', hookCount: 1, hookInfos: [{ command: '~/.claude/hooks/stop.sh' }], hookErrors: [], preventedContinuation: false, stopReason: '', hasOutput: false, level: 'suggestion', toolUseID: rng.uuid() });
      if (rng.chance(0.5)) this.claudeLine(s, { ...this.base(s, 'system'), subtype: 'turn_duration', durationMs: rng.int(5_000, 900_000), isMeta: false });
    }
  }

  /** One API request written as one line per content block (streaming split), same usage on each. */
  private assistantCall(s: ClaudeSession, blocks: Array<Record<string, unknown>>, stop: string): void {
    const rng = this.rng;
    const msgId = `msg_01${rng.b62(22)}`;
    // Old logs sometimes lack requestId; such lines are billed per line by ccusage.
    const requestId = s.era === 'old' && rng.chance(0.05) ? undefined : `req_011C${rng.b62(18)}`;
    const created = Math.min(s.ctx, Math.round(rng.logn(1500, 1.2)));
    const usage: Record<string, unknown> = {
      input_tokens: rng.chance(0.8) ? rng.int(1, 12) : rng.int(13, 4000),
      cache_creation_input_tokens: created,
      cache_read_input_tokens: Math.max(0, s.ctx - created),
    };
    if (s.era !== 'old') usage.cache_creation = s.cache1h ? { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: created } : { ephemeral_5m_input_tokens: created, ephemeral_1h_input_tokens: 0 };
    usage.output_tokens = Math.max(1, Math.round(rng.logn(300, 1.1)));
    usage.service_tier = 'standard';
    s.ctx += (usage.output_tokens as number) + 40;
    // A stream split can straddle midnight: each line keeps its own timestamp, billing goes to the first.
    for (let b = 0; b < blocks.length; b++) {
      const message = { model: s.model, id: msgId, type: 'message', role: 'assistant', content: [blocks[b]], stop_reason: b === blocks.length - 1 ? stop : null, stop_sequence: null, usage };
      const rec: Record<string, unknown> = { ...this.base(s, 'assistant'), message };
      if (requestId) rec.requestId = requestId;
      // Keep `type` after message/requestId like Claude Code writes it.
      delete rec.type;
      rec.type = 'assistant';
      this.claudeLine(s, rec);
      this.accountUsage(rec.timestamp as string, msgId, requestId, usage as unknown as Usage);
      s.t += rng.int(200, 2500);
    }
  }

  private apiError(s: ClaudeSession): void {
    const rng = this.rng;
    const text = rng.pick([
      'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      'API Error: Request was aborted.',
      'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
      `Claude AI usage limit reached|${Math.floor(s.t / 1000) + 3600}`,
    ]);
    const rec: Record<string, unknown> = {
      ...this.base(s, 'assistant'),
      message: { id: rng.uuid(), container: null, model: '<synthetic>', role: 'assistant', stop_reason: 'stop_sequence', stop_sequence: '', type: 'message', usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 }, service_tier: null, cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: 0 } }, content: [{ type: 'text', text }] },
      isApiErrorMessage: true,
    };
    this.claudeLine(s, rec);
    this.accountUsage(rec.timestamp as string, (rec.message as { id: string }).id, undefined, { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    s.t += rng.int(2000, 30_000);
  }

  private toolInput(s: ClaudeSession, name: string): Record<string, unknown> {
    const rng = this.rng;
    const file = `${s.project.cwd}/src/${rng.pick(WORDS)}/${rng.pick(WORDS)}.${rng.pick(['ts', 'py', 'go', 'md'])}`;
    switch (name) {
      case 'Bash': return { command: rng.pick(['npm test', 'git status', 'ls -la', 'npx tsc --noEmit', `grep -rn "${rng.pick(WORDS)}" src`, 'cargo build', 'pytest -x -q']), description: slice(rng, this.pools.prose, rng.int(15, 60)).trim() };
      case 'Read': return { file_path: file };
      case 'Edit': return { file_path: file, old_string: slice(rng, this.pools.code, rng.logn(150, 0.9)), new_string: slice(rng, this.pools.code, rng.logn(200, 0.9)) };
      case 'Write': return { file_path: file, content: slice(rng, this.pools.code, rng.logn(1200, 0.9)) };
      case 'Grep': return { pattern: rng.pick(WORDS), path: s.project.cwd, output_mode: 'content' };
      case 'Glob': return { pattern: `**/*.${rng.pick(['ts', 'py', 'md'])}` };
      case 'TodoWrite': return { todos: Array.from({ length: rng.int(2, 6) }, () => ({ content: slice(rng, this.pools.prose, rng.int(20, 80)).trim(), status: rng.pick(['pending', 'in_progress', 'completed']), activeForm: slice(rng, this.pools.prose, 30).trim() })) };
      case 'WebFetch': return { url: `https://example.com/${rng.pick(WORDS)}`, prompt: slice(rng, this.pools.prose, 80) };
      case 'Task': return { description: slice(rng, this.pools.prose, rng.int(15, 40)).trim(), prompt: slice(rng, this.pools.prose, rng.logn(600, 0.7)), subagent_type: rng.pick(['general-purpose', 'Explore', 'Plan']) };
      default: return {};
    }
  }

  private toolResult(s: ClaudeSession, call: { id: string; name: string; input: Record<string, unknown> }): void {
    const rng = this.rng;
    const P = this.pools;
    let text: string;
    let toolUseResult: unknown;
    if (call.name === 'Task') {
      text = this.subagent(s, call);
      toolUseResult = { status: 'completed', prompt: call.input.prompt, totalDurationMs: rng.int(10_000, 300_000), totalTokens: rng.int(5_000, 90_000), totalToolUseCount: rng.int(1, 30) };
    } else {
      // Long tail: most results are small, a few are whole files or long command output.
      const size = rng.weighted([[rng.logn(150, 0.8), 80], [rng.logn(1200, 0.6), 15], [rng.logn(6000, 0.5), 4], [rng.logn(40_000, 0.6), 1]] as const);
      if (call.name === 'Bash' && s.era !== 'old' && rng.chance(0.5)) {
        for (let p = rng.int(1, 3); p > 0; p--) {
          const out = slice(rng, P.code, rng.int(30, 300));
          this.claudeLine(s, { ...this.base(s, 'progress'), data: { type: 'bash_progress', output: out, fullOutput: out, elapsedTimeSeconds: p + 1, totalLines: 3, timeoutMs: 120000 }, toolUseID: `bash-progress-${p}`, parentToolUseID: call.id });
          s.t += rng.int(1000, 5000);
        }
      }
      if (s.era === 'new' && rng.chance(0.5)) {
        // PreToolUse/PostToolUse hooks report progress lines around most tool calls.
        for (const ev of ['PreToolUse', 'PostToolUse']) this.claudeLine(s, { ...this.base(s, 'progress'), data: { type: 'hook_progress', hookEvent: ev, hookName: `${ev}:${call.name}`, command: '~/.claude/hooks/tool-capture.sh' }, parentToolUseID: call.id, toolUseID: call.id });
      }
      text = slice(rng, call.name === 'Read' || call.name === 'Bash' || call.name === 'Grep' ? P.code : P.prose, size);
      s.t += rng.logn(2000, 1.2);
      if (call.name === 'Bash') toolUseResult = { stdout: text, stderr: '', interrupted: false, isImage: false };
      else if (call.name === 'Read') toolUseResult = { type: 'text', file: { filePath: call.input.file_path, content: text, numLines: text.split('\n').length, startLine: 1, totalLines: text.split('\n').length } };
      else if (call.name === 'Edit') toolUseResult = { filePath: call.input.file_path, oldString: call.input.old_string, newString: call.input.new_string, userModified: false, replaceAll: false };
      else toolUseResult = rng.chance(0.5) ? text.slice(0, 200) : undefined;
    }
    const isError = call.name !== 'Task' && rng.chance(0.04);
    const rec: Record<string, unknown> = { ...this.base(s, 'user'), message: { role: 'user', content: [{ tool_use_id: call.id, type: 'tool_result', content: isError ? `<tool_use_error>${text.slice(0, 300)}</tool_use_error>` : text, is_error: isError }] } };
    if (toolUseResult !== undefined) rec.toolUseResult = isError ? `Error: ${text.slice(0, 200)}` : toolUseResult;
    s.ctx += Math.ceil(text.length / 3.5);
    this.claudeLine(s, rec);
    s.t += rng.int(500, 4000);
  }

  /** Runs a subagent: a separate file (new or old flat layout) or, in the oldest logs, inline sidechain lines. */
  private subagent(s: ClaudeSession, call: { id: string; input: Record<string, unknown> }): string {
    const rng = this.rng;
    const parentUuid = s.parent;
    const sub: ClaudeSession = {
      ...s, model: rng.pick(SUBAGENT_MODELS), parent: null, ctx: rng.int(8_000, 16_000), sidechain: true, head: null,
      agentId: s.era === 'new' ? `a${rng.hex(16)}` : rng.hex(8),
    };
    let file: LineFile | null = null;
    if (s.era === 'new') {
      file = this.openFile(`claude/projects/${s.project.slug}/${s.id}/subagents/agent-${sub.agentId}.jsonl`, 'claude');
      const meta = join(this.out, `claude/projects/${s.project.slug}/${s.id}/subagents/agent-${sub.agentId}.meta.json`);
      writeFileSync(meta, JSON.stringify({ agentType: call.input.subagent_type, description: call.input.description }));
      utimesSync(meta, s.t / 1000, s.t / 1000);
    } else if (s.era === 'mid') {
      file = this.openFile(`claude/projects/${s.project.slug}/agent-${sub.agentId}.jsonl`, 'claude');
    } else {
      sub.agentId = null;
      sub.parent = parentUuid;
    }
    if (file) sub.file = file;
    this.claudeLine(sub, { ...this.base(sub, 'user'), message: { role: 'user', content: call.input.prompt as string } });
    sub.t += rng.int(1000, 4000);
    const turnsBefore = sub.t;
    this.claudeTurn(sub, false);
    if (s.era === 'new' && rng.chance(0.3)) {
      this.claudeLine(s, { ...this.base(s, 'progress'), data: { message: { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: slice(rng, this.pools.prose, 120) }] }, timestamp: iso(turnsBefore) }, normalizedMessages: [], type: 'agent_progress', prompt: '', agentId: sub.agentId }, toolUseID: `agent_msg_01${rng.b62(22)}`, parentToolUseID: call.id });
    }
    if (file) file.close();
    else s.parent = sub.parent;
    s.t = sub.t + rng.int(200, 2000);
    return slice(rng, this.pools.prose, rng.logn(900, 0.8));
  }

  private compact(s: ClaudeSession): void {
    const rng = this.rng;
    const logical = s.parent;
    s.parent = null;
    const rec: Record<string, unknown> = { ...this.base(s, 'system'), subtype: 'compact_boundary', content: 'Conversation compacted', isMeta: false, level: 'info', compactMetadata: { trigger: rng.pick(['auto', 'manual']), preTokens: s.ctx } };
    rec.logicalParentUuid = logical;
    this.claudeLine(s, rec);
    if (s.era === 'new') {
      // The summary itself is produced by a compaction subagent with its own usage.
      const sub: ClaudeSession = { ...s, parent: null, sidechain: true, agentId: `acompact-${rng.hex(6)}`, head: null };
      sub.file = this.openFile(`claude/projects/${s.project.slug}/${s.id}/subagents/agent-${sub.agentId}.jsonl`, 'claude');
      this.claudeLine(sub, { ...this.base(sub, 'user'), message: { role: 'user', content: 'Your task is to create a detailed summary of the conversation so far.' } });
      this.assistantCall(sub, [{ type: 'text', text: slice(rng, this.pools.prose, rng.logn(4000, 0.4)) }], 'end_turn');
      sub.file.close();
      s.t = sub.t;
    }
    s.ctx = rng.int(15_000, 30_000);
    this.claudeLine(s, { ...this.base(s, 'user'), message: { role: 'user', content: 'This session is being continued from a previous conversation that ran out of context. The summary below covers the earlier portion of the conversation.\n\n' + slice(rng, this.pools.prose, rng.logn(5000, 0.4)) }, isVisibleInTranscriptOnly: true, isCompactSummary: true });
  }

  // ------------------------------------------------------------------------------------ Codex

  private codexSession(project: Project, start: number): void {
    const rng = this.rng;
    const P = this.pools;
    const id = rng.uuid7(start);
    const stamp = iso(start).slice(0, 19).replace(/:/g, '-');
    const [y, m, d] = iso(start).slice(0, 10).split('-');
    const archived = rng.chance(0.03);
    const f = this.openFile(archived ? `codex/archived_sessions/rollout-${stamp}-${id}.jsonl` : `codex/sessions/${y}/${m}/${d}/rollout-${stamp}-${id}.jsonl`, 'codex');
    this.result.codex.sessions++;
    let t = start;
    const w = (rec: Record<string, unknown>) => this.write(f, { timestamp: iso(t), ...rec }, t, 'codex');
    const cli = rng.pick(['0.46.0', '0.58.0', '0.63.0', '0.104.0']);
    w({ type: 'session_meta', payload: { id, timestamp: iso(start), cwd: project.cwd, originator: rng.pick(['codex_cli_rs', 'codex_vscode']), cli_version: cli, source: rng.pick(['cli', 'vscode']), model_provider: 'openai', base_instructions: { text: slice(rng, P.prose, rng.int(8000, 14000)) }, git: { commit_hash: rng.hex(40), branch: project.branch, repository_url: `git@github.com:dev/${project.slug.split('-').pop()}.git` } } });
    w({ type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `<environment_context>\n  <cwd>${project.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>` }] } });
    let model = rng.weighted(CODEX_MODELS);
    const total = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
    let ctx = rng.int(6_000, 12_000);
    let rate = rng.int(1, 60);
    const rateLimits = () => ({ primary: { used_percent: rate, window_minutes: 300, resets_in_seconds: rng.int(100, 18000) }, secondary: { used_percent: Math.floor(rate / 3), window_minutes: 10080, resets_in_seconds: rng.int(1000, 600000) } });
    const tokenCount = () => {
      const input = ctx;
      const cached = total.input_tokens === 0 ? rng.int(0, 3000) : Math.floor(input * (0.6 + rng.next() * 0.35));
      const output = Math.max(1, Math.round(rng.logn(250, 1.1)));
      const reasoning = Math.floor(output * rng.next() * 0.7);
      const last = { input_tokens: input, cached_input_tokens: Math.min(cached, input), output_tokens: output, reasoning_output_tokens: reasoning, total_tokens: input + output };
      total.input_tokens += last.input_tokens;
      total.cached_input_tokens += last.cached_input_tokens;
      total.output_tokens += output;
      total.reasoning_output_tokens += reasoning;
      total.total_tokens += last.total_tokens;
      ctx += output + 30;
      this.result.codex.tokenCounts++;
      const day = dayOf(t);
      const e = (this.result.expected.codex[day] ??= { inputTokens: 0, cacheReadTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 });
      e.inputTokens += last.input_tokens - last.cached_input_tokens;
      e.cacheReadTokens += last.cached_input_tokens;
      e.outputTokens += output;
      e.reasoningTokens += reasoning;
      e.totalTokens += last.total_tokens;
      const info = { total_token_usage: { ...total }, last_token_usage: last, model_context_window: 272000 };
      w({ type: 'event_msg', payload: { type: 'token_count', info, rate_limits: rateLimits() } });
      // Codex often reports the same cumulative count twice; a delta of zero must add nothing.
      if (rng.chance(0.5)) {
        t += rng.int(5, 60);
        w({ type: 'event_msg', payload: { type: 'token_count', info, rate_limits: rateLimits() } });
      }
    };
    const turns = Math.max(1, Math.min(60, Math.round(rng.logn(5, 0.9))));
    for (let turn = 0; turn < turns; turn++) {
      const turnId = rng.uuid7(t);
      if (rng.chance(0.05)) model = rng.weighted(CODEX_MODELS);
      if (cli !== '0.46.0') w({ type: 'event_msg', payload: { type: 'task_started', turn_id: turnId, model_context_window: 272000 } });
      w({ type: 'turn_context', payload: { turn_id: turnId, cwd: project.cwd, approval_policy: 'on-request', sandbox_policy: { type: 'workspace-write', writable_roots: [project.cwd], network_access: false }, model, effort: rng.pick(['medium', 'high']), summary: 'auto' } });
      const prompt = slice(rng, P.prose, rng.logn(250, 1.1)).trim() || 'go on';
      w({ type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] } });
      w({ type: 'event_msg', payload: { type: 'user_message', message: prompt, images: [] } });
      ctx += Math.ceil(prompt.length / 4);
      t += rng.int(100, 1500);
      w({ type: 'event_msg', payload: { type: 'token_count', info: null, rate_limits: rateLimits() } });
      const steps = Math.max(0, Math.min(50, Math.round(rng.logn(4, 1.0))));
      for (let i = 0; i <= steps; i++) {
        const final = i === steps;
        t += rng.logn(3000, 0.9);
        if (rng.chance(0.7)) {
          const summary = slice(rng, P.prose, rng.int(30, 200)).trim();
          w({ type: 'response_item', payload: { type: 'reasoning', summary: [{ type: 'summary_text', text: summary }], content: null, encrypted_content: slice(rng, P.b64, rng.int(600, 3000)) } });
          w({ type: 'event_msg', payload: { type: 'agent_reasoning', text: summary } });
        }
        if (final || rng.chance(0.2)) {
          const msg = slice(rng, P.prose, final ? rng.logn(600, 0.9) : rng.logn(150, 0.8));
          w({ type: 'event_msg', payload: { type: 'agent_message', message: msg } });
          w({ type: 'response_item', payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: msg }] } });
        }
        let callId: string | null = null;
        if (!final) {
          callId = `call_${rng.b62(24)}`;
          if (rng.chance(0.15)) {
            w({ type: 'response_item', payload: { type: 'custom_tool_call', status: 'completed', call_id: callId, name: 'apply_patch', input: `*** Begin Patch\n*** Update File: src/${rng.pick(WORDS)}.ts\n@@\n` + slice(rng, P.code, rng.logn(800, 0.8)) + '\n*** End Patch' } });
          } else {
            const cmd = rng.pick(['rg -n "' + rng.pick(WORDS) + '" src', 'sed -n 1,200p src/' + rng.pick(WORDS) + '.ts', 'npm test', 'git diff', 'ls -la', 'cat package.json']);
            w({ type: 'response_item', payload: { type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', cmd], workdir: project.cwd, timeout_ms: 120000 }), call_id: callId } });
          }
        }
        tokenCount();
        if (callId) {
          t += rng.logn(1500, 1.2);
          const size = rng.weighted([[rng.logn(200, 0.8), 75], [rng.logn(1500, 0.6), 18], [rng.logn(8000, 0.5), 6], [rng.logn(40_000, 0.6), 1]] as const);
          const out = slice(rng, P.code, size);
          w({ type: 'response_item', payload: { type: 'function_call_output', call_id: callId, output: JSON.stringify({ output: out, metadata: { exit_code: rng.chance(0.9) ? 0 : 1, duration_seconds: Math.round(rng.logn(0.5, 1.5) * 10) / 10 } }) } });
          ctx += Math.ceil(out.length / 3.5);
        }
      }
      if (cli !== '0.46.0') w({ type: 'event_msg', payload: { type: 'task_complete', turn_id: turnId, last_agent_message: null } });
      rate = Math.min(100, rate + rng.int(0, 2));
      t += rng.logn(120_000, 1.3);
      if (ctx > 200_000) {
        w({ type: 'compacted', payload: { message: '', replacement_history: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: slice(rng, P.prose, 2000) }] }] } });
        w({ type: 'event_msg', payload: { type: 'context_compacted' } });
        ctx = rng.int(10_000, 20_000);
      }
    }
    f.close();
  }
}

/** Writes a synthetic log tree under `opts.outDir` and returns what was written plus the expected totals. */
export function generate(opts: GenerateOptions): GenerateResult {
  return new Generator(opts).run();
}

/** Options for a named preset, overridable. */
export function presetOptions(size: SizePreset, seed: number, outDir: string): GenerateOptions {
  return { seed, outDir, ...PRESETS[size] };
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const [k, v] = a.includes('=') ? a.slice(2).split('=', 2) : [a.slice(2), argv[++i]];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    out[k] = v;
  }
  return out;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  if (!a.out) {
    process.stderr.write('usage: tsx bench/gen.ts --seed N --size tiny|small|hundred|medium|large --out DIR [--target-bytes N] [--events N] [--days N] [--projects N]\n');
    process.exit(64);
  }
  const size = (a.size ?? 'small') as SizePreset;
  if (!(size in PRESETS)) throw new Error(`unknown size ${size}`);
  const opts = presetOptions(size, Number(a.seed ?? 1), a.out);
  if (a['target-bytes']) opts.targetBytes = Number(a['target-bytes']);
  if (a.events) {
    opts.events = Number(a.events);
    if (!a['target-bytes']) opts.targetBytes = Infinity;
  }
  if (a.days) opts.days = Number(a.days);
  if (a.projects) opts.projects = Number(a.projects);
  const t0 = performance.now();
  let nextReport = 0;
  opts.onProgress = ({ bytes }) => {
    if (bytes >= nextReport) {
      process.stderr.write(`\r${(bytes / 1e6).toFixed(0)} MB`);
      nextReport = bytes + 50e6;
    }
  };
  const r = generate(opts);
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(`\r`);
  process.stdout.write(`${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB, ${r.lines} lines (${r.malformedLines} malformed) in ${s.toFixed(1)} s → ${resolve(a.out)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
