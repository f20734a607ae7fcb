import type { Command } from 'commander';
import { inertDeep } from '../../util/terminal.js';
import { messageOf, SuError } from '../../errors.js';
import type { CliIo, Output } from '../io.js';
import { withStore } from '../io.js';
import { formatBytes, formatDuration, formatInt } from '../../util/units.js';
import { progressBar } from '../progress.js';
import type { PullResult, SyncProgress, SyncStatus } from '../../sync/index.js';

// The sync modules (age, the AWS SDK) load only when a sync command runs.
const loadSync = () => import('../../sync/index.js');

const shortFp = (fp: string | null) => (fp ? fp.slice(0, 16) : '-');

/** The box of docs/specs/sync-protocol-v1.md §3.5. `secret` null prints it without the key line. */
function keyBox(secret: string | null, fp: string, elsewhere = '(not shown here: run `stackunderflow sync key export` in a terminal)'): string {
  const W = 78;
  const line = (s = '') => `| ${s.padEnd(W - 2)} |`;
  const rows = [
    '+' + '-'.repeat(W) + '+',
    line('!! YOUR SYNC KEY - SHOWN ONCE. COPY IT NOW.'),
    line(),
    ...(secret ? [line(`  ${secret}`), line()] : [line(`  ${elsewhere}`), line()]),
    line('This key decrypts everything in your bucket. Lose it and the bucket is'),
    line('unreadable - by design; nobody can recover it, not even us.'),
    line('Store it in a password manager now.'),
    line('Print it again (for another device): stackunderflow sync key export'),
    line(`Fingerprint: ${shortFp(fp)} (the bucket only ever sees this)`),
    '+' + '-'.repeat(W) + '+',
  ];
  return rows.join('\n') + '\n';
}

const THREAT_MODEL = `What each party can and cannot do (docs/specs/sync-protocol-v1.md, section 2):
- Anyone who can read the bucket sees object names, sizes, counts and upload times, random device
  ids and the key fingerprint - never an event, project, path, model, token count, cost or text.
- Anyone who can write to the bucket can delete, withhold or put back old objects (you may lose
  availability), but cannot add or change events: every manifest carries a MAC made with a key
  derived from the secret key, and every segment is bound to it by hash. A device that fails
  this check lands nothing and is named as a warning by \`sync pull\`, \`sync verify\`, \`sync status\`.
- Knowing the public recipient (age1...) lets someone encrypt to you, not write events you accept.
- Other users of this machine cannot read the store, the key or the spool (files 0600, dirs 0700).
- A device that holds the secret key can read and write everything: it is you.
- A joining device trusts the manifests it finds on its first pull (check the generations shown).
`;

/** Each action's flags as commander hands them over: long options camelCased, parsed values where an option has a parser. */
interface JsonFlags {
  json?: boolean;
}
interface InitFlags extends JsonFlags {
  bucket: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  /** Has a default: always set. */
  keyFromEnv: string;
  deviceName?: string;
  force?: boolean;
  newDeviceId?: boolean;
}
interface StatusFlags extends JsonFlags {
  remote?: boolean;
}
interface AutoFlags extends JsonFlags {
  enable?: boolean;
  disable?: boolean;
  status?: boolean;
  pullInterval?: number;
  pullActiveInterval?: number;
  pushQuiet?: number;
  pushMaxWait?: number;
  keepDays?: number;
  compactAfter?: number;
  set?: string[];
}
interface PruneFlags extends JsonFlags {
  keepDays?: number;
  dryRun?: boolean;
  compact?: boolean;
}

/** Runs `fn` with a progress bar under `label` (on a terminal only), cleared however `fn` ends. */
async function withProgress<T>(io: CliIo, label: string, fn: (onProgress?: (p: SyncProgress) => void) => Promise<T>): Promise<T> {
  if (!(io.stderrIsTTY ?? io.isTTY)) return fn(undefined);
  const bar = progressBar(io.stderr, `${label} [{bar}] {phase} {value}/{total}`);
  try {
    return await fn((p) => bar.update(p.done, p.total, { phase: p.phase }));
  } finally {
    bar.stop();
  }
}

function json(out: Output, v: unknown): void {
  out.write(JSON.stringify(v, null, 2) + '\n');
}

