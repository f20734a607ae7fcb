// `node --import ./module-log.mjs …`: appends every module URL the process resolves through
// ESM to the file named by SU_MODULE_LOG, so a test can check what a command loads.
import { register } from 'node:module';

register(new URL('./module-log-hooks.mjs', import.meta.url));
