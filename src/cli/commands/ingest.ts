import type { Command } from 'commander';
import type { Adapter, Provider } from '../../adapters/types.js';
import type { IngestReport } from '../../ingest/index.js';
import { formatInt } from '../../reports/format.js';
import { formatBytes } from '../../util/units.js';
import type { CliIo } from '../io.js';
import { withStore } from '../io.js';
import { progressBar } from '../progress.js';

const LABEL: Record<Provider, { name: string; env: string }> = {
  claude: { name: 'Claude Code', env: 'CLAUDE_CONFIG_DIR' },
  codex: { name: 'Codex', env: 'CODEX_HOME' },
};

/** The human summary of one ingest run. */
export function renderIngestSummary(r: IngestReport, adapters: readonly Adapter[], env: NodeJS.ProcessEnv, storeFile: string): string {
  const out: string[] = [];
  for (const a of adapters) out.push(`${LABEL[a.provider].name} logs: ${a.roots(env).join(', ')}`);
  if (r.filesSeen === 0) {
    out.push('');
    out.push('No log files found there.');
    out.push(`If your logs live elsewhere, point ${adapters.map((a) => LABEL[a.provider].env).join(' / ')} at them.`);
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
  if (r.filesMissing) out.push(`${formatInt(r.filesMissing)} files are gone from disk; their events stay in the store.`);
  if (r.malformedLines) {
    out.push(`Malformed lines skipped: ${formatInt(r.malformedLines)}`);
    for (const m of r.malformed) out.push(`  ${m.path}: ${formatInt(m.lines)}`);
  }
  out.push(`Store: ${storeFile}`);
  return out.join('\n') + '\n';
}

/** `stackunderflow ingest`: read new log lines into the store. */
export function registerIngest(program: Command, io: CliIo): void {
  program
    .command('ingest')
    .description('read new and changed Claude Code and Codex log lines into the store (incremental)')
    .option('--provider <name>', 'only this agent: claude or codex')
    .option('-j, --json', 'print the run summary as JSON')
    .addHelpText(
      'after',
      `
Logs are read from CLAUDE_CONFIG_DIR (default ~/.claude and ~/.config/claude; a comma-separated list works)
and CODEX_HOME (default ~/.codex). The store lives in STACKUNDERFLOW_HOME (default ~/.stackunderflow).
Events are never deleted when a log file disappears: the store is your archive.`,
    )
    .action(async (flags: { provider?: string; json?: boolean }) => {
      const { parseReportOptions } = await import('../../reports/options.js');
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
