// `node --import ./module-log.mjs …`: appends every module URL the process resolves through
// ESM to the file named by SU_MODULE_LOG, so a test can check what a command loads. The
// bundled bin is CommonJS and loads packages with require(): at exit, every module in
// require's cache is appended too.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(new URL('./module-log-hooks.mjs', import.meta.url));

const LOG = process.env.SU_MODULE_LOG;
const require = createRequire(import.meta.url);
if (LOG) {
  process.on('exit', () => {
    const files = Object.keys(require.cache).filter((k) => k.startsWith('/') || /^[A-Za-z]:\\/.test(k));
    if (files.length) appendFileSync(LOG, files.map((f) => pathToFileURL(f).href).join('\n') + '\n');
  });
}
