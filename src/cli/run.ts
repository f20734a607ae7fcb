import { Command, CommanderError } from 'commander';
import { SuError, exitCodeFor, messageOf } from '../errors.js';
import { packageVersion } from '../paths.js';
import type { CliIo } from './io.js';
import { registerIngest } from './commands/ingest.js';
import { registerReport } from './commands/report.js';
import { registerSessions } from './commands/sessions.js';
import { registerDemo } from './commands/demo.js';
import { registerServe } from './commands/serve.js';
import { registerSync } from './commands/sync.js';
import { registerSearch } from './commands/search.js';
import { registerShow } from './commands/show.js';
import { AGENTS } from '../adapters/agents.js';
import { PROVIDERS } from '../model/event.js';
import { registerStatusline } from './commands/statusline.js';

export type { CliIo } from './io.js';

/** Adds one command (or command group) to the program. Commands get the injected io, never process globals. */
type CommandRegistrar = (program: Command, io: CliIo) => void;

/** Every command by name, in help order. A new command plugs in by adding its registrar (and its import) here. */
const REGISTRARS: Record<string, CommandRegistrar> = {
  ingest: registerIngest,
  report: registerReport,
  sessions: registerSessions,
  demo: registerDemo,
  serve: registerServe,
  sync: registerSync,
  search: registerSearch,
  show: registerShow,
  statusline: registerStatusline,
};

/** Commander's own exits (help, version) are not errors; the rest are usage errors. */
const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * The program for `argv`. A command named first is the only one registered: declaring every
 * command's options costs each start a few milliseconds, and its own help, errors and
 * suggestions need only its own. Anything else (no command, help, a typo) gets all of them.
 */
function buildProgram(io: CliIo, argv: string[]): Command {
  const program = new Command();
  program
    .name('stackunderflow')
    .description('Local observability for coding agents: Claude Code and Codex logs in one SQLite store, with token and cost reports.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Errors are printed once, by runCli, in our own format.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Get started:
  stackunderflow demo                                    see it work on bundled sample logs
  stackunderflow ingest && stackunderflow report daily   read your own logs, then report

Locations: STACKUNDERFLOW_HOME (store, default ~/.stackunderflow), and each agent's own variable:
${PROVIDERS.map((p) => `${AGENTS[p].env} (${AGENTS[p].name})`).join(', ')}.`,
    );
  const named = Object.hasOwn(REGISTRARS, argv[0] ?? '') ? REGISTRARS[argv[0]] : undefined;
  for (const register of named ? [named] : Object.values(REGISTRARS)) register(program, io);
  return program;
}

/** The command words of argv that name (sub)commands, for a precise help hint. */
function commandPath(program: Command, argv: string[]): string[] {
  const path: string[] = [];
  let cmd: Command = program;
  for (const a of argv) {
    if (a.startsWith('-')) break;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(a);
    cmd = sub;
  }
  return path;
}

function report(io: CliIo, err: SuError): void {
  io.stderr.write(`error: ${err.message}\n`);
  if (err.hint) io.stderr.write(`hint: ${err.hint}\n`);
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code.
 * The one place where errors become messages and exit codes: `error: …` and `hint: …` on
 * stderr, codes from `exitCodeFor`; stack traces only for unexpected errors with
 * STACKUNDERFLOW_DEBUG set.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io, argv);
  if (argv.length === 0) {
    io.stdout.write(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (CLEAN_EXITS.has(err.code)) return err.exitCode;
      const where = ['stackunderflow', ...commandPath(program, argv)].join(' ');
      report(io, new SuError('USAGE', err.message.replace(/^error:\s*/, ''), { hint: `see '${where} --help'` }));
      return exitCodeFor(new SuError('USAGE', ''));
    }
    if (err instanceof SuError) {
      report(io, err);
      return exitCodeFor(err);
    }
    const message = messageOf(err);
    report(
      io,
      new SuError('INTERNAL', message, {
        hint: io.env.STACKUNDERFLOW_DEBUG ? undefined : 'this looks like a bug; rerun with STACKUNDERFLOW_DEBUG=1 for details and report it',
      }),
    );
    if (io.env.STACKUNDERFLOW_DEBUG && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
    return exitCodeFor(err);
  }
}
