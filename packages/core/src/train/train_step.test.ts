import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { AdamW } from './adamw.js';
import { Rng } from './rng.js';
import { warmupCosine } from './schedule.js';
import { trainStep } from './train_step.js';

/** A variable that owns its data; the initial tensor is freed so tests do not leave it behind. */
function variable(init: tf.Tensor, trainable = true, name?: string): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

/** y = x·[2, −3] + 0.5 plus a little noise, 64 samples. */
function regressionData(rng: Rng): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = rng.normalTensor([64, 2]) as tf.Tensor2D;
  const y = tf.tidy(() => {
    const clean = tf.add(tf.matMul(x, tf.tensor2d([[2], [-3]])), 0.5);
    const noise = rng.normalTensor([64, 1], 0, 0.01);
    return tf.add(clean, noise) as tf.Tensor2D;
  });
  return { x, y };
}

function mse(x: tf.Tensor2D, y: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Scalar {
  return tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w as tf.Tensor2D), b), y)));
}

describeEachBackend('trainStep', () => {
  it('fits a tiny linear regression', () => {
    const { x, y } = regressionData(new Rng(0));
    const w = variable(tf.zeros([2, 1]));
    const b = variable(tf.zeros([1]));
    const optimizer = new AdamW({ weightDecay: 0 });
    const schedule = warmupCosine({ peakLr: 0.1, warmupSteps: 10, totalSteps: 300, endLr: 1e-3 });
    let first = NaN;
    let last = NaN;
    for (let i = 0; i < 300; i++) {
      const r = trainStep({
        lossFn: () => mse(x, y, w, b),
        vars: { w, b },
        optimizer,
        lr: schedule(optimizer.step),
      });
      if (i === 0) first = r.loss;
      last = r.loss;
    }
    expect(optimizer.step).toBe(300);
    expect(first).toBeGreaterThan(5);
    expect(last).toBeLessThan(1e-3);
    const wv = w.dataSync();
    expect(wv[0]).toBeCloseTo(2, 1);
    expect(wv[1]).toBeCloseTo(-3, 1);
    expect(b.dataSync()[0]).toBeCloseTo(0.5, 1);
    tf.dispose([x, y, w, b]);
    optimizer.dispose();
  });

  it('returns aux values and the pre-clipping gradient norm, and clips', () => {
    const w = variable(tf.tensor1d([3, 4]));
    // loss = ½‖w‖², so the gradient is w itself with norm 5.
    const lossFn = () => {
      const loss = tf.mul(tf.sum(tf.square(w)), 0.5) as tf.Scalar;
      return { loss, aux: { twice: tf.mul(loss, 2) as tf.Scalar, same: loss } };
    };
    const optimizer = new AdamW({ lr: 0.1, weightDecay: 0 });
    const r = trainStep({ lossFn, vars: { w }, optimizer, clipNorm: 1 });
    expect(r.loss).toBeCloseTo(12.5, 5);
    expect(r.aux.twice).toBeCloseTo(25, 4);
    expect(r.aux.same).toBeCloseTo(12.5, 5);
    expect(r.gradNorm).toBeCloseTo(5, 5);
    // Adam's first step moves each coordinate by ≈ lr·sign(g) whatever the scale, so check the clipped
    // gradient through the optimizer state instead: m = (1 − β1)·g·(1 / 5).
    const state = optimizer.getState();
    const m = state.moments['m/w'].dataSync();
    expect(m[0]).toBeCloseTo(0.1 * 3 * (1 / (5 + 1e-6)), 6);
    expect(m[1]).toBeCloseTo(0.1 * 4 * (1 / (5 + 1e-6)), 6);
    tf.dispose(Object.values(state.moments));
    tf.dispose(w);
    optimizer.dispose();
  });

  it('maps gradients back to the record keys and leaves unconnected or frozen variables alone', () => {
    const used = variable(tf.tensor1d([1, 2]), true, 'some_global_tfjs_name');
    const unused = variable(tf.tensor1d([5]));
    const frozen = variable(tf.tensor1d([7]), false);
    const optimizer = new AdamW({ lr: 0.1 });
    trainStep({
      lossFn: () => tf.sum(tf.mul(used, frozen)) as tf.Scalar,
      vars: { 'layer/w': used, 'head/unused': unused, frozen },
      optimizer,
    });
    const state = optimizer.getState();
    expect(Object.keys(state.moments).sort()).toEqual(['m/layer/w', 'step/layer/w', 'v/layer/w']);
    expect(Array.from(unused.dataSync())).toEqual([5]);
    expect(Array.from(frozen.dataSync())).toEqual([7]);
    expect(Array.from(used.dataSync())).not.toEqual([1, 2]);
    tf.dispose([used, unused, frozen, ...Object.values(state.moments)]);
    optimizer.dispose();
    expect(() => trainStep({ lossFn: () => tf.scalar(1), vars: {}, optimizer })).toThrow(/no trainable/);
    const w = variable(tf.tensor1d([1, 2]));
    for (const clipNorm of [0, -1, NaN]) {
      expect(() =>
        trainStep({ lossFn: () => tf.sum(w) as tf.Scalar, vars: { w }, optimizer, clipNorm }),
      ).toThrow(/trainStep: clipNorm must be a number > 0/);
    }
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(optimizer.step).toBe(0);
    w.dispose();
  });

  it('throws before updating when the loss or the gradients are not finite', () => {
    const w = variable(tf.tensor1d([1, -1]));
    const optimizer = new AdamW({ lr: 0.1 });
    const ok = () => tf.sum(tf.square(w)) as tf.Scalar;
    trainStep({ lossFn: ok, vars: { w }, optimizer });
    const before = Array.from(w.dataSync());
    const tensorsBefore = tf.memory().numTensors;

    const nanLoss = () => tf.mul(tf.sum(w), NaN) as tf.Scalar;
    expect(() => trainStep({ lossFn: nanLoss, vars: { w }, optimizer })).toThrow(
      'trainStep: loss is NaN at step 1; weights were not updated',
    );
    // d/dw √|w| at w = 0 is infinite while the loss, 0, is finite.
    const zero = variable(tf.zeros([1]));
    const infGrad = () => tf.sum(tf.sqrt(tf.abs(zero))) as tf.Scalar;
    expect(() => trainStep({ lossFn: infGrad, vars: { zero }, optimizer })).toThrow(
      /gradient norm is (Infinity|NaN)/,
    );
    // exp(1000·0.9) overflows float32.
    const infLoss = () => tf.sum(tf.exp(tf.mul(w, 1000))) as tf.Scalar;
    expect(() => trainStep({ lossFn: infLoss, vars: { w }, optimizer })).toThrow(
      /loss is Infinity at step 1/,
    );

    expect(Array.from(w.dataSync())).toEqual(before);
    expect(Array.from(zero.dataSync())).toEqual([0]);
    expect(optimizer.step).toBe(1);
    zero.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    w.dispose();
    optimizer.dispose();
  });

  it('leaves the tensor count unchanged after warm-up, with and without clipping and aux', async () => {
    const rng = new Rng(1);
    const { x, y } = regressionData(rng);
    const w = variable(rng.normalTensor([2, 1]));
    const b = variable(tf.zeros([1]));
    const optimizer = new AdamW();
    const vars = { w, b };
    await expectNoLeakedTensors(() => {
      trainStep({ lossFn: () => mse(x, y, w, b), vars, optimizer });
    });
    await expectNoLeakedTensors(() => {
      trainStep({
        lossFn: () => ({ loss: mse(x, y, w, b), aux: { l2: tf.sum(tf.square(w)) as tf.Scalar } }),
        vars,
        optimizer,
        lr: 1e-4,
        clipNorm: 0.5,
      });
    });
    tf.dispose([x, y, w, b]);
    optimizer.dispose();
  });

  it('frees everything when the loss function throws after the forward pass', async () => {
    const rng = new Rng(3);
    const x = rng.normalTensor([16, 8]);
    const w = tf.variable(rng.normalTensor([8, 8]));
    const optimizer = new AdamW();
    const failing = () =>
      trainStep({
        lossFn: () => {
          // Ops whose inputs are saved for the backward pass (matMul, tanh, square), then a failure.
          tf.sum(tf.square(tf.tanh(tf.matMul(tf.matMul(x, w), w))));
          throw new Error('loss failed');
        },
        vars: { w },
        optimizer,
      });
    expect(failing).toThrow('loss failed');
    await expectNoLeakedTensors(() => {
      expect(failing).toThrow('loss failed');
    });
    // The tape is clean: a normal step after a failed one still computes gradients.
    const r = trainStep({
      lossFn: () => tf.sum(tf.square(tf.matMul(x, w))) as tf.Scalar,
      vars: { w },
      optimizer,
    });
    expect(Number.isFinite(r.gradNorm) && r.gradNorm > 0).toBe(true);
    tf.dispose([x, w]);
    optimizer.dispose();
  });
});
