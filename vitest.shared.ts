import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * A package's `#platform` (package.json `imports`: its Node and browser files) points into dist/, where
 * Node and bundlers look; the package's own tests get the source file instead, as tsc does, so a test never
 * runs half src and half a stale build. Other packages' tests keep importing the built package.
 */
const packageImportsFromSource = {
  name: 'moevl-package-imports-from-source',
  enforce: 'pre' as const,
  resolveId(id: string, importer?: string) {
    const root = importer?.match(/^(.*)\/src\//)?.[1];
    if (!id.startsWith('#') || root === undefined) return null;
    const { imports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      imports?: Record<string, string | { default?: string }>;
    };
    const entry = imports?.[id];
    const target = typeof entry === 'string' ? entry : entry?.default;
    if (target === undefined || !target.startsWith('./dist/')) return null;
    return join(root, 'src', target.slice('./dist/'.length).replace(/\.js$/, '.ts'));
  },
};

// Shared by every package: tfjs kernels are slow on the cpu backend, so tests get generous time, and the
// worker count stays at the 2 cores our machines have.
export default defineConfig({
  plugins: [packageImportsFromSource],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Two test workers already fill the two cores: a native BLAS with its own threads in each would
    // oversubscribe them (OpenBLAS threads spin while they wait), so each worker's BLAS runs one thread.
    env: { MOEVL_THREADS: process.env.MOEVL_THREADS ?? '1' },
  },
});
