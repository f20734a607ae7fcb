import { describe, expect, it } from 'vitest';
import { watchIgnored } from '../../../src/sync/loop.js';

const file = { isFile: () => true };
const dir = { isFile: () => false };

describe('what the sync loop watches', () => {
  const ignored = watchIgnored({ HOME: '/h', OPENCODE_DATA_DIR: '/h/oc' });

  it('transcripts elsewhere: .jsonl files, every folder', () => {
    expect(ignored('/h/.pi/agent/sessions/--a--/x.jsonl', file)).toBe(false);
    expect(ignored('/h/.pi/agent/sessions/--a--', dir)).toBe(false);
    expect(ignored('/h/.claude/projects/p/notes.txt', file)).toBe(true);
  });

  it("OpenCode: its databases, their WAL and the old message files, and nothing else of its folder", () => {
    expect(ignored('/h/oc')).toBe(false);
    expect(ignored('/h/oc/opencode.db')).toBe(false);
    expect(ignored('/h/oc/opencode.db-wal', file)).toBe(false);
    expect(ignored('/h/oc/opencode-beta.db', file)).toBe(false);
    expect(ignored('/h/oc/storage')).toBe(false);
    expect(ignored('/h/oc/storage/message/ses_1', dir)).toBe(false);
    expect(ignored('/h/oc/storage/message/ses_1/msg_1.json', file)).toBe(false);
    // Refused before chokidar looks inside: snapshot repositories, logs, parts, sessions.
    expect(ignored('/h/oc/snapshot')).toBe(true);
    expect(ignored('/h/oc/log')).toBe(true);
    expect(ignored('/h/oc/storage/part')).toBe(true);
    expect(ignored('/h/oc/opencode.db-shm', file)).toBe(true);
  });
});
