import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Session ids of the hand-written search logs. */
export const S = {
  /** "zeppelin" three times in one prompt. */
  many: 'aaaaaaaa-0000-4000-8000-000000000001',
  /** "zeppelin" once, in a prompt of about the same length. */
  once: 'aaaaaaaa-0000-4000-8000-000000000002',
  /** Phrases, prefixes and a tool round trip. */
  tools: 'bbbbbbbb-0000-4000-8000-000000000003',
  /** A second session whose id shares the 'bbbbbbbb-' prefix with `tools`. */
  twin: 'bbbbbbbb-0000-4000-8000-000000000004',
  /** Codex. */
  codex: '019c0000-0000-7000-8000-0000000000c5',
} as const;

/**
 * Small Claude Code and Codex logs with known words, written in the real formats so the
 * real ingest reads them: for ranking, phrases, prefixes, exclusions, tool calls and filters.
 */
export function writeSearchLogs(root: string): NodeJS.ProcessEnv {
  const claude = join(root, 'claude');
  const codex = join(root, 'codex');
  const put = (path: string, lines: object[]) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  };
  let n = 0;
  const uuid = () => `c0000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const base = (cwd: string, sessionId: string, timestamp: string) => ({ parentUuid: null, isSidechain: false, userType: 'external', cwd, sessionId, version: '2.0.0', timestamp, uuid: uuid() });
  const user = (cwd: string, s: string, ts: string, content: unknown, extra: object = {}) => ({ ...base(cwd, s, ts), type: 'user', message: { role: 'user', content }, ...extra });
  const reply = (cwd: string, s: string, ts: string, id: string, content: unknown[], input = 100, output = 20) => ({
    ...base(cwd, s, ts),
    type: 'assistant',
    requestId: 'req_' + id,
    message: {
      id: 'msg_' + id, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content,
      usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });

  const alpha = '/home/me/alpha';
  put(join(claude, 'projects', '-home-me-alpha', `${S.many}.jsonl`), [
    user(alpha, S.many, '2026-03-01T10:00:00.000Z', 'the zeppelin hangar holds a zeppelin and then one more zeppelin today'),
    reply(alpha, S.many, '2026-03-01T10:00:05.000Z', 'm1', [{ type: 'text', text: 'noted, nothing else to add here' }]),
  ]);
  put(join(claude, 'projects', '-home-me-alpha', `${S.once}.jsonl`), [
    user(alpha, S.once, '2026-03-02T10:00:00.000Z', 'the old hangar holds a zeppelin and then some more cargo crates today'),
    reply(alpha, S.once, '2026-03-02T10:00:05.000Z', 'o1', [{ type: 'text', text: 'understood, nothing else to add here' }]),
  ]);

  const beta = '/home/me/beta';
  put(join(claude, 'projects', '-home-me-beta', `${S.tools}.jsonl`), [
    user(beta, S.tools, '2026-03-03T09:00:00.000Z', 'please let the red balloon go, we are refactoring the launcher'),
    reply(beta, S.tools, '2026-03-03T09:00:02.000Z', 't1', [{ type: 'text', text: 'The balloon is red and the launcher was refactored yesterday.' }], 1000, 200),
    reply(beta, S.tools, '2026-03-03T09:00:03.000Z', 't2', [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'grep -rn quokka src', description: 'find the quokka' } }], 1100, 30),
    user(beta, S.tools, '2026-03-03T09:00:04.000Z', [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'src/quokka.ts:12: export const quokka = 1\nsrc/zoo.ts:3: import { quokka }\n' }], { toolUseResult: { stdout: '' } }),
    reply(beta, S.tools, '2026-03-03T09:00:06.000Z', 't3', [{ type: 'text', text: 'A blue balloon floats; the quokka lives in src/quokka.ts.' }], 1200, 40),
  ]);
  put(join(claude, 'projects', '-home-me-beta', `${S.twin}.jsonl`), [
    user(beta, S.twin, '2026-03-04T09:00:00.000Z', 'an unrelated question about teapots'),
  ]);

  const usage = (input: number, cached: number, output: number) => ({ input_tokens: input, cached_input_tokens: cached, output_tokens: output, reasoning_output_tokens: 0, total_tokens: input + output });
  put(join(codex, 'sessions', '2026', '03', '05', `rollout-2026-03-05T08-00-00-${S.codex}.jsonl`), [
    { timestamp: '2026-03-05T08:00:00.000Z', type: 'session_meta', payload: { id: S.codex, timestamp: '2026-03-05T08:00:00.000Z', cwd: '/home/me/gamma', originator: 'codex_cli_rs', cli_version: '0.50.0', source: 'cli' } },
    { timestamp: '2026-03-05T08:00:01.000Z', type: 'turn_context', payload: { cwd: '/home/me/gamma', model: 'gpt-5-codex' } },
    { timestamp: '2026-03-05T08:00:02.000Z', type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'why does the wombat zeppelin crash' }] } },
    // Codex's second copy of the prompt (kept as a `meta` mirror); here its text differs, so it is stored.
    { timestamp: '2026-03-05T08:00:02.000Z', type: 'event_msg', payload: { type: 'user_message', message: 'why does the wombat crash?', images: [] } },
    { timestamp: '2026-03-05T08:00:03.000Z', type: 'response_item', payload: { type: 'function_call', name: 'shell', call_id: 'call_1', arguments: JSON.stringify({ command: ['bash', '-lc', 'cat wombat.log'], workdir: '/home/me/gamma' }) } },
    { timestamp: '2026-03-05T08:00:04.000Z', type: 'response_item', payload: { type: 'function_call_output', call_id: 'call_1', output: 'wombat: stack overflow\nat line 3' } },
    { timestamp: '2026-03-05T08:00:05.000Z', type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: usage(500, 100, 50), last_token_usage: usage(500, 100, 50) } } },
    { timestamp: '2026-03-05T08:00:06.000Z', type: 'response_item', payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'The wombat overflowed its stack.' }] } },
  ]);
  return { CLAUDE_CONFIG_DIR: claude, CODEX_HOME: codex, TZ: 'UTC' };
}
