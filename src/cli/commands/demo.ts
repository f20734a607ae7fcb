import type { Command } from 'commander';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SuError } from '../../errors.js';
import { packageRoot, storePath } from '../../paths.js';
import type { ReportKind } from '../../reports/kinds.js';
import type { ReportOptions } from '../../query/options.js';
import type { CliIo } from '../io.js';
import { useColor } from '../io.js';
import { renderIngestSummary } from './ingest.js';
import { agentInfo } from '../../adapters/agents.js';
import { PROVIDERS, type Provider } from '../../model/event.js';

/** The bundled logs: `samples/` at the package root. */
const SAMPLES_DIR = join(packageRoot(), 'samples');

/**
 * Every agent's location under `root/<provider>` (the variables that would win over it
 * blanked), and the store in `root/home`: nothing of the user's own logs is read.
 */
function agentEnv(root: string): Record<string, string> {
  const env: Record<string, string> = { STACKUNDERFLOW_HOME: join(root, 'home') };
  for (const p of PROVIDERS) {
    const a = agentInfo(p);
    env[a.env] = join(root, p);
    for (const o of a.overrides ?? []) env[o] = '';
  }
  return env;
}

/**
 * Lays out a throwaway home: a copy of the samples as each agent's log folder, and a store
 * location. Returns the environment that points every location there, so nothing in the
 * user's own home is read or written.
 */
function prepareDemoHome(base: string = tmpdir(), samples: string = SAMPLES_DIR): { dir: string; env: Record<string, string> } {
  if (!existsSync(join(samples, 'claude')) || !existsSync(join(samples, 'codex'))) {
    throw new SuError('NOT_FOUND', `the bundled sample logs are missing (looked in ${samples})`, {
      hint: 'reinstall the package; the samples/ folder ships with it',
    });
  }
  const dir = mkdtempSync(join(base, 'stackunderflow-demo-'));
  for (const p of PROVIDERS) {
    if (existsSync(join(samples, p))) cpSync(join(samples, p), join(dir, p), { recursive: true });
    else mkdirSync(join(dir, p));
  }
  mkdirSync(join(dir, 'home'));
  return { dir, env: agentEnv(dir) };
}

/**
 * Which sample logs each simulated device has. The devcontainer mounts the laptop's
 * ~/.claude for one project, so that session is ingested on two devices: the union view
 * must count it once.
 */
const DEVICES: Array<{ name: string; claude: string[]; others: Provider[] }> = [
  { name: 'laptop', claude: ['-Users-test-dev-ai-music', '-experiments-worktrees'], others: ['gemini'] },
  { name: 'workbox', claude: ['-home-marco-projects-spotter'], others: ['codex', 'copilot', 'qwen'] },
  { name: 'devcontainer', claude: ['-experiments-worktrees'], others: [] },
];

/** Lays out one simulated device under `dir`: its own home and its own share of the sample logs. */
function prepareDevice(dir: string, samples: string, d: (typeof DEVICES)[number]): Record<string, string> {
  const root = join(dir, d.name);
  for (const slug of d.claude) cpSync(join(samples, 'claude', 'projects', slug), join(root, 'claude', 'projects', slug), { recursive: true });
  mkdirSync(join(root, 'claude', 'projects'), { recursive: true });
  for (const p of d.others) if (existsSync(join(samples, p))) cpSync(join(samples, p), join(root, p), { recursive: true });
  mkdirSync(join(root, 'home'), { recursive: true });
  return agentEnv(root);
}

/**
 * Part two of the demo: three devices with different logs sync through a temporary
 * file:// bucket (encrypted with a throwaway key), then the laptop shows the union.
 */
