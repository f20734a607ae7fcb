import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest globalSetup: every temp dir of one run (stores, homes, buckets, logs: several thousand)
 * goes under one folder that is removed when the run ends; left in /tmp, repeated runs filled the
 * disk. The test processes, and the CLIs they start, inherit TMPDIR, which os.tmpdir() reads.
 * STACKUNDERFLOW_KEEP_TEST_TMP=1 keeps it for a post-mortem.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'stackunderflow-test-'));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.STACKUNDERFLOW_KEEP_TEST_TMP) console.error(`test temp files kept in ${root}`);
    else rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
