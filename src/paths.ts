import { homedir } from 'node:os';
import { join } from 'node:path';

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
