import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// The router package also runs the example plugin's own test (examples/custom-router).
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ['src/**/*.test.ts', 'examples/**/*.test.ts'] } }),
);
