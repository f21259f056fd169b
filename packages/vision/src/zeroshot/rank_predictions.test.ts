import { describe, expect, it } from 'vitest';
import type { ZeroShotPrediction } from '../eval/eval_result.js';
import { metricsFromPredictions } from './metrics.js';
import { NonFiniteScoreError, rankPredictions } from './rank_predictions.js';

describe('rankPredictions', () => {
  it('keeps the top-k classes, best first, and the label rank (hand-computed)', () => {
    const scores = [
      // label 2 is third best → rank 2
      0.1, 0.9, 0.5, 0.7, 0.2,
      // label 0 is best → rank 0
      0.8, 0.1, 0.3, 0.2, 0.0,
    ];
    const r = rankPredictions(scores, [0, 1, 2, 3, 4], [2, 0], 3);
    expect(r[0]).toEqual({
      rank: 2,
      top: [
        { class: 1, score: 0.9 },
        { class: 3, score: 0.7 },
        { class: 2, score: 0.5 },
      ],
    });
    expect(r[1].rank).toBe(0);
    expect(r[1].top.map((t) => t.class)).toEqual([0, 2, 3]);
  });

  it('breaks ties by the lower class index as torch.topk/argmax do, never in the label’s favour', () => {
    const r = rankPredictions([0.5, 0.5, 0.5, 0.1], [0, 1, 2, 3], [2], 4);
    expect(r[0].rank).toBe(2);
    expect(r[0].top.map((t) => t.class)).toEqual([0, 1, 2, 3]);
    expect(r[0].top[r[0].rank].class).toBe(2);
    // Among a subset the order is by global class index, whatever the column order.
    const s = rankPredictions([0.5, 0.5, 0.5], [7, 3, 5], [5], 3);
    expect(s[0].top.map((t) => t.class)).toEqual([3, 5, 7]);
    expect(s[0].rank).toBe(1);
  });

  it('gives a model that cannot tell classes apart 1/C top-1 and 5/C top-5, not 100%', () => {
    const classes = 10;
    const labels = Array.from({ length: 1000 }, (_, i) => i % classes);
    const r = rankPredictions(new Array(1000 * classes).fill(3.25), [...Array(classes).keys()], labels, 5);
    const m = metricsFromPredictions(
      r.map((p, i) => ({ label: labels[i], rank: p.rank })),
      classes,
      classes,
    );
    expect(m.top1).toBeCloseTo(1 / classes, 10);
    expect(m.top5).toBeCloseTo(5 / classes, 10);
    expect(m.perClassRecall).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('ranks among a subset of classes (ImageNet-A/R) and returns global class indices', () => {
    // Columns are classes 10, 3, 7; class 3 (the label) loses only to 7.
    const r = rankPredictions([0.2, 0.6, 0.9], [10, 3, 7], [3], 5);
    expect(r[0]).toEqual({
      rank: 1,
      top: [
        { class: 7, score: 0.9 },
        { class: 3, score: 0.6 },
        { class: 10, score: 0.2 },
      ],
    });
    expect(rankPredictions([0.2, 0.6, 0.9], [10, 3, 7], [4], 1)[0].rank).toBe(3);
  });

  it('refuses NaN and ±Infinity scores (a broken model is an error, not a rank)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const error = (() => {
        try {
          rankPredictions([0.1, 0.2, 0.3, 0.4, bad, 0.6], [4, 5, 6], [4, 5], 2);
        } catch (e) {
          return e;
        }
      })() as NonFiniteScoreError;
      expect(error).toBeInstanceOf(NonFiniteScoreError);
      expect([error.row, error.classIndex]).toEqual([1, 5]);
    }
  });

  it('checks the score count', () => {
    expect(() => rankPredictions([1, 2, 3], [0, 1], [0], 1)).toThrow(
      'rankPredictions: 3 scores for 1 rows of 2 classes.',
    );
  });
});

describe('metricsFromPredictions', () => {
  const p = (label: number, rank: number): ZeroShotPrediction => ({
    index: 0,
    id: 'x',
    label,
    rank,
    top: [],
  });

  it('computes top-1, top-5 and per-class recall from ranks alone', () => {
    const m = metricsFromPredictions([p(0, 0), p(0, 3), p(1, 0), p(3, 7)], 6, 6);
    expect(m.top1).toBe(0.5);
    expect(m.top5).toBe(0.75);
    expect(m.perClassRecall).toEqual([0.5, 1, null, 0, null, null]);
    expect([m.acc1, m.acc5, m.mean_per_class_recall]).toEqual([m.top1, m.top5, m.meanPerClassRecall]);
    expect(m.meanPerClassRecall).toBe(0.5);
  });

  it('reports null, never NaN, for top-5 with < 5 allowed classes and for nothing evaluated', () => {
    expect(metricsFromPredictions([p(0, 0)], 1000, 4).top5).toBeNull();
    const empty = metricsFromPredictions([], 3, 3);
    expect(empty).toEqual({
      top1: null,
      top5: null,
      meanPerClassRecall: null,
      perClassRecall: [null, null, null],
      acc1: null,
      acc5: null,
      mean_per_class_recall: null,
    });
  });
});
