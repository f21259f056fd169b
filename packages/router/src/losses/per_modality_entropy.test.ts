import * as tf from '@tensorflow/tfjs';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import {
  VMOE_GATES,
  entropy64,
  expectClose,
  randomGates,
  read,
  weightedColumnMeans,
  weightedMean,
} from './fixtures.test-util.js';
import { globalEntropyLoss } from './global_entropy.js';
import { localEntropyLoss } from './local_entropy.js';
import { perModalityEntropyLosses } from './per_modality_entropy.js';

/** Float64 reference: LIMoE's local and global entropy over each modality's kept tokens; 0 when empty. */
function perModality64(
  gates: number[][],
  modality: number[],
  numModalities: number,
  threshold?: number,
  mask?: number[],
): { local: number[]; global: number[] } {
  const local: number[] = [];
  const global: number[] = [];
  for (let m = 0; m < numModalities; m++) {
    const w = modality.map((id, s) => (id === m ? 1 : 0) * (mask ? mask[s] : 1));
    const empty = w.every((x) => x === 0);
    local.push(weightedMean(gates.map(entropy64), w));
    const h = entropy64(weightedColumnMeans(gates, w));
    global.push(empty ? 0 : threshold === undefined ? -h : Math.max(0, threshold - h));
  }
  return { local, global };
}

function readAll(losses: { local: tf.Scalar[]; global: tf.Scalar[] }): { local: number[]; global: number[] } {
  return { local: losses.local.map(read), global: losses.global.map(read) };
}

