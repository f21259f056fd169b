import { defineConfig } from 'vitest/config';

// Shared by every package: tfjs kernels are slow on the cpu backend, so tests get generous time, and the
// worker count stays at the 2 cores our machines have.
export default defineConfig({
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
