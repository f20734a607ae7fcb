import { runCli } from './run.js';

// `stackunderflow report daily | head` closes our stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// The bin: real process streams in, exit code out. Everything else lives in runCli.
// No top-level await: the bin is this file bundled as CommonJS (scripts/build-cli.mjs).
void runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  // Made on first use only: creating process.stdin costs every command a stream it never reads.
  get stdin() {
    return process.stdin;
  },
  isTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
