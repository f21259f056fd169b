import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@moevl/core';
import { resolveBuiltinModel } from '@moevl/limoe';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './cli.test.helpers.js';

afterAll(removeTempDirs);

/** The builtin model with its text projection scaled: another model, same file format. */
async function writeOtherModel(path: string): Promise<void> {
  const { tensors, metadata } = await readSafetensors(resolveBuiltinModel('limoe-fashion-mnist').path);
  const key = 'text_projection/kernel';
  const changed = {
    ...tensors,
    [key]: tf.tidy(() => tf.mul(tensors[key], tf.randomNormal(tensors[key].shape, 1, 0.8, 'float32', 3))),
  };
  await writeSafetensors(path, changed, metadata);
  tf.dispose([...Object.values(tensors), changed[key]]);
}

const top1 = (out: string) => JSON.parse(out).metrics.top1 as number;

describe('caches and resumable runs are keyed by the model file’s contents, not its path', () => {
  it('a model overwritten at the same path gets a fresh classifier, and --resume of the old run refuses', async () => {
    const dir = await tempDir('hash');
    const model = join(dir, 'model.safetensors');
    const cacheDir = join(dir, 'cache');
    await copyFile(resolveBuiltinModel('limoe-fashion-mnist').path, model);
    const evalArgs = [
      'eval',
      '--model',
      model,
      '--data',
      'fashion-mnist',
      '--limit',
      '200',
      '--json',
      '--quiet',
    ];
    const out = join(dir, 'r.json');
    const first = await run([...evalArgs, '--cache-dir', cacheDir, '--out', out]);
    expect(first.code, first.err).toBe(0);

    await writeOtherModel(model);
    const cached = await run([...evalArgs, '--cache-dir', cacheDir]);
    const fresh = await run([...evalArgs, '--no-cache']);
    expect(cached.code, cached.err).toBe(0);
    expect(JSON.parse(cached.out).timing.classifierCached).toBe(false);
    expect(top1(cached.out)).toBe(top1(fresh.out));
    expect(top1(cached.out)).not.toBe(top1(first.out));

    const resumed = await run([...evalArgs, '--cache-dir', cacheDir, '--out', out, '--resume']);
    expect(resumed.code).toBe(2);
    expect(resumed.err).toMatch(/modelHash/);
  }, 120_000);
});
