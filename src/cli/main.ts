import { runCli } from './run.js';
import { stdoutOutput } from './fd-output.js';

// `stackunderflow report daily | head` closes our stdout early: that is not an error.
const stdout = stdoutOutput(
  () => process.stdout,
  () => process.exit(0),
);

// The bin: real process streams in, exit code out. Everything else lives in runCli.
// No top-level await: the bin is this file bundled as CommonJS (scripts/build-cli.mjs).
// Node's streams are made on first use only: a command that never reads stdin or writes
// stderr does not pay for them.
void runCli(process.argv.slice(2), {
  env: process.env,
  stdout,
  // The stream itself, not a wrapper: progress bars draw on it as a terminal.
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
  isTTY: stdout.isTTY(),
  get stderrIsTTY() {
    return process.stderr.isTTY === true;
  },
}).then((code) => {
  process.exitCode = code;
});
