#!/usr/bin/env node
/**
 * Bundles the CLI into dist/bin/ (run by `npm run build`, after tsc):
 *   dist/bin/stackunderflow.js   the `stackunderflow` bin
 *   dist/bin/decoder-worker.js   the sync pull's decoder thread (src/sync/decoder.ts starts it beside itself)
 *   dist/bin/chunk-*.js          code shared by commands, loaded when a command needs it
 *
 * Why a bundle: every command is a fresh process, and a report spends most of its time
 * starting. Node's ESM loader resolves, reads, compiles and links each module on its own
 * (~30 of ours and commander's for a report); one file per command does that work once.
 * Code splitting keeps each command's lazy imports lazy (a report never loads sync code).
 *
 * What stays outside: better-sqlite3 (a native addon) and the dependencies only some
 * commands load (the AWS SDK, age, chokidar, hono, …), resolved from node_modules as before.
 * Only commander, which every command loads, goes in.
 */
import { readFileSync, rmSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bin');
const BUNDLED = new Set(['commander']);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d));

rmSync(OUT, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { stackunderflow: 'src/cli/main.ts', 'decoder-worker': 'src/sync/decoder-worker.ts' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  // Bundled CommonJS (commander) calls require() for Node built-ins; an ES module has none.
  banner: { js: "import { createRequire as __suCreateRequire } from 'node:module'; const require = __suCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(join(OUT, 'stackunderflow.js'), 0o755);
