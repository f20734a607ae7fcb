import type { Command } from 'commander';
import { SuError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { emptyStoreNotice, useColor, withReadStore } from '../io.js';
import { REPORT_KINDS, type ReportKind } from '../../reports/kinds.js';
import type { ReportOptions } from '../../reports/options.js';
import { PROVIDERS } from '../../adapters/agents.js';

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
  const { parseReportOptions } = await import('../../reports/options.js');
  return parseReportOptions({
    since: f.since,
    until: f.until,
    timezone: f.timezone,
    project: f.project,
    provider: f.provider,
    scope: f.scope,
    byDevice: f.byDevice,
  });
}

const DESCRIPTIONS: Record<ReportKind, string> = {
  daily: 'tokens and cost per day',
  monthly: 'tokens and cost per month',
  session: 'tokens and cost per session',
  project: 'tokens and cost per project',
  model: 'tokens and cost per model',
};

async function printReport(io: CliIo, kind: ReportKind, flags: ReportFlags): Promise<void> {
  const opts = await reportOptionsFromFlags(flags);
  const { runReport, storeIsEmpty } = await import('../../reports/reports.js');
  await withReadStore(io, async ({ db, path }) => {
    const empty = storeIsEmpty(db);
    const report = runReport(db, kind, opts, io.env);
    if (flags.json) {
      io.stdout.write(JSON.stringify(report, null, 2) + '\n');
      if (empty) io.stderr.write(emptyStoreNotice(path));
      return;
    }
    if (empty) {
      io.stdout.write(emptyStoreNotice(path));
      return;
    }
    const { renderReport } = await import('../../reports/format.js');
    io.stdout.write(renderReport(kind, report, { color: useColor(io) }));
  });
}

/** `stackunderflow report daily|monthly|session|project|model`. */
export function registerReport(program: Command, io: CliIo): void {
  const report = program
    .command('report')
    .description('usage reports from the store: tokens and cost by day, month, session, project or model')
    .addHelpText(
      'after',
      `
Examples:
  stackunderflow report daily --since 2026-01-01 --timezone Europe/Berlin
  stackunderflow report monthly --provider codex
  stackunderflow report project --json
  stackunderflow report daily --json > usage.json   # same fields as ccusage daily --json`,
    );
  // `report` alone means `report daily` (as in ccusage); an unknown word is a usage error, not an argument.
  addFilterOptions(report.argument('[kind]', `one of ${REPORT_KINDS.join(', ')} (default: daily)`)).option(
    '--by-device',
    'add a per-device breakdown to every row',
  );
  report.action(async (kind: string | undefined, flags: ReportFlags) => {
    if (kind !== undefined && !(REPORT_KINDS as readonly string[]).includes(kind)) {
      throw new SuError('USAGE', `unknown report '${kind}'`, { hint: `choose one of: ${REPORT_KINDS.join(', ')}` });
    }
    await printReport(io, (kind ?? 'daily') as ReportKind, flags);
  });
  for (const kind of REPORT_KINDS) {
    const sub = report.command(kind).description(DESCRIPTIONS[kind]);
    addFilterOptions(sub).option('--by-device', 'add a per-device breakdown to every row');
    // optsWithGlobals: `report --json daily` means the same as `report daily --json`.
    sub.action(async () => printReport(io, kind, sub.optsWithGlobals<ReportFlags>()));
  }
}
