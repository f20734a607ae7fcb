#!/usr/bin/env node
'use strict';
/**
 * The `stackunderflow` bin (copied to dist/bin/stackunderflow.js by build-cli.mjs): runs the
 * bundled CLI, cli.cjs, with V8's code cache beside it. Node 20 keeps no compile cache for
 * our code, and parsing and compiling the 0.4 MB bundle is a tenth of a report's time.
 *
 * The bundle is run as Node itself would run it (the same wrapper, require, __filename and
 * __dirname), only compiled through vm.Script, which takes cached data. V8 checks the cache
 * against its own version and flags and the source's length, and compiles normally if it
 * does not match: a missing cache, or one from another Node, makes a start slower, never
 * different. build-cli.mjs writes the bundle and its cache together, never one alone.
 */
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { createRequire } = require('node:module');
const vm = require('node:vm');

/**
 * The bundle to run: exactly `stackunderflow statusline` (Claude Code's status-line hook, run
 * on every prompt) has its own, smaller one with its own cache (src/cli/statusline-main.ts).
 */
function bundleFor(argv) {
  return argv.length === 1 && argv[0] === 'statusline' ? 'statusline.cjs' : 'cli.cjs';
}

/** Compiles a bundle (default cli.cjs); `rejected` says whether a cache was there and V8 refused it. */
function compileCli(name = 'cli.cjs') {
  const file = join(__dirname, name);
  let cachedData;
  try {
    cachedData = readFileSync(file + '.cache');
  } catch {
    // no cache: compile from the source
  }
  // Node's CommonJS wrapper, plus the import() the bundle uses for ES-module-only packages
  // (src/util/esm.ts): one compiled from a cache made by another process has lost its loader.
  const source = '(function (exports, require, module, __filename, __dirname, __stackunderflowImport) { ' + readFileSync(file, 'utf8') + '\n})';
  const script = new vm.Script(source, { filename: file, cachedData });
  return { file, script, cached: cachedData !== undefined, rejected: cachedData !== undefined && script.cachedDataRejected === true };
}

function run() {
  const { file, script } = compileCli(bundleFor(process.argv.slice(2)));
  // The build makes the cache from a finished run, so it holds what that run compiled.
  if (process.env.STACKUNDERFLOW_WRITE_CODE_CACHE === '1') {
    process.once('exit', (code) => {
      if (code !== 0) return;
      const cache = file + '.cache';
      writeFileSync(cache + '.tmp', script.createCachedData());
      renameSync(cache + '.tmp', cache);
    });
  }
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname, (specifier) => import(specifier));
}

if (require.main === module) run();
module.exports = { bundleFor, compileCli };
