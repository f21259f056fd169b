import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBackendReport, initBackend, parseBackendName } from './init_backend.js';

describe('initBackend', () => {
  const saved = process.env.MOEVL_BACKEND;
  afterEach(() => {
    if (saved == null) delete process.env.MOEVL_BACKEND;
    else process.env.MOEVL_BACKEND = saved;
  });

  it('defaults to wasm here, reporting why tfjs-node was skipped', async () => {
    delete process.env.MOEVL_BACKEND;
    const report = await initBackend();
    // tfjs-node cannot install on our machines (REFERENCE.md §0), so wasm is the default engine.
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const gpu = report.attempts.find((a) => a.name === 'tensorflow-gpu');
    expect(gpu?.ok).toBe(false);
    expect(gpu?.reason).toMatch(/not installed \(npm i @tensorflow\/tfjs-node-gpu/);
    expect(report.attempts.find((a) => a.name === 'cpu')?.reason).toMatch(/wasm is faster/);
    expect(formatBackendReport(report)).toMatch(/^backend: wasm/);
  });

  it('honours MOEVL_BACKEND and the option, the option first', async () => {
    process.env.MOEVL_BACKEND = 'cpu';
    expect((await initBackend()).backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ backend: 'wasm' })).backend).toBe('wasm');
  });

  it('fails loudly when a forced backend cannot start', async () => {
    process.env.MOEVL_BACKEND = 'tensorflow';
    await expect(initBackend()).rejects.toThrow(
      /Backend "tensorflow" was requested[\s\S]*npm i @tensorflow\/tfjs-node/,
    );
  });

  it('rejects unknown names with the list of valid ones', async () => {
    expect(() => parseBackendName('gpu', 'MOEVL_BACKEND')).toThrow(
      'MOEVL_BACKEND: unknown backend "gpu"; use one of tensorflow-gpu, tensorflow, wasm, cpu.',
    );
  });
});
