import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moevl/core/testing';
import { describe, expect, it } from 'vitest';
import { preprocessBatch } from './batch.js';
import { preprocessImageData } from './preprocess_image.js';
import { preprocessStream } from './stream.js';

const fixture = (f: string): string =>
  fileURLToPath(new URL(`../../test/fixtures/preprocess/${f}`, import.meta.url));
const good = [fixture('photo_500x375.jpg'), fixture('gray_301x233.png'), fixture('rgba_260x200.png')];
const corrupt = Buffer.from(readFileSync(good[0]).subarray(0, 5_000));
const small = { size: 32, cropSize: 32 };

describe('preprocessBatch', () => {
  it('returns the readable images in order and reports the others per file', async () => {
    const sources = [good[0], corrupt, readFileSync(good[1]), fixture('missing.png'), good[2]];
    const { pixels, indices, errors } = await preprocessBatch(sources, small, { concurrency: 3 });
    expect(pixels.shape).toEqual([3, 3, 32, 32]);
    expect(indices).toEqual([0, 2, 4]);
    expect(errors.map((e) => [e.index, e.source])).toEqual([
      [1, '<buffer of 5000 bytes>'],
      [3, fixture('missing.png')],
    ]);
    expect(errors[0].message).toMatch(/corrupt or unreadable/);
    expect(errors[1].message).toMatch(/file not found/);
    // Each row is exactly what the single-image path gives.
    const rows = await pixels.array();
    for (const [row, i] of indices.entries()) {
      const single = await preprocessImageData(sources[i], small);
      expect(Float32Array.from(rows[row].flat(2))).toEqual(single.data);
    }
    pixels.dispose();
  });

  it('an all-bad batch gives an empty tensor, not an exception', async () => {
    const { pixels, errors } = await preprocessBatch([corrupt, Buffer.alloc(0)], small);
    expect(pixels.shape).toEqual([0, 3, 32, 32]);
    expect(errors).toHaveLength(2);
    pixels.dispose();
  });

  it('needs a fixed output shape', async () => {
    await expect(preprocessBatch(good, { doCenterCrop: false })).rejects.toThrow(/same shape/);
    const { pixels } = await preprocessBatch(good, { doCenterCrop: false, resizeMode: 'squash', size: 16 });
    expect(pixels.shape).toEqual([3, 3, 16, 16]);
    pixels.dispose();
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(async () => (await preprocessBatch([good[0], corrupt], small)).pixels);
  });
});

describe('preprocessStream', () => {
  it('yields batches with stream-wide indices and errors', async () => {
    const sources = [good[0], good[1], corrupt, good[2], good[0]];
    const seen: { shape: number[]; indices: number[]; errors: number[] }[] = [];
    for await (const b of preprocessStream(sources, small, { batchSize: 2 })) {
      seen.push({ shape: b.pixels.shape, indices: b.indices, errors: b.errors.map((e) => e.index) });
      b.pixels.dispose();
    }
    expect(seen).toEqual([
      { shape: [2, 3, 32, 32], indices: [0, 1], errors: [] },
      { shape: [1, 3, 32, 32], indices: [3], errors: [2] },
      { shape: [1, 3, 32, 32], indices: [4], errors: [] },
    ]);
  });

  it('accepts an async iterable and leaks nothing when the consumer stops early', async () => {
    async function* paths(): AsyncGenerator<string> {
      for (let i = 0; i < 6; i++) yield good[i % 3];
    }
    const before = tf.memory().numTensors;
    for await (const b of preprocessStream(paths(), small, { batchSize: 2 })) {
      expect(b.pixels.shape[0]).toBe(2);
      b.pixels.dispose();
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
