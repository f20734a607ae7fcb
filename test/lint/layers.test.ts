/**
 * The layering rule (scripts/lint/layers.js) with the table of eslint.config.js: what it lets
 * through and what it stops.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href);
const layers = (await import(pathToFileURL(join(ROOT, 'scripts', 'lint', 'layers.js')).href)).default;
const options = { layers: config.LAYERS, entries: config.ENTRIES };

/** The layering messages for `code` as if it were the file at `file` (repo-relative). */
function lint(file: string, code: string): string[] {
  const linter = new Linter();
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { layers }, rules: { 'layers/layering': ['error', options] } }],
    { filename: join(ROOT, file) },
  );
  return messages.map((m) => m.message);
}

describe('the layering rule', () => {
  it('lets a layer import what is below it, and the base', () => {
    expect(lint('src/reports/x.ts', "import { openDb } from '../store/db.js';\nimport { SuError } from '../errors.js';\nimport type { EventRecord } from '../model/event.js';")).toEqual([]);
    expect(lint('src/adapters/x.ts', "import { eventUid } from '../model/identity.js';\nimport { canonicalJson } from '../model/canonical.js';")).toEqual([]);
    expect(lint('src/util/x.ts', "import type { Clock } from '../model/clock.js';")).toEqual([]);
    expect(lint('src/cli/commands/x.ts', "const s = () => import('../../sync/index.js');\nimport { startServer } from '../../api/server.js';")).toEqual([]);
    expect(lint('src/sync/x.ts', "import { push } from './push.js';\nimport { ingest } from '../ingest/index.js';")).toEqual([]);
  });

  it('lets reports and search share the query context, which stands below both', () => {
    for (const file of ['src/reports/x.ts', 'src/search/x.ts']) {
      expect(lint(file, "import { reportContext } from '../query/context.js';\nimport { priceFor } from '../query/pricing.js';"), file).toEqual([]);
    }
    expect(lint('src/query/x.ts', "import { dailyReport } from '../reports/reports.js';")).toEqual([expect.stringMatching(/^query may not import reports/)]);
    expect(lint('src/query/x.ts', "import { search } from '../search/index.js';")).toEqual([expect.stringMatching(/^query may not import search/)]);
  });

  it('stops an import of a layer above, of a sibling, and of the base importing upward', () => {
    expect(lint('src/store/x.ts', "import { dailyReport } from '../reports/reports.js';")).toEqual([expect.stringMatching(/^store may not import reports/)]);
    expect(lint('src/reports/x.ts', "import { search } from '../search/index.js';")).toEqual([expect.stringMatching(/^reports may not import search/)]);
    expect(lint('src/search/x.ts', "import { dailyReport } from '../reports/reports.js';")).toEqual([expect.stringMatching(/^search may not import reports/)]);
    expect(lint('src/util/x.ts', "import type { Adapter } from '../adapters/types.js';")).toEqual([expect.stringMatching(/^util may not import adapters/)]);
    expect(lint('src/model/x.ts', "import type { Adapter } from '../adapters/types.js';")).toEqual([expect.stringMatching(/^model may not import adapters/)]);
    expect(lint('src/model/x.ts', "import { formatBytes } from '../util/units.js';")).toEqual([expect.stringMatching(/^model may not import util/)]);
    expect(lint('src/api/x.ts', "import { registerSync } from '../cli/commands/sync.js';")).toEqual([expect.stringMatching(/^api may not import cli/)]);
  });

  it('reaches sync only through its entry module, type imports and import() included', () => {
    for (const code of ["import { pull } from '../sync/pull.js';", "import type { Manifest } from '../sync/codec.js';", "const m = () => import('../sync/status.js');", "let m: typeof import('../sync/auto.js');"]) {
      expect(lint('src/api/x.ts', code), code).toEqual([expect.stringMatching(/^sync is reached only through src\/sync\/index\.ts/)]);
    }
  });
});
