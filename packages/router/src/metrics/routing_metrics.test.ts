import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { assignTopK } from '../assignment/index.js';
import { routingMetrics } from './routing_metrics.js';

// The vanilla routing of vmoe/nn/routing_test.py's gates (K = 2, C = 2), worked by hand:
// kept choices (t0,e0) (t0,e2) (t1,e0) (t2,e2); dropped (t1,e2) (t2,e0).
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
const POSITION = [
  [0, 1],
  [1, -1],
  [0, -1],
];

describeEachBackend('routingMetrics', () => {
  it('computes the hand-worked example from the tensors assignTopK returns', () => {
    const gates = tf.tensor2d(GATES);
    const modality = tf.tensor1d([0, 0, 1], 'int32');
    const r = assignTopK(gates, { k: 2, capacity: 2 });
    const m = routingMetrics({
      expertIndex: r.expertIndex,
      position: r.position,
      gates,
      numExperts: 3,
      capacity: 2,
      modality,
      task: [0, 0, 0],
      numTasks: 3,
    });
    tf.dispose([gates, modality, r.expertIndex, r.position, r.combineWeights]);

    expect(m.expertCounts).toEqual([2, 0, 2]);
    expect(m.load).toEqual([0.5, 0, 0.5]);
    expect(m.bufferFill).toBeCloseTo(4 / 6, 12);
    expect(m.routingSuccessRate).toBeCloseTo(4 / 6, 12);
    expect(m.droppedFraction).toBeCloseTo(2 / 6, 12);
    expect(m.tokensDroppedEntirely).toBe(0);
    // importance = [1.2, 0.3, 1.2]: mean 0.9, population std sqrt(0.18).
    expect(m.importanceCV).toBeCloseTo(Math.sqrt(0.18) / 0.9, 6);
    // Modality 0 = tokens 0, 1 (3 of 4 choices kept); modality 1 = token 2 (1 of 2).
    expect(m.routingSuccessRateByModality).toEqual([0.75, 0.5]);
    expect(m.expertModalityUsage).toEqual([
      [2, 0, 1],
      [0, 0, 1],
    ]);
    // Tasks 1 and 2 are absent from the batch: null, not NaN.
    expect(m.routingSuccessRateByTask).toEqual([4 / 6, null, null]);
    expect(m.expertTaskUsage).toEqual([
      [2, 0, 2],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m).toMatchObject({ numExperts: 3, capacity: 2, tokens: 3, k: 2 });
    // Plain data: survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('accepts nested arrays and leaves masked tokens out of every statistic', () => {
    const m = routingMetrics({
      expertIndex: EXPERT_INDEX,
      position: [
        [0, 1],
        [-1, -1],
        [0, -1],
      ],
      gates: GATES,
      numExperts: 3,
      capacity: 2,
      mask: [1, 1, 0],
    });
    // Real tokens 0 and 1: 2 of 4 choices kept, token 1 dropped entirely.
    expect(m.tokens).toBe(2);
    expect(m.routingSuccessRate).toBe(0.5);
    expect(m.tokensDroppedEntirely).toBe(0.5);
    expect(m.load).toEqual([0.5, 0, 0.5]);
    // importance over tokens 0, 1 = [0.9, 0.1, 0.6]: mean 1.6/3.
    const imp = [0.9, 0.1, 0.6];
    const mean = 1.6 / 3;
    const std = Math.sqrt(imp.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
    expect(m.importanceCV).toBeCloseTo(std / mean, 6);
    expect(m.routingSuccessRateByModality).toBeNull();
    expect(m.expertTaskUsage).toBeNull();
  });

  it('counts positions ≥ capacity as dropped (vmoe-style positions)', () => {
    const m = routingMetrics({
      expertIndex: EXPERT_INDEX,
      position: [
        [0, 1],
        [1, 2],
        [0, 2],
      ],
      gates: GATES,
      numExperts: 3,
      capacity: 2,
    });
    expect(m.expertCounts).toEqual([2, 0, 2]);
  });

  it('gives null, never NaN, when nothing is real or nothing is kept', () => {
    const none = routingMetrics({
      expertIndex: EXPERT_INDEX,
      position: POSITION,
      gates: GATES,
      numExperts: 3,
      capacity: 2,
      mask: [0, 0, 0],
      modality: [0, 1, 1],
    });
    expect(none).toMatchObject({
      tokens: 0,
      load: null,
      routingSuccessRate: null,
      droppedFraction: null,
      tokensDroppedEntirely: null,
      importanceCV: null,
      routingSuccessRateByModality: [null, null],
    });
    const dropped = routingMetrics({
      expertIndex: EXPERT_INDEX,
      position: EXPERT_INDEX.map((row) => row.map(() => -1)),
      gates: GATES,
      numExperts: 3,
      capacity: 2,
    });
    expect(dropped.load).toBeNull();
    expect(dropped.routingSuccessRate).toBe(0);
    expect(dropped.tokensDroppedEntirely).toBe(1);
    expect(JSON.stringify([none, dropped])).not.toContain('NaN');
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const gates = tf.tensor2d(GATES);
      const expertIndex = tf.tensor2d(EXPERT_INDEX, undefined, 'int32');
      const position = tf.tensor2d(POSITION, undefined, 'int32');
      const mask = tf.tensor1d([1, 1, 1]);
      routingMetrics({ expertIndex, position, gates, numExperts: 3, capacity: 2, mask, modality: mask });
      return [gates, expertIndex, position, mask];
    });
  });

  it('rejects inconsistent inputs', () => {
    const base = { expertIndex: EXPERT_INDEX, position: POSITION, gates: GATES, numExperts: 3, capacity: 2 };
    expect(() => routingMetrics({ ...base, numExperts: 4 })).toThrow(/gates must be \[3, 4\]/);
    expect(() => routingMetrics({ ...base, capacity: 0 })).toThrow(/capacity must be an integer/);
    expect(() => routingMetrics({ ...base, position: [[0, 1]] })).toThrow(/position \[1, 2\] must match/);
    expect(() => routingMetrics({ ...base, mask: [1, 1] })).toThrow(/mask must have length 3/);
    expect(() => routingMetrics({ ...base, modality: [0, 2, 1], numModalities: 2 })).toThrow(
      /modality\[1\] = 2 is not an integer in \[0, 2\)/,
    );
    expect(() => routingMetrics({ ...base, expertIndex: [[0, 5], ...EXPERT_INDEX.slice(1)] })).toThrow(
      /expertIndex\[0\]\[1\] = 5 is outside/,
    );
  });
});

