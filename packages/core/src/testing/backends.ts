import { createRequire } from 'node:module';
import { beforeAll, describe } from 'vitest';
import { type BackendName, useBackend } from '../backend/init_backend.js';

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Backends a test suite runs on: wasm and cpu always; native TensorFlow when the user installed it. */
export function testBackends(): BackendName[] {
  const env = process.env.MOEVL_TEST_BACKENDS;
  if (env) return env.split(',').map((s) => s.trim()) as BackendName[];
  const out: BackendName[] = ['wasm', 'cpu'];
  if (installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node')) out.push('tensorflow');
  return out;
}

/**
 * Runs `suite` once per backend (vitest `describe` per backend). The backend is switched in `beforeAll`,
 * and vitest runs describe blocks of a file one after another, so each block sees its own backend.
 */
export function describeEachBackend(name: string, suite: (backend: BackendName) => void): void {
  for (const backend of testBackends()) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        await useBackend(backend);
      });
      suite(backend);
    });
  }
}