/** Prefixes the "work is queued" sentence to unreachable-bucket errors of a push. */
function queuedHint(err: unknown, queued: number): unknown {
  if (err instanceof SuError && err.code === 'UNREACHABLE') {
    return new SuError('UNREACHABLE', `${err.message}; ${queued} segment(s) stay queued in the outbox`, {
      hint: 'nothing is lost: the next `stackunderflow sync push` uploads exactly these segments once the bucket is reachable',
      cause: err,
    });
  }
  return err;
}

/** `stackunderflow sync …`: init, key export, push, pull, status, verify. */
export function registerSync(program: Command, io: CliIo): void {
  const sync = program
    .command('sync')
    .description('encrypted multi-device sync through your own bucket (off until `sync init`)')
    .addHelpText('after', `\nExit codes: 0 ok, 1 other error, 2 configuration or key error, 3 bucket unreachable (work queued), 4 integrity error, 64 usage error.\nSpec: docs/specs/sync-protocol-v1.md`);

  sync
    .command('init')
    .description('set up sync on this device: first device creates the key, others join with it')
    .requiredOption('--bucket <url>', 's3://bucket[/prefix] or file:///abs/dir')
    .option('--endpoint <url>', 'S3-compatible endpoint (R2, B2, MinIO, Ceph...)')
    .option('--region <region>', 'bucket region')
    .option('--profile <name>', 'AWS profile for credentials (~/.aws)')
    .option('--key-from-env <VAR>', 'read the key from this environment variable', 'STACKUNDERFLOW_SYNC_KEY')
    .option('--device-name <name>', 'a name for this device (default: hostname)')
    .option('--force', 'replace an existing key/bucket setup on this device')
    .option('--new-device-id', 'give this store a new device id and push everything again (for a copied or restored store)')
    .option('--json', 'machine-readable output (never contains the key)')
    .action(async (flags: InitFlags) => {
      const { initSync } = await loadSync();
      await withStore(io, async (db) => {
        const r = await initSync(db, {
          bucket: flags.bucket,
          endpoint: flags.endpoint,
          region: flags.region,
          profile: flags.profile,
          keyFromEnv: flags.keyFromEnv,
          deviceName: flags.deviceName,
          force: !!flags.force,
          newDeviceId: !!flags.newDeviceId,
          env: io.env,
          clock: io.clock,
        });
        if (flags.json) {
          json(io.stdout, {
            mode: r.mode, deviceId: r.deviceId, deviceName: r.deviceName, bucket: r.bucket, fingerprint: r.fingerprint,
            keySource: r.keySource, keyFile: r.keyFile ?? null, conditionalWrites: r.probe.conditionalWrites, keyShown: false, found: r.found,
          });
          if (r.newIdentity) io.stderr.write(keyBox(null, r.fingerprint));
          return;
        }
        io.stdout.write(`${r.mode === 'created' ? 'Sync set up' : 'Joined'}: ${r.bucket}\n`);
        io.stdout.write(`Device: ${r.deviceName} (${r.deviceId})\nKey fingerprint: ${shortFp(r.fingerprint)}\n`);
        io.stdout.write(`Key: ${r.keySource === 'env' ? `from ${flags.keyFromEnv} (not stored by stackunderflow)` : r.keyFile}\n`);
        io.stdout.write(`Conditional writes: ${r.probe.conditionalWrites ? 'yes' : 'no (the local lock guards manifest writes)'}\n\n`);
        if (r.found.length > 0) {
          // What this device's first pull will trust as current: there is nothing earlier to compare with.
          io.stdout.write('Devices in the bucket (your first pull trusts these generations; compare with `sync status` on them):\n');
          for (const f of inertDeep(r.found)) io.stdout.write(`  ${f.name ?? '?'} (${f.device}): ${f.generation === null ? 'unreadable' : `generation ${f.generation}`}${f.problem ? ` - ${f.problem}` : ''}\n`);
          io.stdout.write('\n');
        }
        io.stdout.write(THREAT_MODEL);
        if (r.newIdentity) io.stdout.write('\n' + keyBox(r.newIdentity.revealSecret(), r.fingerprint));
        io.stdout.write('\nNext: `stackunderflow ingest && stackunderflow sync push`, then `stackunderflow sync pull` on your other devices.\n');
      });
    });

  const key = sync.command('key').description('the sync key');
  key
    .command('export')
    .description('print the sync key for your next device (key on stdout, warning on stderr)')
    .option('--json', 'refused: the key never goes into JSON')
    .action(async (flags: JsonFlags) => {
      if (flags.json) throw new SuError('USAGE', 'sync key export has no --json: the key never goes into JSON output', { hint: 'run it without --json in a terminal' });
      const { loadContext } = await loadSync();
      await withStore(io, async (db) => {
        const ctx = await loadContext(db, { env: io.env });
        // The key once, on stdout only (so `> file` or a pipe takes it, and a terminal shows it once).
        io.stderr.write(keyBox(null, ctx.fingerprint, '(printed on standard output, below)'));
        io.stdout.write(ctx.identity.revealSecret() + '\n');
      });
    });

  sync
    .command('push')
    .description('upload this device\'s new events (encrypted) and commit them with a manifest')
    .option('--json', 'machine-readable output')
    .action(async (flags: JsonFlags) => {
      const { loadContext, pushAndCompact, queuedSegments } = await loadSync();
      await withStore(io, async (db) => {
        const result = await withProgress(io, 'Pushing', async (onProgress) => {
          const ctx = await loadContext(db, { env: io.env, clock: io.clock, onProgress });
          try {
            return await pushAndCompact(ctx);
          } catch (err) {
            throw queuedHint(err, queuedSegments(db));
          }
        });
        const { compaction, ...r } = result;
        if (flags.json) return json(io.stdout, compaction ? { ...r, compaction } : r);
        if (r.generation === null) io.stdout.write('Nothing to push: the bucket already has every event of this device.\n');
        else io.stdout.write(`Pushed ${formatInt(r.stagedEvents)} new event(s) in ${r.uploadedSegments} segment(s), ${formatBytes(r.uploadedBytes)}; manifest generation ${r.generation}.\n`);
        if (compaction) io.stdout.write(renderCompaction(compaction));
      });
    });

  sync
    .command('pull')
    .description('merge every other device\'s new events (verified) into this store')
    .option('--json', 'machine-readable output')
    .action(async (flags: JsonFlags) => {
      const { loadContext, peerWarning, pull } = await loadSync();
      /** A refused device is a warning on stderr, naming it; the pull itself went on. */
      const pullWarnings = (r: PullResult) => {
        for (const p of inertDeep(r.peers)) if (p.warning) io.stderr.write(peerWarning(p, p.warning) + '\n');
      };
      await withStore(io, async (db) => {
        const r = await withProgress(io, 'Pulling', async (onProgress) => {
          const ctx = await loadContext(db, { env: io.env, clock: io.clock, onProgress });
          try {
            return await pull(ctx);
          } catch (err) {
            const partial = (err as { result?: unknown }).result;
            if (flags.json && partial) json(io.stdout, partial);
            else if (partial) io.stdout.write(renderPull(partial as PullResult));
            if (partial) pullWarnings(partial as PullResult);
            throw err;
          }
        });
        if (flags.json) json(io.stdout, r);
        else io.stdout.write(renderPull(r));
        pullWarnings(r);
      });
    });

  sync
    .command('status')
    .description('this device\'s sync state (instant, no network unless --remote)')
    .option('--remote', 'also list the bucket: objects and bytes per device')
    .option('--json', 'machine-readable output')
    .action(async (flags: StatusFlags) => {
      const { syncStatus, loadContext, remoteUsage } = await loadSync();
      await withStore(io, async (db) => {
        const s = syncStatus(db, io.env);
        if (flags.remote && s.enabled) s.remote = await remoteUsage((await loadContext(db, { env: io.env })).store);
        if (flags.json) return json(io.stdout, s);
        io.stdout.write(renderStatus(s, (io.clock ?? { now: () => Date.now() }).now()));
      });
    });

  sync
    .command('verify')
    .description('download, decrypt and hash-check every object this key can see')
    .option('--json', 'machine-readable output')
    .action(async (flags: JsonFlags) => {
      const { loadContext, verify } = await loadSync();
      await withStore(io, async (db) => {
        const ctx = await loadContext(db, { env: io.env, clock: io.clock });
        const r = await verify(ctx);
        if (flags.json) json(io.stdout, r);
        else {
          for (const d of inertDeep(r.devices)) {
            io.stdout.write(`${d.ok ? 'ok  ' : 'FAIL'} ${d.name ?? '?'} (${d.device}): generation ${d.generation ?? '?'}, ${d.segments} segment(s), ${formatInt(d.events)} event(s), ${formatBytes(d.bytes)}\n`);
            for (const e of d.errors) io.stdout.write(`     ${e.object}: ${e.message}\n`);
          }
          if (r.devices.length === 0) io.stdout.write('The bucket has no device manifests yet (nothing pushed).\n');
        }
        if (!r.ok) {
          const keyFail = r.devices.some((d) => d.errors.some((e) => e.code === 'KEY'));
          throw new SuError(keyFail ? 'KEY' : 'INTEGRITY', `verification failed for ${r.devices.filter((d) => !d.ok).length} device(s)`, {
            hint: 'the objects named above are damaged, missing or not ours; pulls refuse them and the local store is unchanged',
          });
        }
      });
    });

  registerSyncAuto(sync, io);
}

