/**
 * Lists every skipped test or suite by name at the end of a run. Where a test cannot run here
 * its name carries the reason (say, no radosgw endpoint), so the summary says what did not run
 * and why instead of only counting it.
 */
import type { RunnerTask, RunnerTestFile } from 'vitest';
import type { Reporter } from 'vitest/reporters';

function tests(task: RunnerTask): number {
  return 'tasks' in task ? task.tasks.reduce((n, t) => n + tests(t), 0) : 1;
}

function collectSkipped(task: RunnerTask, path: string[], out: string[]): void {
  if (task.mode === 'skip' || task.mode === 'todo') {
    const n = tests(task);
    out.push(`  ${task.file.name} > ${[...path, task.name].join(' > ')}${n > 1 ? ` (${n} tests)` : ''}`);
    return;
  }
  if ('tasks' in task) for (const t of task.tasks) collectSkipped(t, [...path, task.name], out);
}

export default class SkippedReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    const out: string[] = [];
    // A failed hook marks its tests skipped too: those are failures, which the runner reports.
    for (const f of files) if (f.result?.state !== 'fail') for (const t of f.tasks) collectSkipped(t, [], out);
    if (out.length) process.stdout.write(`\nSkipped (${out.length}), each with its reason in its name:\n${out.join('\n')}\n`);
  }
}
