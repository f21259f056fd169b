import { useBackend } from '@moevl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, imageTensor } from './pair_data.js';

beforeAll(() => useBackend('cpu'));

describe('imageTensor', () => {
  it('grayscale: [B, 1, side, side], (x/255 − mean)/std', () => {
    const data = {
      images: Uint8Array.from([0, 255, 51, 102, 9, 9, 9, 9]),
      labels: new Int32Array(2),
      count: 2,
      side: 2,
    };
    const t = imageTensor(data, [1, 0]);
    expect(t.shape).toEqual([2, 1, 2, 2]);
    const expected = [9, 9, 9, 9, 0, 255, 51, 102].map(
      (x) => (x / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD,
    );
    expect(Array.from(t.dataSync())).toEqual(Array.from(Float32Array.from(expected)));
    t.dispose();
  });

  it('RGB, channel-planar, with a mean and std per channel', () => {
    // One 1×1 RGB image: r = 255, g = 0, b = 51.
    const data = {
      images: Uint8Array.from([255, 0, 51]),
      labels: new Int32Array(1),
      count: 1,
      side: 1,
      channels: 3 as const,
    };
    const t = imageTensor(data, [0], [0.5, 0, 0.2], [0.5, 1, 0.1]);
    expect(t.shape).toEqual([1, 3, 1, 1]);
    expect(Array.from(t.dataSync())).toEqual(Array.from(Float32Array.from([1, 0, 0])));
    t.dispose();
  });
});
