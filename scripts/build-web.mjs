#!/usr/bin/env node
/**
 * Builds the dashboard into dist/web/ (run by `npm run build`, hence by `prepare` on `npm ci`):
 *   dist/web/index.html
 *   dist/web/assets/{app.js, styles.css, icon.svg, uPlot.esm.js, uPlot.min.css}
 *
 * web/*.ts is type-checked against web/tsconfig.json (DOM types, strict) by the TypeScript
 * compiler and bundled into app.js by esbuild (as the CLI is). Its one bare import, `uplot`,
 * is pointed at the copied ESM build. The page is checked for anything the Content-Security-Policy
 * would block (inline script, inline style, event-handler attributes, off-origin URLs), so such a
 * mistake fails the build rather than the browser.
 *
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const OUT = join(ROOT, 'dist', 'web');
const require = createRequire(import.meta.url);
const UPLOT_DIR = dirname(require.resolve('uplot/package.json'));

function fail(msg) {
  process.stderr.write(`build-web: ${msg}\n`);
  process.exit(1);
}

/**
 * Type-checks web/ (app.ts, the modules it imports, and the API's JSON shapes from
 * src/api/shapes.ts, imported as types only), then bundles it into one app.js with esbuild (as
 * the CLI is bundled): the page loads one script of its own, no module graph to fetch.
 */
async function compile() {
  const configPath = join(WEB, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) fail(ts.formatDiagnostic(read.error, host()));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, WEB);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const diags = ts.getPreEmitDiagnostics(program);
  if (diags.length) fail('web/ has type errors:\n' + ts.formatDiagnosticsWithColorAndContext(diags, host()));
  const out = await build({
    entryPoints: [join(WEB, 'app.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    external: ['uplot'],
    write: false,
    logLevel: 'silent',
  }).catch((err) => fail(`bundling web/app.ts failed: ${err.message}`));
  let js = out.outputFiles[0].text;
  const bare = /from\s+['"]uplot['"]/g;
  const n = (js.match(bare) ?? []).length;
  if (n !== 1) fail(`expected exactly one import of 'uplot' in web/, found ${n}`);
  js = js.replace(bare, "from './uPlot.esm.js'");
  const other = /(?:^|\n)\s*import\s[^;]*?from\s+['"](?!\.\/)([^'"]+)['"]/.exec(js);
  if (other) fail(`web/ imports '${other[1]}': the page loads only its own assets`);
  return js;
}

function host() {
  return { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
}

/** Rejects what the page's CSP would block or what would make it reach beyond this origin. */
function checkHtml(html) {
  const problems = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc\s*=/.test(m[1]) || m[2].trim() !== '') problems.push('inline <script>');
  }
  if (/<style\b/i.test(html)) problems.push('<style> block');
  if (/\sstyle\s*=/i.test(html)) problems.push('style= attribute');
  if (/\son[a-z]+\s*=/i.test(html)) problems.push('on*= event-handler attribute');
  for (const m of html.matchAll(/\b(?:src|href|action)\s*=\s*["']([^"']*)["']/gi)) {
    const url = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) problems.push(`off-origin URL ${url}`);
  }
  if (problems.length) fail(`web/index.html: ${[...new Set(problems)].join(', ')} (the Content-Security-Policy forbids it)`);
}

const js = await compile();
const html = readFileSync(join(WEB, 'index.html'), 'utf8');
checkHtml(html);

// Each file is written beside its target and renamed over it: a running server (or a second
// build running at the same time, as parallel test files may do) only ever sees whole files.
const files = new Map([
  ['index.html', html],
  ['assets/app.js', js],
  ['assets/styles.css', readFileSync(join(WEB, 'styles.css'))],
  ['assets/icon.svg', readFileSync(join(WEB, 'icon.svg'))],
  ['assets/uPlot.esm.js', readFileSync(join(UPLOT_DIR, 'dist', 'uPlot.esm.js'))],
  ['assets/uPlot.min.css', readFileSync(join(UPLOT_DIR, 'dist', 'uPlot.min.css'))],
]);
mkdirSync(join(OUT, 'assets'), { recursive: true });
for (const [rel, body] of files) {
  const dest = join(OUT, rel);
  const tmp = `${dest}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, dest);
}
// Leftovers of an older build (a renamed asset) would be served forever: remove them.
for (const name of readdirSync(join(OUT, 'assets'))) {
  if (!files.has(`assets/${name}`) && !name.includes('.tmp-')) rmSync(join(OUT, 'assets', name), { force: true });
}
process.stdout.write(`build-web: dist/web/ (app.js ${(js.length / 1024).toFixed(1)} KiB)\n`);
