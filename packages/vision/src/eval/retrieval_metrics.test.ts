import * as tf from '@tensorflow/tfjs';
import { Rng, useBackend } from '@moevl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipRetrievalMetrics } from './retrieval_metrics.js';

beforeAll(() => useBackend('cpu'));

describe("clipRetrievalMetrics (open_clip's get_clip_metrics)", () => {
  it('a hand-computed case: image i scores caption j with M[i][j]', () => {
    // I = identity, T = Mᵀ, so I·Tᵀ = M = [[1, 2, 3], [0, 1, 0], [0, 0, 1]].
    // image→text (rows of M): pair 0 has 2 captions ahead, pairs 1 and 2 none → ranks [2, 0, 0].
    // text→image (columns of M): [1,0,0] → 0; [2,1,0] → 1; [3,0,1] → 1 → ranks [0, 1, 1].
    const images = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const texts = tf.tensor2d([
      [1, 0, 0],
      [2, 1, 0],
      [3, 0, 1],
    ]);
    const m = clipRetrievalMetrics(images, texts);
    expect(m.image_to_text_mean_rank).toBeCloseTo(2 / 3 + 1, 12);
    expect(m.image_to_text_median_rank).toBe(1); // floor(median [0, 0, 2]) + 1
    expect([m['image_to_text_R@1'], m['image_to_text_R@5'], m['image_to_text_R@10']]).toEqual([2 / 3, 1, 1]);
    expect(m.text_to_image_mean_rank).toBeCloseTo(2 / 3 + 1, 12);
    expect(m.text_to_image_median_rank).toBe(2); // floor(median [0, 1, 1]) + 1
    expect([m['text_to_image_R@1'], m['text_to_image_R@5'], m['text_to_image_R@10']]).toEqual([1 / 3, 1, 1]);
    tf.dispose([images, texts]);
  });

  it('a model that scores every pair the same is at chance: mean rank (N+1)/2, R@k = k/N', () => {
    for (const n of [4, 100]) {
      const same = tf.ones([n, 8]) as tf.Tensor2D;
      const m = clipRetrievalMetrics(same, same);
      expect(m.image_to_text_mean_rank).toBe((n + 1) / 2);
      // np.median of 0..n-1 is (n-1)/2; floored, plus 1.
      expect(m.image_to_text_median_rank).toBe(Math.floor((n - 1) / 2) + 1);
      expect(m['image_to_text_R@1']).toBe(1 / n);
      expect(m['text_to_image_R@5']).toBe(Math.min(5, n) / n);
      expect(m['text_to_image_R@10']).toBe(Math.min(10, n) / n);
      same.dispose();
    }
  });

  it('an uninformative model (independent random embeddings) is near chance; chunks give the brute-force ranks', () => {
    const rng = new Rng(5);
    const n = 600; // more than one chunk of 256 rows
    const a = rng.normalTensor([n, 16]) as tf.Tensor2D;
    const b = rng.normalTensor([n, 16]) as tf.Tensor2D;
    const m = clipRetrievalMetrics(a, b);
    expect(Math.abs(m.image_to_text_mean_rank - (n + 1) / 2)).toBeLessThan(40);
    expect(Math.abs(m['text_to_image_R@10'] - 10 / n)).toBeLessThan(0.02);
    // Brute force: ranks straight from the full logits.
    const s = tf.matMul(a, b, false, true).arraySync() as number[][];
    const ranks = s.map((row, i) => row.filter((v, j) => v > row[i] || (v === row[i] && j < i)).length);
    expect(m.image_to_text_mean_rank).toBeCloseTo(ranks.reduce((x, y) => x + y, 0) / n + 1, 9);
    expect(m['image_to_text_R@5']).toBe(ranks.filter((r) => r < 5).length / n);
    tf.dispose([a, b]);
  });

  it('refuses NaN scores and mismatched shapes', () => {
    const bad = tf.tensor2d([
      [NaN, 0],
      [0, 1],
    ]);
    const ok = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    expect(() => clipRetrievalMetrics(bad, ok)).toThrow(
      /image→text score NaN of pair 0 with 0 is not finite/,
    );
    const three = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => clipRetrievalMetrics(ok, three)).toThrow(/one shape \[N, D\], got \[2,2\] and \[3,2\]/);
    tf.dispose([bad, ok, three]);
  });
});