async function demoSync(io: CliIo, dir: string, opts: ReportOptions): Promise<void> {
  const out = io.stdout;
  // Sync code loads only here, as it does for `sync` commands.
  const { initSync, loadContext, push, pull, resolveIdentity } = await import('../../sync/index.js');
  const { ADAPTERS, ingest, openDb, renderReport, runReport } = await loadDemo();
  const bucket = 'file://' + join(dir, 'bucket');
  out.write(`── Three devices, one encrypted bucket (${bucket}) ──\n\n`);
  const envs = DEVICES.map((d) => ({ ...io.env, ...prepareDevice(dir, SAMPLES_DIR, d), STACKUNDERFLOW_SYNC_KEY: '' }));
  const dbs = envs.map((env) => openDb(storePath(env)));
  try {
    let key = '';
    for (let i = 0; i < DEVICES.length; i++) {
      const env = { ...envs[i], STACKUNDERFLOW_SYNC_KEY: key };
      const r = await ingest(dbs[i], { adapters: [...ADAPTERS], env, clock: io.clock });
      const init = await initSync(dbs[i], { bucket, deviceName: DEVICES[i].name, env, clock: io.clock });
      // The first device made the key; the others join with it, as a user would with `sync key export`.
      if (!key) key = (await resolveIdentity({ env }))!.identity.revealSecret();
      envs[i] = env;
      const pushed = await push(await loadContext(dbs[i], { env: { ...env, STACKUNDERFLOW_SYNC_KEY: key }, clock: io.clock }));
      out.write(`${DEVICES[i].name.padEnd(13)} ${init.mode === 'created' ? 'created the bucket key' : 'joined with the key   '}  ingested ${r.events.inserted} events, pushed ${pushed.stagedEvents} in ${pushed.uploadedSegments} encrypted segment(s)\n`);
    }
    for (let i = 0; i < DEVICES.length; i++) {
      const pulled = await pull(await loadContext(dbs[i], { env: { ...envs[i], STACKUNDERFLOW_SYNC_KEY: key }, clock: io.clock }));
      out.write(`${DEVICES[i].name.padEnd(13)} pulled ${pulled.landedEvents} events from ${pulled.peers.length} other device(s)\n`);
    }
    const conflicts = dbs[0].prepare('SELECT conflict_count FROM sync_state').pluck().get() as number;
    out.write(`\nThe devcontainer and the laptop both ingested the same session: ${conflicts} events are claimed by two devices and counted once.\n\n`);
    out.write('Union view on the laptop (stackunderflow report daily --scope all --by-device):\n');
    out.write(renderReport('daily', runReport(dbs[0], 'daily', { ...opts, scope: { kind: 'all' }, byDevice: true }, io.env), { color: useColor(io) }) + '\n');
    out.write(`The bucket holds only age-encrypted objects; recover any of them with stock tools:\n  age -d -i ${join((envs[0] as Record<string, string>).STACKUNDERFLOW_HOME, 'sync', 'identity.txt')} <object>.age | gunzip\n\n`);
  } finally {
    for (const db of dbs) db.close();
  }
}

/** What the demo runs: loaded when it runs, like every command's implementation. */
async function loadDemo() {
  const [{ ADAPTERS }, { ingest }, { openDb }, { runReport }, { renderReport }, { parseReportOptions }] = await Promise.all([
    import('../../adapters/index.js'),
    import('../../ingest/index.js'),
    import('../../store/db.js'),
    import('../../reports/reports.js'),
    import('../../reports/format.js'),
    import('../../query/options.js'),
  ]);
  return { ADAPTERS, ingest, openDb, runReport, renderReport, parseReportOptions };
}

/** `stackunderflow demo`: the product on bundled logs, in one command, touching nothing of the user's. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('try it on bundled sample logs: ingest into a temporary home, print reports, then sync three simulated devices through a temporary encrypted bucket (no setup, no network)')
    .option('-z, --timezone <zone>', 'IANA time zone for day boundaries (default: the system zone)')
    .option('--no-sync', 'skip the three-device sync part')
    .action(async (flags: { timezone?: string; sync?: boolean }) => {
      const { ADAPTERS, ingest, openDb, runReport, renderReport, parseReportOptions } = await loadDemo();
      const opts = parseReportOptions({ timezone: flags.timezone });
      const { dir, env: demoEnv } = prepareDemoHome();
      const env = { ...io.env, ...demoEnv };
      const path = storePath(env);
      const db = openDb(path);
      try {
        const out = io.stdout;
        out.write(`Demo home: ${dir}\n\n── One machine ──\n\n`);
        const summary = await ingest(db, { adapters: [...ADAPTERS], env, clock: io.clock });
        out.write(renderIngestSummary(summary, ADAPTERS, env, path) + '\n');
        for (const kind of ['daily', 'project', 'model'] as ReportKind[]) {
          out.write(renderReport(kind, runReport(db, kind, opts, io.env), { color: useColor(io) }) + '\n');
        }
      } finally {
        db.close();
      }
      if (flags.sync !== false) await demoSync(io, dir, opts);
      io.stdout.write(
        [
          'That was the demo: sample logs copied to the demo home above, nothing of yours was read or written.',
          `Explore it:        STACKUNDERFLOW_HOME=${demoEnv.STACKUNDERFLOW_HOME} stackunderflow report session`,
          'On your own logs:  stackunderflow ingest && stackunderflow report daily',
          'Sync your devices: stackunderflow sync init --bucket s3://BUCKET[/prefix]   (see README: Sync)',
          '',
        ].join('\n'),
      );
    });
}
