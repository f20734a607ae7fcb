import type { Command } from 'commander';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADAPTERS } from '../../adapters/index.js';
import { SuError } from '../../errors.js';
import { ingest } from '../../ingest/index.js';
import { storePath } from '../../paths.js';
import { openDb } from '../../store/db.js';
import { parseReportOptions, renderReport, runReport, type ReportKind } from '../../reports/index.js';
import type { CliIo } from '../io.js';
import { useColor } from '../io.js';
import { renderIngestSummary } from './ingest.js';

/** The bundled logs: `samples/` at the package root (same depth from src/cli/commands and dist/cli/commands). */
export const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'samples');

/**
 * Lays out a throwaway home: a copy of the samples as Claude and Codex log folders, and a
 * store location. Returns the environment that points every location there, so nothing
 * in the user's own home is read or written.
 */
export function prepareDemoHome(base: string = tmpdir(), samples: string = SAMPLES_DIR): { dir: string; env: Record<string, string> } {
  if (!existsSync(join(samples, 'claude')) || !existsSync(join(samples, 'codex'))) {
    throw new SuError('NOT_FOUND', `the bundled sample logs are missing (looked in ${samples})`, {
      hint: 'reinstall the package; the samples/ folder ships with it',
    });
  }
  const dir = mkdtempSync(join(base, 'stackunderflow-demo-'));
  cpSync(join(samples, 'claude'), join(dir, 'claude'), { recursive: true });
  cpSync(join(samples, 'codex'), join(dir, 'codex'), { recursive: true });
  mkdirSync(join(dir, 'home'));
  return {
    dir,
    env: { STACKUNDERFLOW_HOME: join(dir, 'home'), CLAUDE_CONFIG_DIR: join(dir, 'claude'), CODEX_HOME: join(dir, 'codex') },
  };
}

/** `stackunderflow demo`: the product on bundled logs, in one command, touching nothing of the user's. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('try it on bundled sample logs: ingest them into a temporary home and print reports (no setup, no network)')
    .option('-z, --timezone <zone>', 'IANA time zone for day boundaries (default: the system zone)')
    .action(async (flags: { timezone?: string }) => {
      const opts = parseReportOptions({ timezone: flags.timezone });
      const { dir, env: demoEnv } = prepareDemoHome();
      const env = { ...io.env, ...demoEnv };
      const path = storePath(env);
      const db = openDb(path);
      try {
        const out = io.stdout;
        out.write(`Demo home: ${dir}\n\n`);
        const summary = await ingest(db, { adapters: [...ADAPTERS], env, clock: io.clock });
        out.write(renderIngestSummary(summary, ADAPTERS, env, path) + '\n');
        for (const kind of ['daily', 'project', 'model'] as ReportKind[]) {
          out.write(renderReport(kind, runReport(db, kind, opts, io.env), { color: useColor(io) }) + '\n');
        }
        out.write(
          [
            'That was the demo: sample logs copied to the demo home above, nothing of yours was read or written.',
            `Explore it:        STACKUNDERFLOW_HOME=${demoEnv.STACKUNDERFLOW_HOME} stackunderflow report session`,
            'On your own logs:  stackunderflow ingest && stackunderflow report daily',
            '',
          ].join('\n'),
        );
      } finally {
        db.close();
      }
    });
}
