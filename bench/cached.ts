import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, presetOptions, type SizePreset } from './gen.js';

/** What the command-line benches share: where they keep data, the bin they run, their flags. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(ROOT, 'bench', 'out');
export const CLI = join(ROOT, 'dist', 'bin', 'stackunderflow.js');

/** `--name value` from the command line, or the default. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

/** The generated logs of a size and seed, made once into bench/out/ (the same folder run.ts uses). */
export function cachedDataset(size: SizePreset, seed: number): string {
  const dir = join(OUT, `data-seed${seed}-${size}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  process.stderr.write(`generating ${size} logs (seed ${seed}) ...\n`);
  generate(presetOptions(size, seed, tmp));
  renameSync(tmp, dir);
  return dir;
}
