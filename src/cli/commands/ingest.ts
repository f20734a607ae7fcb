import type { Command } from 'commander';
import type cliProgressTypes from 'cli-progress';
import { createRequire } from 'node:module';

// cli-progress loads only when a bar is drawn (a TTY): scripted runs start faster.
const loadProgress = (): typeof cliProgressTypes => createRequire(import.meta.url)('cli-progress');
import type { Adapter, Provider } from '../../adapters/types.js';
import type { IngestReport } from '../../ingest/index.js';
import { formatInt } from '../../reports/format.js';
import type { CliIo, Output } from '../io.js';
import { withStore } from '../io.js';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

const LABEL: Record<Provider, { name: string; env: string }> = {
  claude: { name: 'Claude Code', env: 'CLAUDE_CONFIG_DIR' },
  codex: { name: 'Codex', env: 'CODEX_HOME' },
  opencode: { name: 'OpenCode', env: 'OPENCODE_DATA_DIR' },
  pi: { name: 'pi', env: 'PI_AGENT_DIR' },
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
  if (r.unreadable.length) {
    out.push(`Could not be read now (read again at the next ingest; nothing is lost):`);
    for (const u of r.unreadable) out.push(`  ${u.path}: ${u.reason}`);
  }
  out.push(`Store: ${storeFile}`);
  return out.join('\n') + '\n';
}

function progressBar(stream: Output): { update: (p: { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number }) => void; stop: () => void } {
  const bar = new (loadProgress().SingleBar)(
    {
      stream: stream as NodeJS.WritableStream,
      format: 'Ingesting [{bar}] {percentage}% | {files} files | {mb}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    loadProgress().Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { files: `${p.filesDone}/${p.filesTotal}`, mb: formatBytes(p.bytesDone) };
      if (!started) {
        bar.start(Math.max(1, p.bytesTotal), p.bytesDone, payload);
        started = true;
      } else bar.update(p.bytesDone, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
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
        const bar = (io.stderrIsTTY ?? io.isTTY) ? progressBar(io.stderr) : null;
        let report: IngestReport;
        try {
          report = await ingest(db, { adapters, env: io.env, clock: io.clock, onProgress: bar ? (p) => bar.update(p) : undefined });
        } finally {
          bar?.stop();
        }
        if (flags.json) io.stdout.write(JSON.stringify({ ...report, store: path }, null, 2) + '\n');
        else io.stdout.write(renderIngestSummary(report, adapters, io.env, path));
      });
    });
}
