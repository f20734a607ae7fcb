import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Small hand-written logs for the API tests: two Claude Code projects over two UTC days and
 * one Codex session, with known token counts. Returns the env that points ingest at them.
 */
export function writeSmallLogs(root: string): NodeJS.ProcessEnv {
  const claude = join(root, 'claude');
  const codex = join(root, 'codex');
  const put = (path: string, lines: object[]) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  };
  const user = (cwd: string, sessionId: string, uuid: string, timestamp: string, text: string) => ({
    type: 'user', uuid, parentUuid: null, sessionId, timestamp, cwd, version: '2.0.0', isSidechain: false,
    message: { role: 'user', content: text },
  });
  const reply = (cwd: string, sessionId: string, uuid: string, timestamp: string, id: string, model: string, input: number, output: number, cacheRead = 0) => ({
    type: 'assistant', uuid, parentUuid: null, sessionId, timestamp, cwd, version: '2.0.0', isSidechain: false, requestId: 'req_' + id,
    message: {
      id: 'msg_' + id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'done' }],
      usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: cacheRead },
    },
  });

  const a = '/home/me/alpha';
  const s1 = '11111111-1111-4111-8111-111111111111';
  put(join(claude, 'projects', '-home-me-alpha', `${s1}.jsonl`), [
    user(a, s1, 'a0000000-0000-4000-8000-000000000001', '2026-03-01T10:00:00.000Z', 'add a parser'),
    reply(a, s1, 'a0000000-0000-4000-8000-000000000002', '2026-03-01T10:00:05.000Z', 'a1', 'claude-sonnet-4-5-20250929', 100, 20, 1000),
    user(a, s1, 'a0000000-0000-4000-8000-000000000003', '2026-03-02T09:00:00.000Z', 'now test it'),
    reply(a, s1, 'a0000000-0000-4000-8000-000000000004', '2026-03-02T09:00:07.000Z', 'a2', 'claude-sonnet-4-5-20250929', 200, 40),
  ]);
  const b = '/home/me/beta';
  const s2 = '22222222-2222-4222-8222-222222222222';
  put(join(claude, 'projects', '-home-me-beta', `${s2}.jsonl`), [
    user(b, s2, 'b0000000-0000-4000-8000-000000000001', '2026-03-02T12:00:00.000Z', 'fix the build'),
    reply(b, s2, 'b0000000-0000-4000-8000-000000000002', '2026-03-02T12:00:03.000Z', 'b1', 'claude-opus-4-1-20250805', 300, 60),
  ]);

  const cid = '019c0000-0000-7000-8000-000000000003';
  const usage = (input: number, cached: number, output: number) => ({
    input_tokens: input, cached_input_tokens: cached, output_tokens: output, reasoning_output_tokens: 0, total_tokens: input + output,
  });
  put(join(codex, 'sessions', '2026', '03', '03', `rollout-2026-03-03T08-00-00-${cid}.jsonl`), [
    { timestamp: '2026-03-03T08:00:00.000Z', type: 'session_meta', payload: { id: cid, timestamp: '2026-03-03T08:00:00.000Z', cwd: '/home/me/gamma', originator: 'codex_cli_rs', cli_version: '0.50.0', source: 'cli' } },
    { timestamp: '2026-03-03T08:00:01.000Z', type: 'turn_context', payload: { cwd: '/home/me/gamma', model: 'gpt-5-codex' } },
    { timestamp: '2026-03-03T08:00:02.000Z', type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } },
    { timestamp: '2026-03-03T08:00:05.000Z', type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: usage(500, 100, 50), last_token_usage: usage(500, 100, 50) } } },
  ]);
  return { CLAUDE_CONFIG_DIR: claude, CODEX_HOME: codex, TZ: 'UTC' };
}