describeEachBackend('routingMetrics with kPerToken', () => {
  it("counts each token's own choices, so a k = 1 task's padding is not reported as dropped", () => {
    // Task 0 (tokens 0, 1) has k = 1, task 1 (token 2) k = 2. Kept: (t0,e0) (t1,e0) (t2,e2); dropped:
    // (t2,e0) for capacity. Padding choices j = 1 of tokens 0 and 1 have position −1.
    const m = routingMetrics({
      expertIndex: [
        [0, 2],
        [0, 2],
        [2, 0],
      ],
      position: [
        [0, -1],
        [1, -1],
        [0, -1],
      ],
      gates: GATES,
      numExperts: 3,
      capacity: 2,
      task: [0, 0, 1],
      numTasks: 2,
      kPerToken: [1, 1, 2],
    });
    expect(m.routingSuccessRate).toBeCloseTo(3 / 4, 12);
    expect(m.droppedFraction).toBeCloseTo(1 / 4, 12);
    expect(m.routingSuccessRateByTask).toEqual([1, 0.5]);
    expect(m.expertCounts).toEqual([2, 0, 1]);
    expect(m.tokensDroppedEntirely).toBe(0);
    // Without kPerToken the same positions read as K = 2 choices for every token.
    const plain = routingMetrics({
      expertIndex: [
        [0, 2],
        [0, 2],
        [2, 0],
      ],
      position: [
        [0, -1],
        [1, -1],
        [0, -1],
      ],
      gates: GATES,
      numExperts: 3,
      capacity: 2,
    });
    expect(plain.routingSuccessRate).toBeCloseTo(3 / 6, 12);
  });

  it('leaves masked tokens out of the choice count', () => {
    const m = routingMetrics({
      expertIndex: [
        [0, 1],
        [1, 0],
      ],
      position: [
        [0, -1],
        [-1, -1],
      ],
      gates: [
        [0.7, 0.3],
        [0.4, 0.6],
      ],
      numExperts: 2,
      capacity: 1,
      mask: [1, 0],
      kPerToken: [1, 2],
    });
    expect(m.routingSuccessRate).toBe(1);
  });
});
