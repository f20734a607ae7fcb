// @ts-check
/**
 * The rules the design depends on, checked by `npm run lint` (part of `npm test`, so CI fails on
 * a new violation). The layering has no exceptions: an import it stops is fixed by moving code
 * to the layer it belongs in.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import layers from './scripts/lint/layers.js';

/**
 * Which src/ folder may import which. adapters ← store ← ingest / query ← reports / search ←
 * api / cli; query (options, scope, time zone, prices: what a read of the store is asked) is
 * what reports and search share. sync (push, pull, the loop) stands on ingest and is used by api
 * and cli. model (the event, its identity, wire form and clock), util, errors.ts and paths.ts are
 * the base everything may use; model, errors.ts and paths.ts use nothing, util only them.
 */
const BASE = ['model', 'util', 'errors.ts', 'paths.ts'];
const LAYERS = {
  model: [],
  util: ['model', 'errors.ts', 'paths.ts'],
  'errors.ts': [],
  'paths.ts': [],
  adapters: [...BASE],
  store: [...BASE, 'adapters'],
  ingest: [...BASE, 'adapters', 'store'],
  query: [...BASE, 'adapters', 'store'],
  reports: [...BASE, 'adapters', 'store', 'query'],
  search: [...BASE, 'adapters', 'store', 'query'],
  sync: [...BASE, 'adapters', 'store', 'ingest'],
  api: [...BASE, 'adapters', 'store', 'ingest', 'query', 'reports', 'search', 'sync'],
  cli: [...BASE, 'adapters', 'store', 'ingest', 'query', 'reports', 'search', 'sync', 'api'],
};
/** Folders reached from outside only through one module. */
const ENTRIES = { sync: 'src/sync/index.ts' };

// Read by test/lint/layers.test.ts (ESLint itself takes only the default export).
export { LAYERS, ENTRIES };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'samples/', 'scripts/', 'eslint.config.js'] },
  // An eslint-disable comment that no longer disables anything is an error, so none outlives its reason.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX, layers },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'web/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    rules: {
      // Type-only imports are written `import type`, so what loads at run time is visible
      // (tsconfig's verbatimModuleSyntax enforces it; this rule makes the fix automatic).
      // `typeof import('./x.js')` stays allowed: it types a module that is loaded lazily.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      // A `let` assigned once but read first in a closure (e.g. a server's handler) stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Cycles of value imports (type-only imports are erased and cannot form one at run time).
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'layers/layering': ['error', { layers: LAYERS, entries: ENTRIES }],
      // ES-module-only packages (age-encryption, chokidar) load through importEsm: the bin's
      // code cache loses a bare import()'s loader on Node 20 (src/util/esm.ts says why).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportExpression:not([source.type='Literal'][source.value=/^\\./])",
          message: 'Load a package with a static import, or through importEsm (src/util/esm.ts) if it ships only ES modules.',
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        ...['age-encryption', 'chokidar'].map((name) => ({ name, allowTypeImports: true, message: `${name} ships only ES modules: load it with importEsm (src/util/esm.ts).` })),
      ],
    },
  },
  { files: ['src/util/esm.ts'], rules: { 'no-restricted-syntax': 'off' } },
  {
    // Tests and benchmarks read the CLI's and the API's JSON as `any` on purpose: expect() is
    // what checks its shape.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests strip and match ANSI colour codes.
      'no-control-regex': 'off',
    },
  },
);
