/**
 * OpenCode's and pi's fixture logs laid out as a user's disk holds them: OpenCode's database
 * (built from the fixture SQL, in WAL mode as OpenCode keeps it) and its legacy storage, pi's
 * sessions and an Oh-My-Pi root. Returns the environment that points the adapters at them.
 */
import Database from 'better-sqlite3';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from './fixtures.js';

export function writeOpencodeDb(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'opencode.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(readFileSync(join(FIXTURES_DIR, 'opencode', 'opencode.sql'), 'utf8'));
  db.close();
  return path;
}

export function writeAgentLogs(dir: string, which: { opencode?: boolean; pi?: boolean } = { opencode: true, pi: true }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (which.opencode) {
    const oc = join(dir, 'opencode');
    writeOpencodeDb(oc);
    cpSync(join(FIXTURES_DIR, 'opencode', 'storage'), join(oc, 'storage'), { recursive: true });
    env.OPENCODE_DATA_DIR = oc;
  }
  if (which.pi) {
    cpSync(join(FIXTURES_DIR, 'pi', 'sessions'), join(dir, 'pi'), { recursive: true });
    cpSync(join(FIXTURES_DIR, 'pi', 'omp'), join(dir, 'omp'), { recursive: true });
    env.PI_AGENT_DIR = `${join(dir, 'pi')},${join(dir, 'omp')}`;
  }
  return env;
}
