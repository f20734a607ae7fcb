import type { Command } from 'commander';
import { AGENTS } from '../../adapters/agents.js';
import { PROVIDERS } from '../../model/event.js';
import type { Adapter } from '../../adapters/types.js';
import type { IngestReport } from '../../ingest/index.js';
import { formatBytes, formatInt } from '../../util/units.js';
import type { CliIo } from '../io.js';
import { withStore } from '../io.js';
import { progressBar } from '../progress.js';

/** One line per agent: its files and events, or "not used" when none of its logs exist. */
function agentLines(r: IngestReport, adapters: readonly Adapter[]): string[] {
  const width = Math.max(...adapters.map((a) => AGENTS[a.provider].name.length));
  return adapters.map((a) => {
    const c = r.byProvider[a.provider];
    const label = `  ${AGENTS[a.provider].name.padEnd(width)}  `;
    if (!c || c.filesSeen === 0) return label + 'not used (no logs found)';
    return (
      label +
      `${formatInt(c.filesSeen)} ${c.filesSeen === 1 ? 'file' : 'files'} (${formatInt(c.filesRead)} read), ` +
      `${formatInt(c.events.inserted)} new, ${formatInt(c.events.updated)} changed, ${formatInt(c.events.unchanged)} already stored`
    );
  });
}

/** The human summary of one ingest run. */
export function renderIngestSummary(r: IngestReport, adapters: readonly Adapter[], env: NodeJS.ProcessEnv, storeFile: string): string {
  const out: string[] = [];
  for (const a of adapters) out.push(`${AGENTS[a.provider].name} logs: ${a.roots(env).join(', ')}`);
  if (r.filesSeen === 0) {
    out.push('');
    out.push('No log files found there.');
    out.push(`If your logs live elsewhere, point ${adapters.map((a) => AGENTS[a.provider].env).join(' / ')} at them.`);
    return out.join('\n') + '\n';
  }
  out.push('');
  out.push(
    `Files: ${formatInt(r.filesSeen)} found, ${formatInt(r.filesRead)} read (${formatBytes(r.bytesRead)}, ${formatInt(r.linesRead)} lines), ` +
      `${formatInt(r.filesUnchanged)} unchanged` +
      (r.filesRewritten ? `, ${formatInt(r.filesRewritten)} rewritten and re-read` : '') +
      '.',
  );
  out.push(`Events: ${formatInt(r.events.inserted)} new, ${formatInt(r.events.updated)} changed, ${formatInt(r.events.unchanged)} already stored.`);
  out.push(...agentLines(r, adapters));
  if (r.searchPending) out.push(`Search: ${formatInt(r.searchPending)} events are indexed by your first search (once).`);
  if (r.filesMissing) out.push(`${formatInt(r.filesMissing)} files are gone from disk; their events stay in the store.`);
  if (r.malformedLines) {
    out.push(`Malformed lines skipped: ${formatInt(r.malformedLines)}`);
    for (const m of r.malformed) out.push(`  ${m.path}: ${formatInt(m.lines)}`);
  }
  if (r.unreadable.length) {
    out.push(`Could not be read now (read again at the next ingest; nothing is lost):`);
    for (const u of r.unreadable) out.push(`  ${u.path}: ${u.reason}`);
  }
  out.push(`Store: ${storeFile}`);
  return out.join('\n') + '\n';
}

/** `stackunderflow ingest`: read new log lines into the store. */
export function registerIngest(program: Command, io: CliIo): void {
  program
    .command('ingest')
    .description(`read new and changed log lines of every agent (${PROVIDERS.map((p) => AGENTS[p].name).join(', ')}) into the store (incremental)`)
    .option('--provider <name>', `only this agent: ${PROVIDERS.join(', ')}`)
    .option('-j, --json', 'print the run summary as JSON')
    .addHelpText(
      'after',
      `
Logs are read from ${PROVIDERS.map((p) => `${AGENTS[p].env} (default ${AGENTS[p].defaultPath})`).join(',\n')}.
An agent whose folder is missing is simply not used. The store lives in STACKUNDERFLOW_HOME (default ~/.stackunderflow).
Events are never deleted when a log file disappears: the store is your archive.`,
    )
    .action(async (flags: { provider?: string; json?: boolean }) => {
      const { parseReportOptions } = await import('../../query/options.js');
      const { ADAPTERS, adaptersFor } = await import('../../adapters/index.js');
      const { ingest } = await import('../../ingest/index.js');
      const provider = parseReportOptions({ provider: flags.provider }).provider;
      const adapters = provider ? adaptersFor([provider]) : [...ADAPTERS];
      await withStore(io, async (db, path) => {
        const bar = (io.stderrIsTTY ?? io.isTTY) ? progressBar(io.stderr, 'Ingesting [{bar}] {percentage}% | {files} files | {mb}', { etaBuffer: 50 }) : null;
        let report: IngestReport;
        try {
          const onProgress = bar
            ? (p: { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number }) =>
                bar.update(p.bytesDone, p.bytesTotal, { files: `${p.filesDone}/${p.filesTotal}`, mb: formatBytes(p.bytesDone) })
            : undefined;
          report = await ingest(db, { adapters, env: io.env, clock: io.clock, onProgress });
        } finally {
          bar?.stop();
        }
        if (flags.json) io.stdout.write(JSON.stringify({ ...report, store: path }, null, 2) + '\n');
        else io.stdout.write(renderIngestSummary(report, adapters, io.env, path));
      });
    });
}
