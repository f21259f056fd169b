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
  },
});
