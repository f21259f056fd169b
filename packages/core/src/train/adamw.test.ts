import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { AdamW } from './adamw.js';

/** A variable that owns its data; the initial tensor is freed so tests do not leave it behind. */
function variable(init: tf.Tensor, trainable = true, name?: string): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
}

/**
 * Reference AdamW in float64, transcribed from the algorithm box of the torch.optim.AdamW documentation
 * (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html), amsgrad = maximize = False:
 *   θ_t ← θ_{t−1} − γλθ_{t−1}
 *   m_t ← β1·m_{t−1} + (1 − β1)·g_t
 *   v_t ← β2·v_{t−1} + (1 − β2)·g_t²
 *   m̂_t ← m_t / (1 − β1^t)
 *   v̂_t ← v_t / (1 − β2^t)
 *   θ_t ← θ_t − γ·m̂_t / (√v̂_t + ε)
 */
function referenceAdamW(p0: number[], gradsPerStep: number[][], h: Hyper): number[] {
  const p = p0.slice();
  const m = p0.map(() => 0);
  const v = p0.map(() => 0);
  gradsPerStep.forEach((g, i) => {
    const t = i + 1;
    for (let k = 0; k < p.length; k++) {
      p[k] = p[k] - h.lr * h.wd * p[k];
      m[k] = h.beta1 * m[k] + (1 - h.beta1) * g[k];
      v[k] = h.beta2 * v[k] + (1 - h.beta2) * g[k] * g[k];
      const mHat = m[k] / (1 - h.beta1 ** t);
      const vHat = v[k] / (1 - h.beta2 ** t);
      p[k] = p[k] - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
    }
  });
  return p;
}

const P0 = [0.5, -1.5, 2.0, 0.0];
const GRADS = [
  [0.1, -0.2, 0.3, -0.4],
  [-0.5, 0.25, 0.05, 1.0],
  [0.2, 0.2, -0.7, 0.001],
];

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function runSteps(
  opt: AdamW,
  vars: Record<string, tf.Variable>,
  grads: number[][],
  name = 'w',
  lr?: number,
): void {
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.applyGradients({ [name]: gt }, vars, lr);
    gt.dispose();
  }
}

