import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@moevl/core';
import { resolveBuiltinModel } from '@moevl/limoe';
import { FASHION_MNIST_CLASS_NAMES, SHIPPED_FASHION_MNIST_DIR } from '@moevl/vision';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, removeTempDirs, run, tempDir } from './cli.test.helpers.js';

afterAll(removeTempDirs);

/**
 * The numbers `zero-shot eval` prints cannot flatter a model: a model that cannot tell the classes apart
 * scores about 1/C, a broken model is an error, and `--data fashion-mnist` is the official test set.
 */
describe('zero-shot eval numbers that cannot flatter', () => {
  it('the tiny CLIP fixture on fashion-mnist (all ten classes tie) scores about 10%, not 100%', async () => {
    const r = await run([
      'eval',
      ...[
        '--model',
        TINY_CLIP,
        '--data',
        'fashion-mnist',
        '--limit',
        '1000',
        '--templates',
        'a photo of a {}.',
      ],
      ...['--no-cache', '--json', '--quiet'],
    ]);
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.counts.evaluated).toBe(1000);
    expect(result.metrics.top1).toBeGreaterThan(0.05);
    expect(result.metrics.top1).toBeLessThan(0.15);
    expect(result.metrics.acc1).toBe(result.metrics.top1); // CLIP_benchmark's name beside ours
  });

  it('a model file with NaN weights exits 1 with one sentence and writes no result', async () => {
    const dir = await tempDir('nan');
    const { tensors, metadata } = await readSafetensors(resolveBuiltinModel('limoe-fashion-mnist').path);
    const key = 'image_projection/kernel';
    expect(tensors[key]).toBeDefined();
    const broken = { ...tensors, [key]: tf.fill(tensors[key].shape, NaN) };
    const file = join(dir, 'nan.safetensors');
    await writeSafetensors(file, broken, metadata);
    tf.dispose([...Object.values(tensors), broken[key]]);
    const out = join(dir, 'result.json');
    const r = await run([
      'eval',
      '--model',
      file,
      '--data',
      'fashion-mnist',
      '--limit',
      '50',
      '--no-cache',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const lines = r.err
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('backend') && l.includes('NaN'));
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^zero-shot: model ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} produced NaN scores for image fashion-mnist:test:\\d+; the model file may be corrupt`,
        ),
      ),
    ]);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });

  it('--data fashion-mnist is the official test set: the predictions CSV lists the official labels in order', async () => {
    const dir = await tempDir('official');
    const csv = join(dir, 'predictions.csv');
    const r = await run([
      'eval',
      ...[
        '--model',
        TINY_CLIP,
        '--data',
        'fashion-mnist',
        '--templates',
        'a photo of a {}.',
        '--batch-size',
        '500',
      ],
      ...['--no-cache', '--quiet', '--predictions', csv],
    ]);
    expect(r.code, r.err).toBe(0);
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(rows[0].split(',').slice(0, 2)).toEqual(['file', 'true']);
    const body = rows.slice(1).map((l) => l.split(','));
    expect(body.map((f) => f[0])).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `fashion-mnist:test:${i}`),
    );
    // t10k-labels-idx1-ubyte: an 8-byte header, then one byte per image.
    const official = gunzipSync(await readFile(join(SHIPPED_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')));
    expect(body.map((f) => FASHION_MNIST_CLASS_NAMES.indexOf(f[1]))).toEqual(
      Array.from(official.subarray(8)),
    );
  }, 120_000);
});
