import * as tf from '@tensorflow/tfjs';
import { mutualInformationLoss } from '@moevl/router';
import { describe, expect, it } from 'vitest';
import { taskExpertStatistics, usageShares } from './task_expert_statistics.js';

describe('taskExpertStatistics', () => {
  it('uniform usage: MI 0, H(E|T) = H(E) = ln E, all tasks alike', () => {
    const s = taskExpertStatistics([
      [5, 5, 5, 5],
      [2, 2, 2, 2],
      [7, 7, 7, 7],
    ]);
    expect(s.conditionalEntropy).toBeCloseTo(Math.log(4), 12);
    expect(s.expertEntropy).toBeCloseTo(Math.log(4), 12);
    expect(s.mutualInformation).toBeCloseTo(0, 12);
    s.taskSimilarity.flat().forEach((v) => expect(v).toBeCloseTo(1, 12));
  });

  it('disjoint experts with equal task mass: MI = ln T, H(E|T) = ln(experts per task)', () => {
    const s = taskExpertStatistics([
      [3, 3, 0, 0, 0, 0],
      [0, 0, 6, 0, 0, 0],
      [0, 0, 0, 0, 1, 5],
    ]);
    // Task 2 is not uniform over its experts, so compute H(E|T) from its rows; MI is still ln 3 because
    // H(E) = ln 3 + H(E|T) when supports are disjoint and tasks carry equal mass.
    const h2 = -(1 / 6) * Math.log(1 / 6) - (5 / 6) * Math.log(5 / 6);
    expect(s.conditionalEntropy).toBeCloseTo((Math.log(2) + 0 + h2) / 3, 12);
    expect(s.mutualInformation).toBeCloseTo(Math.log(3), 12);
    expect(s.taskSimilarity).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('matches a hand-computed asymmetric case', () => {
    // P = [[3/8, 1/8], [0, 1/2]]; P(t) = [1/2, 1/2]; P(e) = [3/8, 5/8].
    const s = taskExpertStatistics([
      [3, 1],
      [0, 4],
    ]);
    const hE = -(3 / 8) * Math.log(3 / 8) - (5 / 8) * Math.log(5 / 8); // 0.661563
    const hEgivenT = 0.5 * (-(3 / 4) * Math.log(3 / 4) - (1 / 4) * Math.log(1 / 4)); // 0.281167
    expect(s.expertEntropy).toBeCloseTo(0.661563, 6);
    expect(s.expertEntropy).toBeCloseTo(hE, 12);
    expect(s.conditionalEntropy).toBeCloseTo(hEgivenT, 12);
    expect(s.mutualInformation).toBeCloseTo(0.380396, 6);
    // cos([3/4, 1/4], [0, 1]) = (1/4) / √(10/16) = 1/√10.
    expect(s.taskSimilarity[0][1]).toBeCloseTo(1 / Math.sqrt(10), 12);
    expect(s.taskSimilarity[1][0]).toBeCloseTo(1 / Math.sqrt(10), 12);
    expect(
      usageShares([
        [3, 1],
        [0, 0],
      ]),
    ).toEqual([
      [0.75, 0.25],
      [0, 0],
    ]);
  });

  it('agrees with the router’s mutual-information loss (≈ −MI) on soft counts', () => {
    const usage = [
      [6, 2, 1, 1],
      [1, 1, 5, 3],
    ];
    const sums = tf.tensor2d(usage);
    const loss = mutualInformationLoss(sums, 20);
    expect(-loss.dataSync()[0]).toBeCloseTo(taskExpertStatistics(usage).mutualInformation, 3);
    tf.dispose([sums, loss]);
  });

  it('gives a task with no tokens similarity 0 to the others', () => {
    const s = taskExpertStatistics([
      [1, 2],
      [0, 0],
    ]);
    expect(s.taskSimilarity).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(s.mutualInformation).toBeCloseTo(0, 12);
  });

  it('rejects malformed usage with the problem named', () => {
    expect(() => taskExpertStatistics([])).toThrow(/non-empty \[tasks\]\[experts\]/);
    expect(() => taskExpertStatistics([[1, 2], [3]])).toThrow(/non-empty \[tasks\]\[experts\]/);
    expect(() => taskExpertStatistics([[1, -2]])).toThrow(/finite and ≥ 0/);
    expect(() => taskExpertStatistics([[0, 0]])).toThrow(/all zero/);
  });
});
