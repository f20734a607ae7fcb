import type { Command } from 'commander';
import { SuError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { printFromStore, useColor } from '../io.js';
import { addFilterOptions, reportOptionsFromFlags, type ReportFlags } from './report.js';

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new SuError('USAGE', `--limit wants a whole number, got '${v}'`, { hint: 'e.g. --limit 20' });
  return n;
}

/** `stackunderflow sessions`: the sessions in the store, most recent first. */
export function registerSessions(program: Command, io: CliIo): void {
  const cmd = program.command('sessions').description('list sessions, most recent first, with events, tokens and cost');
  addFilterOptions(cmd).option('-n, --limit <count>', 'show at most this many sessions');
  cmd.action(async (flags: ReportFlags & { limit?: string }) => {
    const opts = { ...(await reportOptionsFromFlags(flags)), limit: parseLimit(flags.limit) };
    const { listSessions } = await import('../../reports/sessions.js');
    await printFromStore(io, flags.json, (db) => listSessions(db, opts, io.env), async () => {
      const { renderSessionList } = await import('../../reports/format.js');
      return (list) => renderSessionList(list, { color: useColor(io) });
    });
  });
}
