import { describe, expect, it } from 'vitest';
import { mergeMetrics } from './merge_metrics.js';
import { routingMetrics } from './routing_metrics.js';

const GATES = [
  [0.4, 0, 0.2],
  [0.5, 0.1, 0.4],
  [0.3, 0.2, 0.6],
];
const EXPERT_INDEX = [
  [0, 2],
  [0, 2],
  [2, 0],
];

describe('mergeMetrics', () => {
  it('averages two layers element-wise, skipping nulls', () => {
    const base = { expertIndex: EXPERT_INDEX, gates: GATES, numExperts: 3, capacity: 2, modality: [0, 0, 1] };
    const a = routingMetrics({
      ...base,
      position: [
        [0, 1],
        [1, -1],
        [0, -1],
      ],
    });
    // Second layer: token 2 (the only modality-1 token) is padding, so its modality rate is null.
    const b = routingMetrics({
      ...base,
      position: [
        [0, 0],
        [1, 1],
        [-1, -1],
      ],
      mask: [1, 1, 0],
    });
    const m = mergeMetrics([a, b]);
    expect(m.routingSuccessRate).toBeCloseTo((4 / 6 + 1) / 2, 12);
    expect(m.routingSuccessRateByModality).toEqual([(0.75 + 1) / 2, 0.5]);
    expect(m.expertCounts).toEqual([2, 0, 2]);
    expect(m.tokens).toBe(2.5);
    expect(m.numExperts).toBe(3);
    expect(m.expertTaskUsage).toBeNull();
    expect(mergeMetrics([a])).toEqual(a);
  });

  it('rejects records of different models and an empty list', () => {
    expect(() => mergeMetrics([])).toThrow(/at least one record/);
    expect(() =>
      mergeMetrics([
        { numExperts: 2, load: [1, 0] },
        { numExperts: 3, load: [1, 0, 0] },
      ]),
    ).toThrow(/different numExperts/);
    expect(() =>
      mergeMetrics([
        { numExperts: 2, rates: [1, 0] },
        { numExperts: 2, rates: [1] },
      ]),
    ).toThrow(/rates has different lengths/);
  });
});
