import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './cli.test.helpers.js';

afterAll(removeTempDirs);

describe('zero-shot train-limoe', () => {
  it('trains a few steps, writes model.safetensors, and eval loads it with the held-out templates', async () => {
    const out = await tempDir('limoe');
    const r = await run([
      'train-limoe',
      '--steps',
      '2',
      '--batch-size',
      '8',
      '--per-class',
      '4',
      '--out',
      out,
      '--json',
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ variant: 'limoe', steps: 2, batchSize: 8, trainImages: 40 });
    expect(summary.model).toBe(join(out, 'model.safetensors'));
    expect(Number.isFinite(summary.finalLoss)).toBe(true);

    const e = await run([
      'eval',
      '--model',
      summary.model,
      '--data',
      'fashion-mnist',
      '--limit',
      '20',
      '--no-cache',
      '--json',
      '--quiet',
    ]);
    expect(e.code, e.err).toBe(0);
    const result = JSON.parse(e.out);
    expect(result.model).toBe(summary.model);
    expect(result.dataset).toBe('fashion-mnist-test');
    expect(result.templatesName).toBe('limoe held-out');
    expect(result.templates).toBe(6);
    expect(result.counts.evaluated).toBe(20);
    expect(result.metrics.top5).not.toBeNull();
  });
});
