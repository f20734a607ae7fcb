/**
 * Shared bits of the continuous-sync tests: appending billable Claude Code lines to a
 * device's logs, a shifted clock for day arithmetic, and an s3rver bucket.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../../helpers/devices.js';
import { startS3rver, type RunningS3 } from '../../helpers/s3servers.js';
import type { Clock } from '../../../src/model/clock.js';

const DAY = 86_400_000;

/** The real clock moved by `days` (fractions allowed). */
export function shifted(days: number): Clock {
  return { now: () => Date.now() + days * DAY };
}

let counter = 0;

/**
 * Appends `n` assistant records (each a separate API message with its own usage) to one
 * session of `dev`'s Claude logs. `outputTokens` per record makes every append visible in a
 * daily report. Returns the uuids written.
 */
export function appendClaude(dev: Device, opts: { n?: number; session?: string; outputTokens?: number; project?: string; ts?: Date; text?: string } = {}): string[] {
  const project = opts.project ?? `/home/u/${dev.name}-proj`;
  const slug = project.replace(/[^A-Za-z0-9]/g, '-');
  const session = opts.session ?? '00000000-0000-4000-8000-000000000001';
  const dir = join(dev.claudeDir, 'projects', slug);
  mkdirSync(dir, { recursive: true });
  const uuids: string[] = [];
  let lines = '';
  for (let i = 0; i < (opts.n ?? 1); i++) {
    const uuid = randomUUID();
    const k = ++counter;
    uuids.push(uuid);
    lines +=
      JSON.stringify({
        type: 'assistant',
        uuid,
        parentUuid: null,
        sessionId: session,
        cwd: project,
        isSidechain: false,
        timestamp: (opts.ts ?? new Date(Date.UTC(2026, 0, 15, 12, 0, 0) + k * 1000)).toISOString(),
        requestId: `req_${dev.name}_${k}_${uuid.slice(0, 8)}`,
        message: {
          id: `msg_${dev.name}_${k}_${uuid.slice(0, 8)}`,
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [{ type: 'text', text: `reply ${k} from ${dev.name}${opts.text ?? ''}` }],
          usage: { input_tokens: 10, output_tokens: opts.outputTokens ?? 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      }) + '\n';
  }
  appendFileSync(join(dir, `${session}.jsonl`), lines);
  return uuids;
}

/** An s3rver bucket, with the SDK's credentials set for this process (it ignores signatures anyway). */
export async function s3Bucket(name = 'test-bucket'): Promise<RunningS3 & { args: (endpoint?: string) => string[]; childEnv: NodeJS.ProcessEnv }> {
  const s3 = await startS3rver(name);
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  process.env.AWS_REGION = s3.region;
  return {
    ...s3,
    args: (endpoint = s3.endpoint) => ['--bucket', `s3://${name}`, '--endpoint', endpoint, '--region', s3.region],
    childEnv: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
  };
}

/** Every (device, uid) pair in a device's store, sorted. */
export function eventKeys(dev: Device, origin?: string): string[] {
  return dev.withDb((db) =>
    (origin
      ? (db.prepare('SELECT device_id || \':\' || lower(hex(uid_bytes)) FROM events WHERE device_id = ? ORDER BY 1').pluck().all(origin) as string[])
      : (db.prepare('SELECT device_id || \':\' || lower(hex(uid_bytes)) FROM events ORDER BY 1').pluck().all() as string[])),
  );
}

/** Waits until `fn` returns a truthy value (polling), or throws after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, ms: number, what: string, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Whether `dev`'s store holds the Claude record with this uuid (from any device). Claude record ids start with the line's uuid. */
export function hasRecord(dev: Device, uuid: string): boolean {
  return dev.withDb((db) => !!db.prepare('SELECT 1 FROM events WHERE record_id >= ? AND record_id < ? LIMIT 1').get(uuid, uuid + '~'));
}
