import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures, resolved from this file so tests run from any cwd. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A fresh empty directory under the OS temp dir. */
export function tempDir(prefix = 'su-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Copies `test/fixtures/<rel>` into a new temp dir and returns the copy's path (tests may then modify it). */
export function copyFixture(rel: string): string {
  const dest = join(tempDir('su-fx-'), rel);
  cpSync(join(FIXTURES_DIR, rel), dest, { recursive: true });
  return dest;
}
