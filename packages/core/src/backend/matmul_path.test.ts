import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatBackendReport, initBackend } from './init_backend.js';
import { matmulPath } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';
import { planGemm } from './native_matmul.js';

const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('planGemm', () => {
  it('drops batch dims of 1, merges contiguous runs and keeps broadcast ones as zero strides', () => {
    const p = planGemm([2, 3, 4, 5], [2, 3, 5, 6], false, false)!;
    expect(p).toMatchObject({
      m: 4,
      n: 6,
      k: 5,
      outShape: [2, 3, 4, 6],
      dims: [6],
      aStrides: [20],
      bStrides: [30],
    });
    const q = planGemm([2, 1, 4, 5], [1, 3, 5, 6], false, false)!;
    expect(q).toMatchObject({ outShape: [2, 3, 4, 6], dims: [2, 3], aStrides: [20, 0], bStrides: [0, 30] });
  });

  it('folds a batch of untransposed A against one B into a single taller GEMM', () => {
    expect(planGemm([5, 9, 8], [8, 11], false, false)).toMatchObject({
      m: 45,
      dims: [],
      outShape: [5, 9, 11],
    });
    // Not with Aᵀ: the rows of the batch entries are not contiguous.
    expect(planGemm([5, 8, 9], [8, 11], true, false)).toMatchObject({ m: 9, dims: [5], bStrides: [0] });
  });

  it('throws tfjs’ errors for mismatched inner and batch dims, and leaves rank < 2 to tfjs', () => {
    expect(() => planGemm([3, 4], [5, 6], false, false)).toThrow(/inner shapes \(4\) and \(5\)/);
    expect(() => planGemm([2, 3, 4], [3, 4, 5], false, false)).toThrow(/broadcast/);
    expect(planGemm([4], [4, 5], false, false)).toBeUndefined();
  });
});

describe('matmul path report', () => {
  it('initBackend and formatBackendReport name the matmul path and why', async () => {
    const report = await initBackend({ backend: 'wasm' });
    expect(report.matmul).toEqual(matmulPath('wasm'));
    const line = formatBackendReport(report).split('\n').pop();
    const native = nativeBlas();
    if (native.ok) expect(line).toMatch(/^matmul: native /);
    else expect(line).toBe(`matmul: wasm XNNPACK (${native.reason})`);
    expect(matmulPath('cpu').kind).toBe('cpu');
  });

  it('MOEVL_NATIVE=0 in a child: the loader reports why, and the matMul suite passes on the wasm kernels', () => {
    const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
    const child = spawnSync(
      process.execPath,
      [vitest, 'run', 'src/backend/native_matmul.test.ts', '--reporter=verbose', '--maxWorkers=1'],
      {
        cwd: packageRoot,
        encoding: 'utf8',
        env: { ...process.env, MOEVL_NATIVE: '0', NO_COLOR: '1', FORCE_COLOR: '0' },
        timeout: 300_000,
      },
    );
    const output = `${child.stdout}\n${child.stderr}`;
    expect(child.status, output).toBe(0);
    expect(output).toMatch(/native matMul tests skipped: disabled by MOEVL_NATIVE=0/);
    expect(output).toMatch(/matMul on the wasm path > BatchMatMul matches a float64 reference/);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\d+ failed/);
  }, 300_000);
});
