/**
 * ESLint rule `layers/layering`: which folder of src/ may import which (eslint.config.js holds
 * the table; this file only applies it).
 *
 * Every import counts, `import type` and `typeof import()` too: a type dependency is still a
 * dependency of the design, even when it costs nothing at run time.
 */
import { dirname, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

/** 'src/reports/reports.ts' → 'reports'; 'src/errors.ts' → 'errors.ts'. */
function layerOf(rel, layers) {
  const parts = rel.split('/');
  if (parts[0] !== 'src') return undefined;
  return Object.hasOwn(layers, parts[1]) ? parts[1] : undefined;
}

/** The repo-relative .ts path a relative specifier names (NodeNext spells './x.ts' as './x.js'). */
function target(fromAbs, spec) {
  if (!spec.startsWith('.')) return undefined;
  return relative(ROOT, resolve(dirname(fromAbs), spec)).replace(/\.js$/, '.ts');
}

const layering = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ folders import only the layers below them; sync only through its entry module' },
    schema: [
      {
        type: 'object',
        properties: {
          layers: { type: 'object' },
          entries: { type: 'object' },
        },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { layers, entries = {} } = context.options[0];
    const fromRel = relative(ROOT, context.filename);
    const fromLayer = layerOf(fromRel, layers);
    if (!fromLayer) return {};

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      const to = target(context.filename, spec);
      if (!to) return;
      const toLayer = layerOf(to, layers);
      if (!toLayer || toLayer === fromLayer) return;
      if (!layers[fromLayer].includes(toLayer)) {
        context.report({ node, message: `${fromLayer} may not import ${toLayer} (${to}); ${fromLayer} may import: ${layers[fromLayer].join(', ') || 'nothing in src/'}` });
      } else if (entries[toLayer] && to !== entries[toLayer]) {
        context.report({ node, message: `${toLayer} is reached only through ${entries[toLayer]}, not ${to}` });
      }
    }
    const source = (node) => check(node, node.source?.value);
    return {
      ImportDeclaration: source,
      ExportNamedDeclaration: source,
      ExportAllDeclaration: source,
      ImportExpression: source,
      TSImportType(node) {
        check(node, node.source?.value ?? node.argument?.literal?.value);
      },
    };
  },
};

export default { rules: { layering } };