function renderPull(result: { peers: Array<{ device: string; name: string | null; outcome: string; events: number; segments: number; error?: { message: string }; warning?: string }>; landedEvents: number; conflictCount: number; searchPending?: number }): string {
  const r = inertDeep(result);
  const out: string[] = [];
  if (r.peers.length === 0) out.push('No other device has pushed to this bucket yet.');
  for (const p of r.peers) {
    const who = `${p.name ?? '?'} (${p.device})`;
    if (p.outcome === 'landed') out.push(`${who}: merged ${formatInt(p.events)} event(s) from ${p.segments} segment(s)`);
    else if (p.outcome === 'current') out.push(`${who}: up to date`);
    else if (p.outcome === 'rejected') out.push(`${who}: REFUSED, nothing merged (not authenticated by this bucket's key; see the warning)`);
    else out.push(`${who}: FAILED, nothing merged: ${p.error?.message ?? ''}`);
  }
  out.push(`Merged ${formatInt(r.landedEvents)} event(s). Events claimed by more than one device: ${formatInt(r.conflictCount)} (each counted once).`);
  if (r.searchPending) out.push(`Search: ${formatInt(r.searchPending)} merged event(s) will be indexed by the next \`stackunderflow search\` (or by \`sync daemon\`).`);
  return out.join('\n') + '\n';
}

