import { Rng } from '@moevl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ZeroShotAccumulator } from './metrics.js';
import { NonFiniteScoreError } from './rank_predictions.js';

/**
 * The one zero-shot metric path (rankPredictions → metricsFromPredictions, behind ZeroShotAccumulator,
 * evaluateZeroShot and runZeroShotEval) against the textbook computation: argmax for top-1, "label among
 * the 5 largest scores" for top-5, per-class top-1 recall averaged over classes. Without ties the two must
 * agree exactly; with ties only the library's rule (lower class index first) is defined.
 */
function textbook(scores: Float32Array, labels: number[], classes: number) {
  let top1 = 0;
  let top5 = 0;
  const hits = new Array<number>(classes).fill(0);
  const total = new Array<number>(classes).fill(0);
  labels.forEach((label, i) => {
    const row = Array.from(scores.subarray(i * classes, (i + 1) * classes));
    const order = row.map((s, c) => [s, c] as const).sort((a, b) => b[0] - a[0]);
    total[label]++;
    if (order[0][1] === label) {
      top1++;
      hits[label]++;
    }
    if (order.slice(0, 5).some(([, c]) => c === label)) top5++;
  });
  const recall = total.map((t, c) => hits[c] / t);
  return {
    top1: top1 / labels.length,
    top5: top5 / labels.length,
    meanPerClassRecall: recall.reduce((a, b) => a + b, 0) / classes,
  };
}

describe('zero-shot metrics', () => {
  it('equal argmax top-1, top-5 and mean per-class recall when no two scores tie', () => {
    const classes = 12;
    const images = 600;
    const rng = new Rng(7);
    // Each row a permutation of distinct scores, biased toward the label so accuracy is neither 0 nor 1.
    const labels = Array.from({ length: images }, (_, i) => i % classes);
    const scores = new Float32Array(images * classes);
    labels.forEach((label, i) => {
      rng.permutation(classes).forEach((p, c) => (scores[i * classes + c] = p + (c === label ? 4.5 : 0)));
    });
    const acc = new ZeroShotAccumulator(classes);
    for (let start = 0; start < images; start += 100) {
      const batch = tf.tensor2d(scores.slice(start * classes, (start + 100) * classes), [100, classes]);
      acc.add(batch, labels.slice(start, start + 100));
      batch.dispose();
    }
    const got = acc.result();
    const want = textbook(scores, labels, classes);
    expect(want.top1).toBeGreaterThan(0.2);
    expect(want.top1).toBeLessThan(0.9);
    expect(got.count).toBe(images);
    expect(got.top1).toBe(want.top1);
    expect(got.top5).toBe(want.top5);
    expect(got.meanPerClassRecall).toBeCloseTo(want.meanPerClassRecall, 12);
  });

  it('give a collapsed model (every class the same score) 1/C, not 100%', () => {
    const classes = 10;
    const labels = Array.from({ length: 500 }, (_, i) => i % classes);
    const acc = new ZeroShotAccumulator(classes);
    const logits = tf.fill([labels.length, classes], 3.25) as tf.Tensor2D;
    acc.add(logits, labels);
    logits.dispose();
    const r = acc.result();
    expect(r.top1).toBeCloseTo(1 / classes, 12);
    expect(r.top5).toBeCloseTo(5 / classes, 12);
    expect(r.meanPerClassRecall).toBeCloseTo(1 / classes, 12);
  });

  it('refuse a NaN score instead of ranking it', () => {
    const acc = new ZeroShotAccumulator(3);
    const logits = tf.tensor2d([[0.1, Number.NaN, 0.3]]);
    expect(() => acc.add(logits, [1])).toThrow(NonFiniteScoreError);
    logits.dispose();
  });
});
