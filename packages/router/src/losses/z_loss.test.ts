import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { expectClose, randomMatrix, read, weightedMean } from './fixtures.test-util.js';
import { zLoss } from './z_loss.js';

function logsumexp64(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
}

/** Float64 reference: mean over kept tokens of logsumexp(logits)². */
function z64(logits: number[][], mask?: number[]): number {
  return weightedMean(
    logits.map((row) => logsumexp64(row) ** 2),
    mask,
  );
}

describeEachBackend('zLoss', () => {
  it('matches the ST-MoE router z-loss golden value 6.409364 (arXiv 2202.08906)', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    expect(Math.abs(read(zLoss(logits)) - 6.409364)).toBeLessThan(1e-6);
    logits.dispose();
  });

  it('matches a float64 reference on random logits, including large ones', () => {
    for (const [S, E, scale, seed] of [
      [16, 4, 1, 21],
      [40, 8, 5, 22],
      [6, 32, 50, 23],
    ]) {
      const l = randomMatrix(S, E, seed, scale);
      const logits = tf.tensor2d(l);
      expectClose(read(zLoss(logits)), z64(l));
      logits.dispose();
    }
  });

  it('does not overflow where exp(logit) would', () => {
    const logits = tf.tensor2d([[200, 100, 0]]);
    expectClose(read(zLoss(logits)), 200 ** 2);
    logits.dispose();
  });

  it('leaves masked-out tokens out of the mean', () => {
    const l = randomMatrix(7, 5, 24, 2);
    const mask = [1, 0, 1, 1, 0, 0, 1];
    const logits = tf.tensor2d(l);
    const m = tf.tensor1d(mask);
    expectClose(read(zLoss(logits, { mask: m })), z64(l, mask));
    tf.dispose([logits, m]);
  });

  it('has the gradient finite differences give', () => {
    const logits = tf.tensor2d(randomMatrix(5, 4, 25, 2));
    expect(checkGradients((x) => zLoss(x as tf.Tensor2D), [logits]).maxRelativeError).toBeLessThan(1e-3);
    logits.dispose();
  });

  it('leaks no tensors, forward and backward', async () => {
    const logits = tf.tensor2d(randomMatrix(5, 4, 26));
    const mask = tf.tensor1d([1, 1, 0, 1, 1]);
    await expectNoLeakedTensors(() => tf.grad((x: tf.Tensor) => zLoss(x as tf.Tensor2D, { mask }))(logits));
    tf.dispose([logits, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const vec = tf.tensor1d([1, 2]);
    const nan = tf.tensor2d([[1, NaN]]);
    const ints = tf.tensor2d([[1, 2]], undefined, 'int32');
    expect(() => zLoss(vec as unknown as tf.Tensor2D)).toThrow(/zLoss: logits must be 2-D/);
    expect(() => zLoss(nan)).toThrow('zLoss: logits contain NaN');
    expect(() => zLoss(ints)).toThrow(/zLoss: logits must be float32, got int32/);
    tf.dispose([vec, nan, ints]);
  });
});