describeEachBackend('perModalityEntropyLosses', () => {
  it('computes LIMoE local and global entropy per modality (arXiv 2206.02770)', () => {
    // Image tokens 0, 1 and text tokens 2, 3 of the vmoe routing-test gates.
    const gates = tf.tensor2d(VMOE_GATES);
    const modality = tf.tensor1d([0, 0, 1, 1], 'int32');
    const { local, global } = readAll(perModalityEntropyLosses(gates, modality, 2));
    const image = VMOE_GATES.slice(0, 2);
    const text = VMOE_GATES.slice(2);
    expectClose(local[0], (entropy64(image[0]) + entropy64(image[1])) / 2, 1e-6);
    expectClose(local[1], (entropy64(text[0]) + entropy64(text[1])) / 2, 1e-6);
    expectClose(global[0], -entropy64([0.4, 0.35, 0.25]), 1e-6);
    expectClose(global[1], -entropy64([0.45, 0.2, 0.35]), 1e-6);
    tf.dispose([gates, modality]);
  });

  it('matches a float64 reference on random gates, with a threshold and a padding mask', () => {
    const g = randomGates(30, 8, 71, 2);
    const mod = g.map((_, s) => (s % 4 === 0 ? 1 : 0));
    const mask = g.map((_, s) => (s % 7 === 6 ? 0 : 1));
    const gates = tf.tensor2d(g);
    const modality = tf.tensor1d(mod, 'int32');
    const m = tf.tensor1d(mask);
    for (const threshold of [undefined, 0.95 * Math.log(8)]) {
      const got = readAll(perModalityEntropyLosses(gates, modality, 2, { threshold, mask: m }));
      const want = perModality64(g, mod, 2, threshold, mask);
      got.local.forEach((v, i) => expectClose(v, want.local[i]));
      got.global.forEach((v, i) => expectClose(v, want.global[i]));
    }
    tf.dispose([gates, modality, m]);
  });

  it('gives 0, not NaN, for a modality with no tokens in the batch (also thresholded)', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    const modality = tf.tensor1d([0, 0, 0, 0], 'int32');
    const padText = tf.tensor1d([1, 1, 0, 0]);
    const textAllPadding = tf.tensor1d([0, 0, 1, 1], 'int32');
    const none = readAll(perModalityEntropyLosses(gates, modality, 2, { threshold: Math.LN2 }));
    expect(none.local[1]).toBe(0);
    expect(none.global[1]).toBe(0);
    const padded = readAll(
      perModalityEntropyLosses(gates, textAllPadding, 2, { threshold: 1, mask: padText }),
    );
    expect(padded.local[1]).toBe(0);
    expect(padded.global[1]).toBe(0);
    const grad = tf.grad((x: tf.Tensor) => {
      const { local, global } = perModalityEntropyLosses(x as tf.Tensor2D, modality, 2, {
        threshold: Math.LN2,
      });
      return tf.addN([...local, ...global]);
    })(gates);
    expect(Array.from(grad.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([gates, modality, padText, textAllPadding, grad]);
  });

  it('has the gradient finite differences give', () => {
    const g = randomGates(8, 4, 72, 0.8);
    const gates = tf.tensor2d(g);
    const modality = tf.tensor1d([0, 1, 0, 0, 1, 0, 0, 1], 'int32');
    // τ = ln 4 keeps both hinges active (p̄ is never exactly uniform).
    expect(Math.min(...perModality64(g, [0, 1, 0, 0, 1, 0, 0, 1], 2, Math.log(4)).global)).toBeGreaterThan(
      1e-3,
    );
    for (const threshold of [undefined, Math.log(4)]) {
      const f = (x: tf.Tensor) => {
        const { local, global } = perModalityEntropyLosses(x as tf.Tensor2D, modality, 2, { threshold });
        return tf.stack([...local, ...global]);
      };
      expect(checkGradients(f, [gates], { eps: 1e-3 }).maxRelativeError).toBeLessThan(1e-3);
    }
    tf.dispose([gates, modality]);
  });

  it('equals the composed single-modality losses, values and gradients (zeros in the gates, weights, hinges)', () => {
    // Exact zeros take entropy's floored-log branch; τ = 1.2 leaves one modality's hinge inactive.
    const g = randomGates(24, 6, 74, 1.5).map((row, s) =>
      s % 5 === 0 ? row.map((v, e) => (e === 0 ? 0 : v)) : row,
    );
    const norm = g.map((row) => row.map((v) => v / row.reduce((a, b) => a + b, 0)));
    const gates = tf.tensor2d(norm);
    const mod = norm.map((_, s) => s % 3);
    const modality = tf.tensor1d(mod, 'int32');
    const pad = norm.map((_, s) => (s % 7 === 3 ? 0 : s % 4 === 1 ? 0.5 : 1));
    const mask = tf.tensor1d(pad);
    const dy = [0.3, -1.1, 0.7, 2, -0.4, 0.9];
    for (const threshold of [undefined, 1.2, 0.2]) {
      const fused = (x: tf.Tensor) => {
        const { local, global } = perModalityEntropyLosses(x as tf.Tensor2D, modality, 3, {
          threshold,
          mask,
        });
        return tf.sum(tf.mul(tf.stack([...local, ...global]), dy));
      };
      const composed = (x: tf.Tensor) => {
        const parts: tf.Scalar[] = [];
        const masks = [0, 1, 2].map((m) => tf.tensor1d(mod.map((id, s) => (id === m ? pad[s] : 0))));
        for (const m of masks) parts.push(localEntropyLoss(x as tf.Tensor2D, { mask: m }));
        for (const m of masks) parts.push(globalEntropyLoss(x as tf.Tensor2D, { threshold, mask: m }));
        return tf.sum(tf.mul(tf.stack(parts), dy));
      };
      const [a, b] = [fused, composed].map((f) =>
        tf.tidy(() => [f(gates), tf.grad(f)(gates)].map((t) => t.dataSync())),
      );
      expectClose(a[0][0], b[0][0], 1e-5);
      const scale = Math.max(...Array.from(b[1], Math.abs));
      a[1].forEach((v, i) => expect(Math.abs(v - b[1][i]) / scale).toBeLessThan(1e-5));
    }
    tf.dispose([gates, modality, mask]);
  });

  it('leaks no tensors, forward and backward', async () => {
    const gates = tf.tensor2d(randomGates(6, 4, 73));
    const modality = tf.tensor1d([0, 1, 0, 1, 0, 0], 'int32');
    const mask = tf.tensor1d([1, 1, 1, 0, 1, 1]);
    await expectNoLeakedTensors(() =>
      tf.grad((x: tf.Tensor) => {
        const { local, global } = perModalityEntropyLosses(x as tf.Tensor2D, modality, 3, {
          mask,
          threshold: 1,
        });
        return tf.addN([...local, ...global]);
      })(gates),
    );
    tf.dispose([gates, modality, mask]);
  });

  it('rejects bad input with the function name and the problem', () => {
    const gates = tf.tensor2d(VMOE_GATES);
    const nan = tf.tensor2d([[NaN, 1]]);
    const modality = tf.tensor1d([0, 1, 1, 0], 'int32');
    const outOfRange = tf.tensor1d([0, 1, 2, 0], 'int32');
    const floats = tf.tensor1d([0, 1, 1, 0]);
    const one = tf.tensor1d([0], 'int32');
    const fn = 'perModalityEntropyLosses';
    expect(() => perModalityEntropyLosses(gates, outOfRange, 2)).toThrow(
      `${fn}: modality[2] = 2 is outside [0, 2)`,
    );
    expect(() => perModalityEntropyLosses(gates, floats as tf.Tensor1D, 2)).toThrow(
      `${fn}: modality must be int32`,
    );
    expect(() => perModalityEntropyLosses(gates, modality, 1.5)).toThrow(
      `${fn}: numModalities must be a positive`,
    );
    expect(() => perModalityEntropyLosses(gates, modality, 2, { threshold: -0.1 })).toThrow(
      `${fn}: threshold must`,
    );
    expect(() => perModalityEntropyLosses(nan, one, 1)).toThrow(`${fn}: gates contain NaN`);
    tf.dispose([gates, nan, modality, outOfRange, floats, one]);
  });
});
