/**
 * Writes the test suite's generated Claude Code logs (test/helpers/claudeGen.ts) under a folder
 * and prints their per-day totals by the billing rule, for comparing tools by hand
 * (docs/numbers.md): `npx vite-node scripts/gen-claude-logs.ts <dir> [seed]`, then point
 * CLAUDE_CONFIG_DIR at <dir>.
 */
import { generateClaudeLogs } from '../test/helpers/claudeGen.js';

const [dir, seed = '1'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: vite-node scripts/gen-claude-logs.ts <dir> [seed]');
  process.exit(2);
}
const gen = generateClaudeLogs(dir, { seed: Number(seed), projects: 3, sessionsPerProject: 4, turnsPerSession: 14, days: 6 });
console.log(JSON.stringify({ daily: gen.daily, responses: gen.responses, usageLines: gen.usageLines, malformedLines: gen.malformedLines }, null, 2));
