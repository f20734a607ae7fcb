import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where stackunderflow keeps its own files: STACKUNDERFLOW_HOME, default ~/.stackunderflow. */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STACKUNDERFLOW_HOME && env.STACKUNDERFLOW_HOME.trim() !== '' ? env.STACKUNDERFLOW_HOME : join(homedir(), '.stackunderflow');
}

export function storePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(homeDir(env), 'store.db');
}

export function syncDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(homeDir(env), 'sync');
}

let root: string | undefined;
/**
 * The package's root folder (package.json, migrations/, samples/, dist/web/): the nearest
 * folder above this module with our package.json. Found rather than counted in `..`s, so it
 * is the same from src/ (tsx) and from the bundled bin in dist/bin/.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"stackunderflow"/.test(readFileSync(pkg, 'utf8'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`stackunderflow's package.json is not above ${start}: a broken installation`);
  }
}

/** The package version, from package.json ('unknown' if it cannot be read). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
