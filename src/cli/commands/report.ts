import type { Command } from 'commander';
import { SuError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { printFromStore, useColor } from '../io.js';
import { REPORT_KINDS, type ReportKind } from '../../reports/kinds.js';
import type { ReportOptions } from '../../query/options.js';
import { PROVIDERS } from '../../model/event.js';

// Registrars only declare options; what a command runs loads when it runs (start-up time is
// most of a report's time), so every command pays only for its own modules.

/** Flags as commander hands them over. */
export interface ReportFlags {
  since?: string;
  until?: string;
  timezone?: string;
  project?: string;
  provider?: string;
  scope?: string;
  json?: boolean;
  byDevice?: boolean;
  last?: string;
  startOfWeek?: string;
}

/** Flags of `report blocks`. */
interface BlocksFlags extends ReportFlags {
  active?: boolean;
  recent?: boolean;
  tokenLimit?: string;
  sessionLength?: string;
}

/** Adds the filter flags every report-like command shares. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('-s, --since <date>', 'first day to include, YYYY-MM-DD (in the report time zone)')
    .option('-u, --until <date>', 'last day to include, YYYY-MM-DD (inclusive)')
    .option('-z, --timezone <zone>', 'IANA time zone for day boundaries, e.g. UTC or Europe/Berlin (default: the system zone)')
    .option('-p, --project <name>', 'only this project: a path, an exact slug, or part of a slug')
    .option('--provider <name>', `only this agent: ${PROVIDERS.join(', ')}`)
    .option('--scope <scope>', 'whose logs: local (this machine), all (every synced device), device:<id-or-name> (default: all once other devices are synced, else local)')
    .option('-j, --json', 'print JSON instead of a table');
}

/** Turns flags into report options, rejecting bad values as usage errors. */
export async function reportOptionsFromFlags(f: ReportFlags): Promise<ReportOptions> {
  const { parseReportOptions } = await import('../../query/options.js');
  return parseReportOptions({
    since: f.since,
    until: f.until,
    timezone: f.timezone,
    project: f.project,
    provider: f.provider,
    scope: f.scope,
    byDevice: f.byDevice,
    last: f.last,
    startOfWeek: f.startOfWeek,
  });
}

const DESCRIPTIONS: Record<ReportKind, string> = {
  daily: 'tokens and cost per day',
  weekly: 'tokens and cost per week',
  monthly: 'tokens and cost per month',
  session: 'tokens and cost per session',
  project: 'tokens and cost per project',
  model: 'tokens and cost per model',
};

async function printReport(io: CliIo, kind: ReportKind, flags: ReportFlags): Promise<void> {
  const opts = await reportOptionsFromFlags(flags);
  if (io.clock) opts.now = io.clock.now();
  const { runReport } = await import('../../reports/reports.js');
  await printFromStore(io, flags.json, (db) => runReport(db, kind, opts, io.env), async () => {
    const { renderReport } = await import('../../reports/format.js');
    return (r) => renderReport(kind, r, { color: useColor(io) });
  });
}

async function printBlocks(io: CliIo, flags: BlocksFlags): Promise<void> {
  const { blocksReport, parseBlocksOptions } = await import('../../reports/blocks-report.js');
  const opts = parseBlocksOptions({ ...flags });
  opts.now = io.clock?.now() ?? Date.now();
  await printFromStore(io, flags.json, (db) => blocksReport(db, opts, io.env), async () => {
    const { renderBlocks } = await import('../../reports/format-blocks.js');
    return (r) => renderBlocks(r, { color: useColor(io) });
  });
}

/** Periods `--last` counts in. */
const PERIODIC: readonly ReportKind[] = ['daily', 'weekly', 'monthly'];

function addPeriodOptions(cmd: Command, kind: ReportKind | null): Command {
  if (kind === null || PERIODIC.includes(kind)) cmd.option('--last <n>', 'only the N most recent periods, the current one included (1 = today / this week / this month)');
  if (kind === null || kind === 'weekly') cmd.option('-w, --start-of-week <day>', 'first day of a week: sunday (default), monday, …, saturday');
  return cmd;
}

function registerBlocks(report: Command, io: CliIo): void {
  const sub = report
    .command('blocks')
    .description("Claude usage in 5-hour windows (every synced device's usage together), with burn rate and projection")
    .addHelpText(
      'after',
      `
Blocks are grouped as ccusage 20 groups them: a block starts at its first response's UTC hour and
lasts --session-length hours; a pause longer than that leaves a gap. Under --scope all (the default
once another device has synced) the windows hold every device's Claude usage: one subscription's
real window. --by-device shows each block's split.`,
    )
    .option('-s, --since <date>', 'first day to include (a block counts on its local start date), YYYY-MM-DD')
    .option('-u, --until <date>', 'last day to include, YYYY-MM-DD (inclusive)')
    .option('-z, --timezone <zone>', 'IANA time zone for dates and times (default: the system zone)')
    .option('-p, --project <name>', 'only this project: a path, an exact slug, or part of a slug')
    .option('--scope <scope>', 'whose logs: local, all, device:<id-or-name> (default: all once other devices are synced, else local)')
    .option('-j, --json', 'print JSON instead of a table (the fields of ccusage blocks --json)')
    .option('--by-device', "add each device's share to every block")
    .option('-a, --active', 'only the active block, with burn rate and projection')
    .option('-r, --recent', 'only blocks started in the last 3 days, and the active one')
    .option('-t, --token-limit <n|max>', "warn when the active block's projection passes N tokens (max: your largest finished block)")
    .option('-n, --session-length <hours>', 'hours per block (default: 5)');
  sub.action(async () => printBlocks(io, sub.optsWithGlobals<BlocksFlags>()));
}

/** `stackunderflow report daily|weekly|monthly|session|project|model|blocks`. */
export function registerReport(program: Command, io: CliIo): void {
  const report = program
    .command('report')
    .description('usage reports from the store: tokens and cost by day, week, month, session, project or model, and 5-hour blocks')
    .addHelpText(
      'after',
      `
Examples:
  stackunderflow report daily --since 2026-01-01 --timezone Europe/Berlin
  stackunderflow report monthly --provider codex
  stackunderflow report weekly --last 4 --start-of-week monday
  stackunderflow report blocks --active --token-limit max
  stackunderflow report project --json
  stackunderflow report daily --json > usage.json   # same fields as ccusage daily --json`,
    );
  // `report` alone means `report daily` (as in ccusage); an unknown word is a usage error, not an argument.
  addFilterOptions(report.argument('[kind]', `one of ${REPORT_KINDS.join(', ')} (default: daily)`)).option(
    '--by-device',
    'add a per-device breakdown to every row',
  );
  addPeriodOptions(report, null);
  report.action(async (kind: string | undefined, flags: ReportFlags) => {
    if (kind !== undefined && !(REPORT_KINDS as readonly string[]).includes(kind)) {
      throw new SuError('USAGE', `unknown report '${kind}'`, { hint: `choose one of: ${[...REPORT_KINDS, 'blocks'].join(', ')}` });
    }
    await printReport(io, (kind ?? 'daily') as ReportKind, flags);
  });
  for (const kind of REPORT_KINDS) {
    const sub = report.command(kind).description(DESCRIPTIONS[kind]);
    addPeriodOptions(addFilterOptions(sub).option('--by-device', 'add a per-device breakdown to every row'), kind);
    // optsWithGlobals: `report --json daily` means the same as `report daily --json`.
    sub.action(async () => printReport(io, kind, sub.optsWithGlobals<ReportFlags>()));
  }
  registerBlocks(report, io);
}
