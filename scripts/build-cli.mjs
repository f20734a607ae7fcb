#!/usr/bin/env node
/**
 * Bundles the CLI into dist/bin/ (run by `npm run build`):
 *   dist/bin/stackunderflow.js     the `stackunderflow` bin: a launcher (scripts/bin.cjs) that runs
 *                                  cli.cjs with V8's code cache
 *   dist/bin/package.json          {"type": "commonjs"}: the launcher keeps the bin's path (npm's
 *                                  links to it, npx's cache of a clone) while the package is ESM
 *   dist/bin/cli.cjs               the whole CLI, one CommonJS file
 *   dist/bin/cli.cjs.cache         V8's compiled code for cli.cjs, made here by running a report
 *   dist/bin/statusline.cjs(.cache) Claude Code's status-line hook alone (src/cli/statusline-main.ts),
 *                                  which the launcher runs for `stackunderflow statusline`, and its cache
 *   dist/bin/decoder-worker.cjs    the sync pull's decoder thread (src/sync/decoder.ts starts it beside itself)
 *   dist/bin/read-worker.cjs       ingest's reader thread (src/ingest/reader.ts)
 *
 * Why this shape: every command is a fresh process, and a report spends most of its time
 * starting (the 50× target against ccusage; BENCHMARKS.md). Measured on the 200 MB bench
 * store, `report daily --json` took 125 ms as split ES modules, 110 ms as one CommonJS file
 * (Node's ESM loader resolves, links and evaluates each chunk on its own), 104 ms with
 * better-sqlite3's JavaScript inside it, and 94 ms with the code cache (V8 parses the
 * 0.4 MB file and compiles what a report runs once, here, instead of at every start); an
 * empty `node` process takes 47 ms.
 *
 * One file stays lazy where it matters: esbuild wraps each module in an init function that
 * runs on first use, so a report never evaluates sync code, and the packages only some
 * commands need stay outside and load on first use (the AWS SDK, chokidar, hono, …).
 * age-encryption and chokidar are ES modules only: the sources load them with importEsm
 * (src/util/esm.ts), never require(). better-sqlite3's compiled addon is loaded from its
 * package (src/store/db.ts names it).
 */
import { readFileSync, rmSync, chmodSync, copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bin');
/** Dependencies inside the bundle: loaded by every command or by every store access. */
const BUNDLED = new Set(['commander', 'better-sqlite3']);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
// `bindings` is better-sqlite3's fallback addon finder, used only when db.ts cannot name the addon.
const external = [...Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)), 'bindings'];

/**
 * commander loads node:child_process at its start for executable subcommands, which we never
 * use: with it come net and stream, ~5 ms of every report's start. It is loaded on first use
 * instead; the build fails if commander's line changes rather than silently keeping the cost.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes(eager)) throw new Error(`build-cli: commander no longer has \`${eager}\` (scripts/build-cli.mjs lazyChildProcess)`);
      return { contents: src.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  plugins: [lazyChildProcess],
  absWorkingDir: ROOT,
  entryPoints: { cli: 'src/cli/main.ts', statusline: 'src/cli/statusline-main.ts', 'decoder-worker': 'src/sync/decoder-worker.ts', 'read-worker': 'src/ingest/read-worker.ts' },
  outdir: OUT,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  // No comments or indentation to read at every start (the source map keeps the sources).
  minifyWhitespace: true,
  minifySyntax: true,
  // The sources are ES modules that find files relative to themselves.
  define: { 'import.meta.url': '__suImportMetaUrl' },
  banner: { js: "var __suImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
const BIN = join(OUT, 'stackunderflow.js');
writeFileSync(join(OUT, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
copyFileSync(join(ROOT, 'scripts', 'bin.cjs'), BIN);
chmodSync(BIN, 0o755);

// The code cache: V8's bytecode for what a report compiles, taken at the end of a real run
// over the bundled sample logs, ingested into a temporary home. A Node with another V8
// rejects it and compiles as if it were absent: a stale cache costs time, never correctness.
const home = mkdtempSync(join(tmpdir(), 'su-build-'));
try {
  const env = { PATH: process.env.PATH, HOME: home, STACKUNDERFLOW_HOME: home, CLAUDE_CONFIG_DIR: join(ROOT, 'samples', 'claude'), CODEX_HOME: join(ROOT, 'samples', 'codex') };
  const run = (args, extra = {}) => execFileSync(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, stdio: 'pipe' });
  run(['ingest']);
  run(['report', 'daily', '--json', '--timezone', 'UTC'], { STACKUNDERFLOW_WRITE_CODE_CACHE: '1' });
  // The status line's bundle, from a hook call naming a transcript its store has not read: the
  // call reads it (the ingest code every call of a live session runs) and sums the figures.
  const session = 'ba79134d-b6e9-4867-af0c-6941038c9e4b';
  const transcript = join(ROOT, 'samples', 'claude', 'projects', '-Users-test-dev-ai-music', `${session}.jsonl`);
  const line = execFileSync(process.execPath, [BIN, 'statusline'], {
    env: { ...env, STACKUNDERFLOW_HOME: join(home, 'hook'), STACKUNDERFLOW_WRITE_CODE_CACHE: '1', STACKUNDERFLOW_DEBUG: '1' },
    input: JSON.stringify({ session_id: session, transcript_path: transcript, model: { id: 'claude-sonnet-4-20250514', display_name: 'Sonnet 4' } }),
    stdio: 'pipe',
  }).toString();
  if (!/ session /.test(line)) throw new Error(`the status line printed ${JSON.stringify(line)}`);
} catch (err) {
  throw new Error(`build-cli: the bundled CLI failed its first run: ${err.stderr || err.message}`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
for (const bundle of ['cli.cjs', 'statusline.cjs']) {
  if (!existsSync(join(OUT, `${bundle}.cache`))) throw new Error(`build-cli: the code cache of ${bundle} was not written`);
}
