/**
 * import() of a package that ships only ES modules (age-encryption, chokidar).
 *
 * The bin runs the bundled CLI through vm.Script to use V8's code cache (scripts/bin.cjs),
 * and Node 20 loses the loader of an import() in code that comes from a cache made by
 * another process ("A dynamic import callback was not specified"). So the bin hands in an
 * import() of its own, compiled by Node as usual, as the bundle's `__stackunderflowImport`.
 * Run any other way (the sources through tsx, cli.cjs started directly) there is no such
 * name and import() is Node's own.
 */
declare const __stackunderflowImport: ((specifier: string) => Promise<unknown>) | undefined;

export function importEsm<T>(specifier: string): Promise<T> {
  return (typeof __stackunderflowImport === 'function' ? __stackunderflowImport(specifier) : import(specifier)) as Promise<T>;
}
