/**
 * Claude Code's slug rule: every character that is not [A-Za-z0-9] becomes '-'. Its own
 * module so that reports can use it without identity.ts, which loads node:crypto.
 */
export function slugFromPath(p: string): string {
  return p.replace(/[^A-Za-z0-9]/g, '-');
}