function renderStatus(status: SyncStatus, nowMs: number): string {
  // Device names come from peers' manifests: inert before they reach the terminal.
  const s = inertDeep(status);
  if (!s.enabled) return `Sync is off on this device (${s.device.id}).\nTurn it on: stackunderflow sync init --bucket s3://BUCKET[/prefix]  (or file:///abs/dir)\n`;
  const out = [
    `Device:            ${s.device.name ?? '?'} (${s.device.id})`,
    `Bucket:            ${s.bucket}`,
    `Key fingerprint:   ${shortFp(s.keyFingerprint)}  (key from ${s.key!.envSet ? `$${s.key!.env}` : s.key!.fileExists ? s.key!.file : 'NOWHERE - set ' + s.key!.env})`,
    `Last sync:         ${s.lastSyncTime ?? 'never'}`,
    `Last pushed seq:   ${s.lastPushedSeq}`,
    `Pending events:    ${formatInt(s.pendingEvents)}`,
    `Queued segments:   ${s.queuedSegments.count} (${formatBytes(s.queuedSegments.bytes)})`,
    `Remote events:     ${formatInt(s.remoteEventsMerged)} merged`,
    `Conflicts:         ${formatInt(s.conflictCount)} event(s) seen on more than one device (counted once)`,
  ];
  if (s.peers.length) {
    out.push('Peers:');
    for (const p of s.peers) {
      out.push(`  ${p.name ?? '?'} (${p.id}): ${formatInt(p.events)} events, last push ${p.manifestWrittenAt ?? '?'}${ago(p.manifestWrittenAt, nowMs)}, last pulled ${p.lastSeen ?? 'never'}`);
      if (p.ackedOurSeq !== null) out.push(`      has merged our events through seq ${p.ackedOurSeq} of ${s.lastPushedSeq}${p.ackedOurSeq >= s.lastPushedSeq ? ' (up to date)' : ''}`);
    }
  } else out.push('Peers:             none pulled yet');
  if (s.heldBack?.count) {
    const e = s.heldBack.examples.map((x) => `seq ${x.seq}: ${x.problem}`).join('; ');
    out.push(`Held back:         ${formatInt(s.heldBack.count)} event(s) of this device are malformed (stored by an older version) and are not synced; they stay in this store and block nothing (${e})`);
  }
  for (const r of s.refused ?? []) out.push(`REFUSED device ${r.id} since ${r.since}: ${r.message}`);
  if (s.lastError) out.push(`Last error:        ${s.lastError.time} ${s.lastError.op}: ${s.lastError.message}`);
  if (s.auto) out.push(...renderAuto(s.auto, nowMs));
  for (const w of s.warnings ?? []) out.push(`WARNING: ${w}`);
  if (s.remote) {
    out.push(`Bucket usage:      ${s.remote.objects} objects, ${formatBytes(s.remote.bytes)}`);
    for (const d of s.remote.devices) out.push(`  ${d.id}: ${d.objects} objects, ${formatBytes(d.bytes)}`);
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Continuous sync, compaction, pruning

type AutoStatusView = NonNullable<SyncStatus['auto']>;

/** " (3 min ago)" for an ISO time, or "" when unknown. */
function ago(iso: string | null | undefined, nowMs: number): string {
  const t = Date.parse(iso ?? '');
  if (!Number.isFinite(t)) return '';
  const s = Math.round((nowMs - t) / 1000);
  if (s < 0) return ` (in the future by ${formatDuration(-s)})`;
  return ` (${formatDuration(s)} ago)`;
}

function inTime(iso: string | null, nowMs: number): string {
  const t = Date.parse(iso ?? '');
  if (!Number.isFinite(t)) return 'not scheduled';
  const s = Math.round((t - nowMs) / 1000);
  return s <= 0 ? `now (${iso})` : `in ${formatDuration(s)} (${iso})`;
}

function renderAuto(a: AutoStatusView, nowMs: number): string[] {
  const st = a.settings;
  const state =
    a.setting === 'off' ? 'off (sync auto --disable)'
    : a.running ? `${a.setting === 'on' ? 'on' : 'not enabled'}, running (${a.mode === 'serve' ? 'inside stackunderflow serve' : 'sync daemon'}, pid ${a.pid}, since ${a.startedAt})`
    : a.setting === 'on' ? 'on, but NOT running: start it with `stackunderflow sync auto --enable` (or install the unit in docs/sync-daemon.md)'
    : 'not enabled (stackunderflow sync auto --enable)';
  const out = [`Continuous sync:   ${state}`];
  if (a.running) {
    out.push(`  Next push:       ${a.nextPushAt ? inTime(a.nextPushAt, nowMs) : 'nothing waiting'}`);
    out.push(`  Next pull:       ${inTime(a.nextPullAt, nowMs)}`);
    out.push(`  Next prune:      ${inTime(a.nextPruneAt, nowMs)}`);
    if (a.backoff) out.push(`  Backing off:     ${a.backoff.failures} failure(s) in a row; next try ${inTime(a.backoff.until, nowMs)} (delay ${formatDuration(Math.round(a.backoff.delayMs / 1000))})`);
    if (a.lastError) out.push(`  Loop error:      ${a.lastError.time} ${a.lastError.op} (${a.lastError.code}): ${a.lastError.message}`);
    for (const q of a.quarantined) out.push(`  Not pulling ${q.device} until it writes a new manifest (${q.code} since ${q.since}): ${q.message}`);
  }
  out.push(`  Schedule:        push ${st.pushQuiet} s after the last new event (at most ${st.pushMaxWait} s after the first); pull every ${st.pullInterval} s idle, ${st.pullActiveInterval} s while active`);
  out.push(`  Requests:        ~${formatInt(a.requests.idlePerMonth)}/month idle; +~${formatInt(a.requests.activePerHour)} per hour of activity`);
  out.push(`  Bucket hygiene:  compact above ${st.compactAfter} small segments${a.compactedThrough ? ` (compacted through seq ${a.compactedThrough})` : ''}; keep ${st.keepDays} days; ` +
    `${a.retired.segments} replaced segment(s) (${formatBytes(a.retired.bytes)}) await pruning; last prune ${a.lastPruneAt ?? 'never'}`);
  out.push(`  Log:             ${a.log}`);
  return out;
}

function renderCompaction(c: { snapshots: number; replaced: number; through: number; reason: string; replacedBytes: number; bytes: number }): string {
  return `Compacted (${c.reason}): ${c.snapshots} snapshot segment(s), ${formatBytes(c.bytes)}, now list every event through seq ${c.through}, replacing ${c.replaced} segment(s) (${formatBytes(c.replacedBytes)}); \`stackunderflow sync prune\` deletes those once peers have them.\n`;
}

/** Seconds as a CLI value: a non-negative number. */
function seconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new SuError('USAGE', `${flag} wants a number, got '${v}'`);
    return n;
  };
}

