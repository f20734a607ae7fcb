import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { useColor, withReadStore } from '../io.js';

/** `stackunderflow show SESSION`: one session as a readable conversation. */
export function registerShow(program: Command, io: CliIo): void {
  program
    .command('show')
    .description('print one session as a conversation: prompts, replies, folded tool calls, tokens and cost per turn')
    .argument('<session>', 'a session id, or enough of its beginning to be unique')
    .option('--scope <scope>', 'whose logs: local, all, device:<id-or-name> (default: all once other devices are synced, else local)')
    .option('--timezone <zone>', 'IANA time zone for the times shown (default: the system zone)')
    .option('--json', 'print the conversation as JSON (full texts, folded tool calls, per-turn usage, totals)')
    .addHelpText(
      'after',
      `
Tool calls are folded to one line (tool name and its main argument), tool results to their first
line and size. Each billed request shows its tokens and cost; totals at the end match the session's
row in \`stackunderflow report session\`.

Examples:
  stackunderflow show 7f2abd2d
  stackunderflow show 7f2abd2d-7cfc-4447-9ddd-3ca8d14e02e9 --json | jq '.totals'`,
    )
    .action(async (ref: string, flags: { scope?: string; timezone?: string; json?: boolean }) => {
      const { parseReportOptions } = await import('../../query/options.js');
      const { renderConversation, showSession } = await import('../../search/index.js');
      const opts = parseReportOptions({ scope: flags.scope, timezone: flags.timezone });
      await withReadStore(io, ({ db }) => {
        const conv = showSession(db, ref, opts, io.env);
        io.stdout.write(flags.json ? JSON.stringify(conv, null, 2) + '\n' : renderConversation(conv, { color: useColor(io) }));
      });
    });
}
