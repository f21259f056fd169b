import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { assignExpertChoice } from '../assignment/index.js';
import { expertChoiceMetrics } from './expert_choice_metrics.js';

describeEachBackend('expertChoiceMetrics', () => {
  it('counts experts per token of an expert-choice assignment', () => {
    const gates = tf.tensor2d([
      [0.4, 0, 0.2],
      [0.5, 0.1, 0.4],
      [0.3, 0.2, 0.6],
      [0.1, 0.05, 0.1],
    ]);
    const r = assignExpertChoice(gates, { capacity: 2 });
    // Taken: token 0 by expert 0; token 1 by all three; token 2 by experts 1, 2; token 3 by none.
    const m = expertChoiceMetrics({ position: r.position, capacity: 2 });
    tf.dispose([gates, r.expertIndex, r.position, r.combineWeights]);
    expect(m).toEqual({
      numExperts: 3,
      capacity: 2,
      tokens: 4,
      minExpertsPerToken: 0,
      maxExpertsPerToken: 3,
      meanExpertsPerToken: 6 / 4,
      fractionTokensProcessed: 0.75,
    });
  });

  it('skips masked tokens and reports null with no real token', () => {
    const position = [
      [0, -1],
      [-1, -1],
    ];
    expect(expertChoiceMetrics({ position, mask: [1, 0] })).toMatchObject({
      tokens: 1,
      minExpertsPerToken: 1,
      fractionTokensProcessed: 1,
      capacity: null,
    });
    const empty = expertChoiceMetrics({ position, mask: [0, 0] });
    expect(empty).toMatchObject({
      minExpertsPerToken: null,
      maxExpertsPerToken: null,
      fractionTokensProcessed: null,
    });
    expect(JSON.stringify(empty)).not.toMatch(/NaN|Infinity/);
  });
});