function registerSyncAuto(sync: Command, io: CliIo): void {
  sync
    .command('auto')
    .description('continuous sync: a background loop that ingests, pushes and pulls by itself')
    .option('--enable', 'turn it on and start the background daemon (stays on across restarts)')
    .option('--disable', 'stop the daemon and keep it off')
    .option('--status', 'show whether it runs, its schedule and costs (the default)')
    .option('--pull-interval <s>', 'seconds between pulls when idle (default 60: ~43k requests/month)', seconds('--pull-interval'))
    .option('--pull-active-interval <s>', 'seconds between pulls while this or another device is active (default 10)', seconds('--pull-active-interval'))
    .option('--push-quiet <s>', 'push this long after the last new event (default 5)', seconds('--push-quiet'))
    .option('--push-max-wait <s>', '...but at most this long after the first one (default 20)', seconds('--push-max-wait'))
    .option('--keep-days <n>', 'prune keeps unlisted objects younger than this (default 30)', seconds('--keep-days'))
    .option('--compact-after <n>', 'compact when more small segments than this are listed after the last full-size one (default 64)', seconds('--compact-after'))
    .option('--set <key=value...>', 'other settings: active_window, prune_interval, ack_interval, backoff_min, backoff_max, rescan_interval (seconds)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nThe loop also runs inside \`stackunderflow serve\` when continuous sync is on (never two at once).\nForeground (systemd, launchd): \`stackunderflow sync daemon\`; sample units in docs/sync-daemon.md.`)
    .action(async (flags: AutoFlags) => {
      if (flags.enable && flags.disable) throw new SuError('USAGE', '--enable and --disable exclude each other', { hint: 'pick one' });
      const { syncStatus, parseSettingAssignments, writeAutoSettings, enableAuto, disableAuto } = await loadSync();
      await withStore(io, async (db) => {
        const { requireSyncState } = await loadSync();
        if (flags.enable) requireSyncState(db);
        const values: Record<string, number | string | undefined> = {
          pullInterval: flags.pullInterval,
          pullActiveInterval: flags.pullActiveInterval,
          pushQuiet: flags.pushQuiet,
          pushMaxWait: flags.pushMaxWait,
          keepDays: flags.keepDays,
          compactAfter: flags.compactAfter,
        };
        Object.assign(values, parseSettingAssignments(flags.set ?? []));
        writeAutoSettings(db, values);
        let action: Record<string, unknown> | null = null;
        if (flags.enable) {
          const r = await enableAuto(db, io.env);
          action = { enabled: true, ...r };
          if (!flags.json) {
            if (r.alreadyRunning) io.stdout.write(`Continuous sync is on; the loop was already running (${r.mode === 'serve' ? 'inside stackunderflow serve' : 'sync daemon'}, pid ${r.pid}). No second one was started.\n`);
            else io.stdout.write(`Continuous sync is on: daemon started (pid ${r.pid}), logging to ${r.log}.\nIt stays on across restarts of stackunderflow serve; to start it at login, see docs/sync-daemon.md.\n`);
          }
        } else if (flags.disable) {
          const r = await disableAuto(db, io.env);
          action = { enabled: false, ...r };
          if (!flags.json) {
            if (r.stoppedPid) io.stdout.write(`Continuous sync is off: daemon (pid ${r.stoppedPid}) ${r.killed ? 'did not stop in time and was killed' : 'stopped'}.\n`);
            else if (r.servePid) io.stdout.write(`Continuous sync is off: the loop inside stackunderflow serve (pid ${r.servePid}) stops within seconds.\n`);
            else io.stdout.write('Continuous sync is off (nothing was running).\n');
          }
        }
        const s = syncStatus(db, io.env);
        if (flags.json) return json(io.stdout, { ...(action ?? {}), auto: s.auto ?? null, warnings: s.warnings ?? [] });
        if (!s.auto) {
          io.stdout.write('Sync is not set up on this device: run `stackunderflow sync init --bucket …` first.\n');
          return;
        }
        io.stdout.write(renderAuto(s.auto, (io.clock ?? { now: () => Date.now() }).now()).join('\n') + '\n');
      });
    });

  sync
    .command('daemon')
    .description('run the continuous sync loop in the foreground (what `sync auto --enable` starts; use it under systemd or launchd)')
    .action(async () => {
      const { autoSwitch, runLockedLoop } = await loadSync();
      await withStore(io, async (db) => {
        const { requireSyncState } = await loadSync();
        requireSyncState(db);
        if (autoSwitch(db) === 'off') {
          io.stdout.write('Continuous sync is off on this device (`stackunderflow sync auto --disable`); not starting. Turn it on with `stackunderflow sync auto --enable`.\n');
          return;
        }
      });
      const res = await runLockedLoop({ env: io.env, mode: 'daemon', clock: io.clock, log: (line) => void io.stdout.write(line + '\n') });
      if ('holder' in res) {
        const where = res.holder.mode === 'serve' ? 'inside stackunderflow serve' : 'as sync daemon';
        throw new SuError('LOCKED', `a sync loop is already running ${where}${res.holder.pid ? ` (pid ${res.holder.pid})` : ''}; only one runs per store`, {
          hint: 'see `stackunderflow sync auto --status`; stop it with `stackunderflow sync auto --disable`',
        });
      }
      const stop = () => void res.loop.stop();
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      try {
        await res.finished;
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
      if (res.loop.error) {
        const e = res.loop.error;
        throw e instanceof SuError ? e : new SuError('INTERNAL', `the sync loop stopped: ${messageOf(e)}`);
      }
    });

  sync
    .command('prune')
    .description('delete objects of this device the bucket no longer needs (segments replaced by a snapshot, orphans of crashed pushes)')
    .option('--keep-days <n>', 'keep anything younger than this many days (default: the keep_days setting, 30)', seconds('--keep-days'))
    .option('--dry-run', 'list what would go, with the reason and the bytes saved; change nothing')
    .option('--compact', 'compact our segment list first, even below the threshold')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nAn unlisted object goes only when it is older than keep-days and every active peer (manifest younger than\nkeep-days) has merged past it. Nothing a manifest lists, and nothing of another device, is ever deleted.`)
    .action(async (flags: PruneFlags) => {
      if (flags.compact && flags.dryRun) throw new SuError('USAGE', '--compact writes to the bucket; it cannot go with --dry-run');
      const { loadContext, prune, compact, keyWithinDevice: short } = await loadSync();
      await withStore(io, async (db) => {
        const ctx = await loadContext(db, { env: io.env, clock: io.clock });
        const compaction = flags.compact ? await compact(ctx, { force: true }) : null;
        const r = await prune(ctx, { keepDays: flags.keepDays, dryRun: !!flags.dryRun });
        if (flags.json) return json(io.stdout, { ...r, compaction });
        if (compaction) io.stdout.write(renderCompaction(compaction));
        const go = r.objects.filter((o) => o.action === 'delete');
        const keep = r.objects.filter((o) => o.action === 'keep');
        if (r.acksPublished !== null) io.stdout.write(`Published our merge acknowledgements (manifest generation ${r.acksPublished}).\n`);
        io.stdout.write(`${r.dryRun ? 'Would delete' : 'Deleted'} ${go.length} object(s), ${formatBytes(r.bytesSaved)}${r.dryRun ? ' (dry run: nothing changed)' : ''}.\n`);
        for (const o of go) io.stdout.write(`  ${short(o.key)}  ${formatBytes(o.bytes)}  ${o.reason}\n`);
        if (keep.length) {
          io.stdout.write(`Kept ${keep.length} unlisted object(s), ${formatBytes(r.keptBytes)}:\n`);
          for (const o of keep) io.stdout.write(`  ${short(o.key)}  ${formatBytes(o.bytes)}  ${o.reason}\n`);
        }
        for (const p of r.peers) {
          io.stdout.write(`Peer ${p.name ?? '?'} (${p.id}): ${p.active ? 'active' : `silent for over ${r.keepDays} days (no longer holds pruning back)`}, merged our events through seq ${p.ackedSeq}${p.error ? `; manifest unreadable: ${p.error}` : ''}\n`);
        }
      });
    });
}
