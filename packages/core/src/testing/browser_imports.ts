import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages that cannot run in a page, besides Node's built-in modules. */
export const NODE_ONLY_PACKAGES: readonly string[] = [
  '@moevl/native-blas',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'onnxruntime-node',
  'sharp',
];

/** An import a browser cannot satisfy, with the chain of files that reaches it from the entry. */
export interface BrowserImportViolation {
  specifier: string;
  /** Source files from the entry to the importing file, relative to the package root. */
  chain: string[];
}

// `import … from '…'`, `export … from '…'` and `import '…'`, but not `import type` / `export type` (erased).
const STATIC_IMPORT = /^\s*(?:import|export)(?!\s+type\b)(?:[^'";]*?\bfrom)?\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function packageRoot(file: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`${file}: no package.json above it.`);
}

/** Where a `#name` import goes under the `browser` condition, as a source file. */
function browserTarget(root: string, specifier: string): string {
  const { imports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    imports?: Record<string, string | Record<string, string>>;
  };
  const entry = imports?.[specifier];
  const target = typeof entry === 'string' ? entry : (entry?.browser ?? entry?.default);
  if (target === undefined) throw new Error(`${root}/package.json: no "imports" entry for ${specifier}.`);
  return join(root, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

function isNodeOnly(specifier: string, nodeOnly: readonly string[]): boolean {
  const bare = specifier.replace(/^node:/, '').split('/')[0];
  const pkg = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  return specifier.startsWith('node:') || builtinModules.includes(bare) || nodeOnly.includes(pkg);
}

/**
 * Follows the imports of a package's browser entry (a TypeScript source file) through the package's own
 * files — relative imports, and `#` imports to their `browser` target — and returns every import of a Node
 * built-in or a Node-only package (`NODE_ONLY_PACKAGES` and `options.nodeOnly`) that a bundle of the entry
 * would contain. Other packages are not followed: each checks its own entry. Empty means the entry can be
 * bundled for a page.
 */
export function browserImportViolations(
  entry: string | URL,
  options: { nodeOnly?: readonly string[] } = {},
): BrowserImportViolation[] {
  const start = entry instanceof URL ? fileURLToPath(entry) : resolve(entry);
  const root = packageRoot(start);
  const nodeOnly = [...NODE_ONLY_PACKAGES, ...(options.nodeOnly ?? [])];
  const violations: BrowserImportViolation[] = [];
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...chain, relative(root, file)];
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(STATIC_IMPORT), ...text.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), here);
      else if (specifier.startsWith('#')) visit(browserTarget(root, specifier), here);
      else if (isNodeOnly(specifier, nodeOnly)) violations.push({ specifier, chain: here });
    }
  };
  visit(start, []);
  return violations;
}
