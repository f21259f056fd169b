import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { ClassificationHead } from './classification_head.js';

const tokens = [
  [
    [1, 2, 3],
    [3, 0, -1],
  ],
  [
    [0, 0, 1],
    [2, 2, 1],
  ],
];
const weights = {
  'norm/gamma': [1, 2, 0.5],
  'norm/beta': [0, 0.1, -0.2],
  'proj/kernel': [
    [1, 0],
    [0, 1],
    [1, -1],
  ],
  'proj/bias': [0.5, -0.5],
};

/** Plain-JS reference: mean over tokens → LayerNorm (ε = 1e-6) → x·W + b. */
function reference(x: number[][][]): number[][] {
  return x.map((seq) => {
    const pooled = seq[0].map((_, d) => seq.reduce((a, t) => a + t[d], 0) / seq.length);
    const mu = pooled.reduce((a, b) => a + b, 0) / pooled.length;
    const variance = pooled.reduce((a, b) => a + (b - mu) ** 2, 0) / pooled.length;
    const normed = pooled.map((v, d) => ((v - mu) / Math.sqrt(variance + 1e-6)) * weights['norm/gamma'][d]);
    const shifted = normed.map((v, d) => v + weights['norm/beta'][d]);
    return [0, 1].map(
      (c) => shifted.reduce((a, v, d) => a + v * weights['proj/kernel'][d][c], 0) + weights['proj/bias'][c],
    );
  });
}

function load(head: ClassificationHead): void {
  const t = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, tf.tensor(v)]));
  head.loadWeights(t);
  tf.dispose(Object.values(t));
}

describeEachBackend('ClassificationHead', () => {
  it('is Linear(LayerNorm(mean over tokens)), with weights at the documented paths', () => {
    const head = new ClassificationHead({ dim: 3, numClasses: 2, seed: 1 });
    expect(Object.keys(head.namedWeights()).sort()).toEqual([
      'norm/beta',
      'norm/gamma',
      'proj/bias',
      'proj/kernel',
    ]);
    load(head);
    const x = tf.tensor3d(tokens);
    const y = head.apply(x);
    expect(y.shape).toEqual([2, 2]);
    // Pooled example 0 = [2, 1, 1] → normalised [√2, −1/√2, −1/√2]: a value worked by hand.
    const s = Math.SQRT2;
    expect(reference(tokens)[0][0]).toBeCloseTo(s + (-1 / s) * 0.5 - 0.2 + 0.5, 4);
    const got = y.arraySync();
    reference(tokens).forEach((row, i) => row.forEach((v, c) => expect(got[i][c]).toBeCloseTo(v, 4)));
    tf.dispose([x, y]);
    head.dispose();
  });

  it('has the gradient finite differences give and leaks nothing', async () => {
    const head = new ClassificationHead({ dim: 3, numClasses: 2, seed: 2 });
    const x = tf.randomNormal([2, 3, 3], 0, 1, 'float32', 4);
    expect(checkGradients((xi) => head.apply(xi), [x]).maxRelativeError).toBeLessThan(2e-3);
    await expectNoLeakedTensors(() => head.apply(x));
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => tf.sum(head.apply(x)) as tf.Scalar, Object.values(head.namedWeights())),
    );
    x.dispose();
    head.dispose();
  });

  it('round-trips its config: same weights and logits', () => {
    const head = new ClassificationHead({ dim: 3, numClasses: 4, seed: 9, name: 'class' });
    const spec = JSON.parse(JSON.stringify(serializeLayer(head)));
    expect(spec.className).toBe('MoevlClassificationHead');
    const copy = deserializeLayer<ClassificationHead>(spec);
    expect(serializeLayer(copy)).toEqual(spec);
    const x = tf.randomNormal([2, 2, 3], 0, 1, 'float32', 5);
    const a = head.apply(x);
    const b = copy.apply(x);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(a.dataSync().some((v) => v !== 0)).toBe(true);
    tf.dispose([x, a, b]);
    head.dispose();
    copy.dispose();
  });

  it('rejects bad arguments and inputs with the problem named', () => {
    expect(() => new ClassificationHead({ dim: 3, numClasses: 0 })).toThrow(/numClasses must be a positive/);
    const head = new ClassificationHead({ dim: 3, numClasses: 2, seed: 1 });
    const x = tf.zeros([1, 2, 4]);
    expect(() => head.apply(x)).toThrow(/expected tokens \[N, P, 3\], got \[1,2,4\]/);
    x.dispose();
    head.dispose();
  });
});