describeEachBackend('AdamW', () => {
  it('matches three steps of the PyTorch AdamW algorithm computed by hand in float64', () => {
    const h: Hyper = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1 };
    const w = variable(tf.tensor1d(P0));
    const opt = new AdamW({ lr: h.lr, weightDecay: h.wd });
    runSteps(opt, { w }, GRADS);
    expect(opt.step).toBe(3);
    const expected = referenceAdamW(P0, GRADS, h);
    values(w).forEach((x, k) => expect(Math.abs(x - expected[k])).toBeLessThan(1e-6));
    // The hand reference really moved the weights (so the comparison is not vacuous).
    expect(Math.max(...expected.map((x, k) => Math.abs(x - P0[k])))).toBeGreaterThan(0.1);
    opt.dispose();
    w.dispose();
  });

  it('uses PyTorch defaults and the per-call lr override', () => {
    const opt = new AdamW();
    expect([opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay]).toEqual([1e-3, 0.9, 0.999, 1e-8, 1e-2]);
    const w = variable(tf.tensor1d(P0));
    runSteps(opt, { w }, GRADS, 'w', 0.2);
    const expected = referenceAdamW(P0, GRADS, { lr: 0.2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 1e-2 });
    values(w).forEach((x, k) => expect(Math.abs(x - expected[k])).toBeLessThan(1e-6));
    opt.dispose();
    w.dispose();
  });

  it('skips weight decay for excluded names and decays the others', () => {
    const h: Hyper = { lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0.5 };
    const w = variable(tf.tensor1d(P0));
    const bias = variable(tf.tensor1d(P0));
    const opt = new AdamW({ ...h, weightDecay: h.wd, excludeFromWeightDecay: (n) => n.endsWith('bias') });
    for (const g of GRADS) {
      const grads = { w: tf.tensor1d(g), bias: tf.tensor1d(g) };
      opt.applyGradients(grads, { w, bias });
      tf.dispose(grads);
    }
    const decayed = referenceAdamW(P0, GRADS, h);
    const plain = referenceAdamW(P0, GRADS, { ...h, wd: 0 });
    values(w).forEach((x, k) => expect(Math.abs(x - decayed[k])).toBeLessThan(1e-6));
    values(bias).forEach((x, k) => expect(Math.abs(x - plain[k])).toBeLessThan(1e-6));

    // With a zero gradient the Adam term is 0/(0 + eps) = 0, leaving pure decoupled decay: p·(1 − lr·wd).
    const opt2 = new AdamW({ lr: 0.1, weightDecay: 0.5 });
    const y = variable(tf.tensor1d([2]));
    const g0 = tf.tensor1d([0]);
    opt2.applyGradients({ y: g0 }, { y });
    expect(values(y)[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6);
    tf.dispose([w, bias, y, g0]);
    [opt, opt2].forEach((o) => o.dispose());
  });

  it('keeps a per-variable step like PyTorch: a variable without a gradient is untouched', () => {
    const h: Hyper = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1 };
    const a = variable(tf.tensor1d(P0));
    const b = variable(tf.tensor1d(P0));
    const opt = new AdamW({ lr: h.lr, weightDecay: h.wd });
    const g = GRADS.map((x) => tf.tensor1d(x));
    opt.applyGradients({ a: g[0], b: g[0] }, { a, b });
    const bAfterFirst = values(b);
    opt.applyGradients({ a: g[1] }, { a, b }); // b has no gradient this step
    expect(values(b)).toEqual(bAfterFirst);
    opt.applyGradients({ a: g[2], b: g[2] }, { a, b });
    const ea = referenceAdamW(P0, GRADS, h);
    const eb = referenceAdamW(P0, [GRADS[0], GRADS[2]], h); // b saw steps t = 1, 2
    values(a).forEach((x, k) => expect(Math.abs(x - ea[k])).toBeLessThan(1e-6));
    values(b).forEach((x, k) => expect(Math.abs(x - eb[k])).toBeLessThan(1e-6));
    const state = opt.getState();
    expect(state.step).toBe(3);
    expect(state.moments['step/a'].dataSync()[0]).toBe(3);
    expect(state.moments['step/b'].dataSync()[0]).toBe(2);
    tf.dispose([a, b, ...g, ...Object.values(state.moments)]);
    opt.dispose();
  });

  it('resumes from getState/setState exactly like an uninterrupted run', () => {
    const init = [0.3, -0.7, 1.1];
    const gradsAt = (s: number) => [Math.sin(s + 1), Math.cos(2 * s), 0.1 * s - 0.3];
    const steps = 6;
    const options = { lr: 0.01, weightDecay: 0.05, beta1: 0.85 };

    const straight = variable(tf.tensor1d(init));
    const optA = new AdamW(options);
    runSteps(
      optA,
      { w: straight },
      Array.from({ length: steps }, (_, s) => gradsAt(s)),
    );

    const resumed = variable(tf.tensor1d(init));
    const optB = new AdamW(options);
    runSteps(optB, { w: resumed }, [gradsAt(0), gradsAt(1)]);
    // Checkpoint after step 2: weights and optimizer state.
    const savedWeights = tf.clone(resumed);
    const state = optB.getState();
    expect(Object.keys(state.moments).sort()).toEqual(['m/w', 'step/w', 'v/w']);
    // The snapshot must not follow later updates of the live optimizer.
    const mBefore = values(state.moments['m/w']);
    runSteps(optB, { w: resumed }, [gradsAt(99)]);
    expect(values(state.moments['m/w'])).toEqual(mBefore);
    optB.dispose();
    resumed.dispose();

    // "Restart": fresh variable and optimizer loaded from the checkpoint.
    const w2 = variable(savedWeights);
    const optC = new AdamW(options);
    optC.setState(state);
    tf.dispose(Object.values(state.moments)); // setState copied them
    expect(optC.step).toBe(2);
    runSteps(
      optC,
      { w: w2 },
      Array.from({ length: steps - 2 }, (_, s) => gradsAt(s + 2)),
    );
    expect(values(w2)).toEqual(values(straight));
    expect(optC.step).toBe(steps);
    tf.dispose([straight, savedWeights, w2]);
    [optA, optC].forEach((o) => o.dispose());
  });

  it('validates options, names, shapes and state', () => {
    expect(() => new AdamW({ lr: -1 })).toThrow(/lr/);
    expect(() => new AdamW({ beta1: 1 })).toThrow(/beta1/);
    expect(() => new AdamW({ beta2: -0.1 })).toThrow(/beta2/);
    expect(() => new AdamW({ eps: NaN })).toThrow(/eps/);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(/weightDecay/);
    const opt = new AdamW();
    const w = variable(tf.zeros([2]));
    const g = tf.ones([3]);
    expect(() => opt.applyGradients({ x: g }, { w })).toThrow(/'x'/);
    expect(() => opt.applyGradients({ w: g }, { w })).toThrow(/shape/);
    expect(() => opt.applyGradients({ w: g }, { w }, NaN)).toThrow(/lr/);
    const g2 = tf.ones([2]);
    expect(() => opt.applyGradients({ w: g2 }, { w }, 1e-3, 1.5)).toThrow(/gradScale/);
    expect(() => opt.applyGradients({ w: g2 }, { w }, 1e-3, NaN)).toThrow(/gradScale/);
    g2.dispose();
    expect(opt.step).toBe(0);
    expect(() => opt.setState({ step: 1, moments: { 'm/w': g } })).toThrow(/v\/w/);
    expect(() => opt.setState({ step: 1, moments: { 'x/w': g } })).toThrow(/x\/w/);
    expect(() => opt.setState({ step: -1, moments: {} })).toThrow(/step/);
    tf.dispose([w, g]);
    opt.dispose();
  });

  it('a gradScale is the same update as gradients multiplied by it (global-norm clipping)', () => {
    const run = (scaleInUpdate: boolean): number[] => {
      const w = variable(tf.tensor1d(P0));
      const opt = new AdamW({ lr: 0.05, weightDecay: 0.1 });
      for (const g of GRADS) {
        const gt = tf.tensor1d(g);
        const scaled = tf.mul(gt, 0.3);
        if (scaleInUpdate) opt.applyGradients({ w: gt }, { w }, undefined, 0.3);
        else opt.applyGradients({ w: scaled }, { w });
        tf.dispose([gt, scaled]);
      }
      const out = values(w);
      tf.dispose(w);
      opt.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('leaks no tensors per step, and dispose frees the moments', async () => {
    const before = tf.memory().numTensors;
    const w = variable(tf.randomNormal([8, 4]));
    const b = variable(tf.zeros([4]));
    const grads = { w: tf.ones([8, 4]), b: tf.ones([4]) };
    const opt = new AdamW({ excludeFromWeightDecay: (n) => n === 'b' });
    await expectNoLeakedTensors(() => opt.applyGradients(grads, { w, b }));
    await expectNoLeakedTensors(() => opt.applyGradients(grads, { w, b }, 1e-4));
    await expectNoLeakedTensors(() => opt.applyGradients(grads, { w, b }, 1e-4, 0.5));
    await expectNoLeakedTensors(() => {
      const s = opt.getState();
      opt.setState(s);
      tf.dispose(Object.values(s.moments));
    });
    opt.dispose();
    tf.dispose([w, b, grads.w, grads.b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
