import { describe, expect, it } from 'vitest';
import type { ZeroShotPrediction } from './eval_result.js';
import { metricsFromPredictions } from './eval_result.js';
import { rankPredictions } from './rank_predictions.js';

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

  it('breaks ties in the label’s favour, then by lower class, so top[rank] is the label', () => {
    const r = rankPredictions([0.5, 0.5, 0.5, 0.1], [0, 1, 2, 3], [2], 4);
    expect(r[0].rank).toBe(0);
    expect(r[0].top.map((t) => t.class)).toEqual([2, 0, 1, 3]);
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

  it('ranks NaN scores last', () => {
    const r = rankPredictions([NaN, 0.1, 0.2], [0, 1, 2], [0], 2);
    expect(r[0].rank).toBe(2);
    expect(r[0].top.map((t) => t.class)).toEqual([2, 1]);
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
    expect(m.perClassAccuracy).toEqual([0.5, 1, null, 0, null, null]);
    expect(m.meanPerClassRecall).toBe(0.5);
  });

  it('reports null, never NaN, for top-5 with < 5 allowed classes and for nothing evaluated', () => {
    expect(metricsFromPredictions([p(0, 0)], 1000, 4).top5).toBeNull();
    const empty = metricsFromPredictions([], 3, 3);
    expect(empty).toEqual({
      top1: null,
      top5: null,
      meanPerClassRecall: null,
      perClassAccuracy: [null, null, null],
    });
  });
});
