/**
 * Splits generated Claude logs into many small files, for measuring an ingest with nothing new
 * at a heavy user's file count (BENCHMARKS.md: ~31,000 files from the `medium` logs):
 *
 *   npx tsx bench/split.ts <logs>/claude <out>/claude [lines per file, default 4]
 *
 * Every `<name>.jsonl` becomes `<name>-<k>.jsonl` files of that many lines, in the same folder.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [src, dst, perArg] = process.argv.slice(2);
if (!src || !dst) {
  process.stderr.write('usage: tsx bench/split.ts <claude folder> <out folder> [lines per file]\n');
  process.exit(64);
}
const per = Number(perArg ?? 4);
let files = 0;
for (const d of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!d.isFile() || !d.name.endsWith('.jsonl')) continue;
  const path = join(d.parentPath, d.name);
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const rel = relative(src, path);
  for (let i = 0; i < lines.length; i += per) {
    const out = join(dst, rel.replace(/\.jsonl$/, `-${i / per}.jsonl`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, lines.slice(i, i + per).join('\n') + '\n');
    files++;
  }
}
process.stdout.write(`${files} files\n`);
