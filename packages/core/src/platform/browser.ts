import * as tf from '@tensorflow/tfjs';
import type { CorePlatform } from './platform.js';

/** The tfjs backend each optional backend package registers when it is imported. */
const BACKEND_OF_PACKAGE: Record<string, string> = {
  '@tensorflow/tfjs-backend-wasm': 'wasm',
  '@tensorflow/tfjs-node': 'tensorflow',
  '@tensorflow/tfjs-node-gpu': 'tensorflow',
};

/** What a browser reports as its memory (Chromium: GiB, rounded down and capped), if anything. */
function deviceMemoryBytes(): number | null {
  const gib = (globalThis as { navigator?: { deviceMemory?: unknown } }).navigator?.deviceMemory;
  return typeof gib === 'number' && gib > 0 ? gib * 1024 ** 3 : null;
}

/** Core in a browser (the `browser` target of `#platform`, which bundlers pick). */
export const platform: CorePlatform = {
  name: 'browser',
  env: () => undefined,
  cores: () =>
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
  totalMemory: deviceMemoryBytes,
  requirePackage: null,
  async importOptional(pkg) {
    // A bundle cannot load a package by its name: the page imports the backend package, which registers
    // its backend with tfjs; that registration is what "installed" means here.
    const backend = BACKEND_OF_PACKAGE[pkg];
    if (backend !== undefined && tf.findBackendFactory(backend) != null) return {};
    throw Object.assign(new Error(`${pkg} is not imported by this page`), { code: 'MODULE_NOT_FOUND' });
  },
  writeError: (text) => console.error(text.replace(/\n$/, '')),
};
