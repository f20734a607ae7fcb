import { runStatusline } from './commands/statusline.js';

/**
 * The status-line hook's own bundle (dist/bin/statusline.cjs): the bin runs it for exactly
 * `stackunderflow statusline`, which Claude Code runs on every prompt, and cli.cjs for
 * anything else (`statusline --help` included). It is the same command (runStatusline)
 * without commander and the rest of the CLI: a sixth of cli.cjs to read and compile, and
 * commander's first line loads node:child_process.
 *
 * stdin stays Node's stream: on a pipe or a socket (Claude Code runs the hook on a socket)
 * it is a net.Socket, whose module costs ~8 ms to load, but reading the descriptor directly
 * cannot be given up on: a read blocked on a writer that never closes holds the process at
 * exit, and the prompt with it.
 */
// A reader that went away is not an error: nobody is left to show the line to.
process.stdout.on('error', () => process.exit(0));

// runStatusline prints its fallback line itself and does not throw; exit 0 even if it did.
const exit0 = () => void (process.exitCode = 0);
runStatusline({ env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(exit0, exit0);
