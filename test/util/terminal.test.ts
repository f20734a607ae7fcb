/**
 * Every log-derived string printed to a terminal is inert (ESC, C0 and C1 controls): model,
 * cwd and project, session ids and text, in reports, session lists, transcripts and search.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inert, inertDeep } from '../../src/util/terminal.js';
import { Device } from '../helpers/devices.js';

const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\x9b31m\r';

describe('inert', () => {
  it('shows ESC as ␛ and blanks C0 (but newline and tab), DEL and C1', () => {
    expect(inert(`a${HOSTILE}b\n\tc\x7f`)).toBe('a␛]0;pwned ␛[2J 31m b\n\tc ');
    expect(inertDeep({ a: [`x\x1b`], b: 3, c: null })).toEqual({ a: ['x␛'], b: 3, c: null });
  });

  it('no command prints a control character that came from a log', async () => {
    const d = new Device('hostile');
    const session = '00000000-0000-4000-8000-0000000000aa';
    const cwd = `/home/u/evil${HOSTILE}`;
    const dir = join(d.claudeDir, 'projects', '-home-u-evil');
    mkdirSync(dir, { recursive: true });
    const line = (type: string, extra: object) =>
      JSON.stringify({ type, uuid: `u-${type}`, parentUuid: null, sessionId: session, cwd, isSidechain: false, timestamp: '2026-01-15T12:00:00.000Z', ...extra });
    writeFileSync(
      join(dir, `${session}.jsonl`),
      [
        line('user', { message: { role: 'user', content: `find needle ${HOSTILE}` } }),
        line('assistant', {
          requestId: 'req_1',
          message: { id: 'msg_1', type: 'message', role: 'assistant', model: `claude-sonnet-4-5${HOSTILE}`, content: [{ type: 'text', text: `needle reply ${HOSTILE}` }], usage: { input_tokens: 10, output_tokens: 7 } },
        }),
      ].join('\n') + '\n',
    );
    await d.ingest();
    for (const argv of [['report', 'daily'], ['report', 'model'], ['report', 'project'], ['report', 'session'], ['sessions'], ['show', session], ['search', 'needle']]) {
      const r = await d.ok(argv);
       
      expect(r.stdout, argv.join(' ')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    expect((await d.ok(['show', session])).stdout).toContain('␛]0;pwned');
  });
});
