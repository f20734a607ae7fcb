import { appendFileSync } from 'node:fs';

const LOG = process.env.SU_MODULE_LOG;

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (LOG) appendFileSync(LOG, r.url + '\n');
  return r;
}
