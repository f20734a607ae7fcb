import type { Command } from 'commander';
import { SuError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { printFromStore, useColor, withStore } from '../io.js';
import type { Db } from '../../store/db.js';
import { DEFAULT_LIMIT, MAX_LIMIT, parseSearchLimit } from '../../search/limits.js';
import { parseQuery, QUERY_SYNTAX_HELP } from '../../search/query.js';
import { reportOptionsFromFlags, type ReportFlags } from './report.js';
import { PROVIDERS } from '../../model/event.js';

interface SearchFlags extends ReportFlags {
  limit?: string;
  reindex?: boolean;
}

/**
 * `stackunderflow search QUERY`: ranked full-text search. Its options are long-only and
 * unknown single-dash words are kept, so `search parser -test` excludes "test" instead of
 * being read as flags (`-p`, `-t`…).
 */
export function registerSearch(program: Command, io: CliIo): void {
  const cmd = program
    .command('search')
    .description('full-text search over prompts, replies, tool calls and results of every session in the store')
    .argument('[query...]', 'what to find: words, "phrases", prefix*, -exclusions (quote it for your shell)')
    .option('--scope <scope>', 'whose logs: local, all (every synced device, each event once), device:<id-or-name> (default: all once other devices are synced, else local)')
    .option('--project <name>', 'only this project: a path, an exact slug, or part of a slug')
    .option('--provider <name>', `only this agent: ${PROVIDERS.join(', ')}`)
    .option('--since <date>', 'first day to include, YYYY-MM-DD (in --timezone)')
    .option('--until <date>', 'last day to include, YYYY-MM-DD (inclusive)')
    .option('--timezone <zone>', 'IANA time zone for --since/--until and the times shown (default: the system zone)')
    .option('--limit <count>', `at most this many results, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`)
    .option('--json', 'print JSON: plain snippets with match offsets (see docs/search.md)')
    .option('--reindex', 'rebuild the search index from the store (a repair; it is normally kept current by itself), then search if a query is given')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `
${QUERY_SYNTAX_HELP}

Quote the query so your shell keeps the double quotes: stackunderflow search '"exact phrase" -draft'.
Results are ranked by relevance (bm25), best first. On a terminal matches are highlighted in color;
in a pipe they are marked «like this». Open a hit with: stackunderflow show <session id or prefix>.

Examples:
  stackunderflow search migration sqlite
  stackunderflow search '"race condition" -test' --since 2026-01-01
  stackunderflow search 'refactor*' --project api --scope all --json
  stackunderflow search --reindex`,
    );
  cmd.action(async (words: string[], flags: SearchFlags) => {
    // allowUnknownOption keeps misspelt long options as words: refuse them rather than search for them.
    const bogus = words.find((w) => /^--[^-\s]/.test(w));
    if (bogus) throw new SuError('USAGE', `unknown option '${bogus.split('=')[0]}'`, { hint: "see 'stackunderflow search --help'" });
    const opts = { ...(await reportOptionsFromFlags(flags)), limit: parseSearchLimit(flags.limit) };
    const text = words.join(' ');
    const { pendingSearchIndex, reindex, renderSearch, search } = await import('../../search/index.js');
    if (flags.reindex) {
      const q = text.trim() === '' ? null : parseQuery(text);
      const { formatInt } = await import('../../util/units.js');
      await withStore(io, (db) => {
        const r = reindex(db);
        const line = `Rebuilt the search index: ${formatInt(r.events)} events, ${formatInt(r.withText)} with text, in ${formatInt(r.ms)} ms.\n`;
        if (!q) {
          if (flags.json) io.stdout.write(JSON.stringify({ reindex: r }, null, 2) + '\n');
          else io.stdout.write(line);
          return;
        }
        io.stderr.write(line);
        const result = search(db, q, opts, io.env);
        io.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : renderSearch(result, { color: useColor(io) }));
      });
      return;
    }
    const q = parseQuery(text);
    const run = (db: Db) => {
      // A bulk ingest or a large sync pull leaves its events for the next search to index (once): say why this one waits.
      const pending = pendingSearchIndex(db);
      if (pending >= 10_000) io.stderr.write(`Indexing ${pending} new events for search (once)…\n`);
      return search(db, q, opts, io.env);
    };
    await printFromStore(io, flags.json, run, () => Promise.resolve((result) => renderSearch(result, { color: useColor(io) })));
  });
}
