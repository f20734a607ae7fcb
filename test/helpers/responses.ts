import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from './claudeGen.js';

/**
 * Claude Code transcripts where every billing rule agrees: one line per response, each with
 * its own message.id and requestId, compact JSON, whole-millisecond timestamps. Activity comes
 * in bursts separated by pauses of minutes to days, so 5-hour blocks, gaps and week
 * boundaries all occur. Seeded: same seed, same bytes.
 */
export interface ResponseLogOptions {
  seed: number;
  /** First instant (ISO). */
  start: string;
  responses: number;
  /** Sessions (files) the responses are spread over, per project. */
  sessions?: number;
  projects?: number;
  /** Shift every timestamp so the last response lies at this instant (epoch ms). */
  endAt?: number;
}

const MODELS = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001', 'claude-sonnet-4-20250514'];
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Writes `<root>/projects/<slug>/<session>.jsonl` files; returns the timestamps written (epoch ms). */
export function writeResponseLogs(root: string, o: ResponseLogOptions): number[] {
  const rnd = mulberry32(o.seed);
  const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const projects = o.projects ?? 2;
  const sessions = o.sessions ?? 3;
  const files = new Map<string, Array<Record<string, unknown>>>();
  const stamps: number[] = [];
  let t = Date.parse(o.start);
  for (let i = 0; i < o.responses; i++) {
    // Mostly seconds to minutes apart; sometimes a pause around or beyond 5 hours, or days.
    const r = rnd();
    t += r < 0.85 ? int(1, 600) * 1000 : r < 0.93 ? int(30, 240) * MIN : r < 0.98 ? int(4 * 60, 7 * 60) * MIN : int(20, 80) * HOUR;
    stamps.push(t);
    const p = int(0, projects - 1);
    const s = int(0, sessions - 1);
    const slug = `-home-dev-proj${p}`;
    const session = `0000000${p}-0000-4000-a000-00000000000${s}`;
    const rec = {
      parentUuid: null,
      isSidechain: false,
      userType: 'external',
      cwd: `/home/dev/proj${p}`,
      sessionId: session,
      version: '2.0.14',
      message: {
        id: `msg_01${hex(22)}`,
        type: 'message',
        role: 'assistant',
        model: MODELS[int(0, MODELS.length - 1)],
        content: [{ type: 'text', text: 'ok' }],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: int(1, 3000),
          cache_creation_input_tokens: int(0, 20_000),
          cache_read_input_tokens: int(0, 150_000),
          output_tokens: int(1, 4000),
        },
      },
      requestId: `req_011${hex(21)}`,
      type: 'assistant',
      uuid: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      timestamp: t,
    };
    const rel = join('projects', slug, `${session}.jsonl`);
    let lines = files.get(rel);
    if (!lines) files.set(rel, (lines = []));
    lines.push(rec);
  }
  const shift = o.endAt === undefined ? 0 : o.endAt - t;
  for (const [rel, lines] of files) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    const text = lines.map((r) => JSON.stringify({ ...r, timestamp: new Date((r.timestamp as number) + shift).toISOString() }));
    writeFileSync(join(root, rel), text.join('\n') + '\n');
  }
  return stamps.map((x) => x + shift);
}
