import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { UncertaintyWeighting } from './uncertainty_weighting.js';
import { weightedSum } from './weighted_sum.js';

function setLogVars(layer: UncertaintyWeighting, values: number[]): void {
  const t = Object.fromEntries(layer.tasks.map((name, i) => [`log_var/${name}`, tf.scalar(values[i])]));
  layer.loadWeights(t);
  tf.dispose(Object.values(t));
}

function combined(layer: UncertaintyWeighting, losses: number[]): number {
  return tf.tidy(() => layer.combine(losses.map((l) => tf.scalar(l))).dataSync()[0]);
}

describeEachBackend('UncertaintyWeighting', () => {
  it('starts at σ = 1 (weight 0.5 each) and matches Σ 0.5/σ²·L + ln(1 + σ²) by hand', () => {
    const layer = new UncertaintyWeighting({ tasks: ['class', 'depth'], seed: 1 });
    expect(Object.keys(layer.namedWeights())).toEqual(['log_var/class', 'log_var/depth']);
    expect(layer.weights()).toEqual([0.5, 0.5]);
    // σ = 1: 0.5·2 + ln 2 + 0.5·3 + ln 2.
    expect(combined(layer, [2, 3])).toBeCloseTo(2.5 + 2 * Math.LN2, 5);
    // σ² = [1, 2]: 0.5·2 + ln 2 + 0.25·3 + ln 3.
    setLogVars(layer, [0, Math.LN2]);
    expect(layer.weights()[1]).toBeCloseTo(0.25, 6);
    expect(combined(layer, [2, 3])).toBeCloseTo(1 + Math.LN2 + 0.75 + Math.log(3), 5);
    layer.dispose();
  });

  it('has the gradient finite differences give, for the losses and the log-variances', () => {
    const layer = new UncertaintyWeighting({ tasks: ['a', 'b'], seed: 1 });
    const s = [0.3, -0.5];
    setLogVars(layer, s);
    const l0 = tf.scalar(2);
    const l1 = tf.scalar(0.7);
    const f = (a: tf.Tensor, b: tf.Tensor) => layer.combine([a as tf.Scalar, b as tf.Scalar]);
    expect(checkGradients(f, [l0, l1]).maxRelativeError).toBeLessThan(1e-3);
    // The weights are variables: compare variableGrads with central differences of combine.
    const vars = layer.logVars;
    const { value, grads } = tf.variableGrads(() => layer.combine([l0, l1]), vars);
    const eps = 1e-2;
    vars.forEach((v, i) => {
      const at = (x: number) => {
        setLogVars(
          layer,
          s.map((si, j) => (j === i ? x : si)),
        );
        return tf.tidy(() => layer.combine([l0, l1]).dataSync()[0]);
      };
      const numeric = (at(s[i] + eps) - at(s[i] - eps)) / (2 * eps);
      setLogVars(layer, s);
      // d/ds (0.5·e^(−s)·L + softplus(s)) = −0.5·e^(−s)·L + sigmoid(s).
      const L = [2, 0.7][i];
      const closed = -0.5 * Math.exp(-s[i]) * L + 1 / (1 + Math.exp(-s[i]));
      const analytic = grads[v.name].dataSync()[0];
      expect(analytic).toBeCloseTo(closed, 4);
      expect(analytic).toBeCloseTo(numeric, 3);
    });
    tf.dispose([value, l0, l1, ...Object.values(grads)]);
    layer.dispose();
  });

  it('leaks no tensors and round-trips its config', async () => {
    const layer = new UncertaintyWeighting({ tasks: ['a', 'b'], seed: 1, name: 'uw' });
    const losses = [tf.scalar(1), tf.scalar(2)];
    await expectNoLeakedTensors(() => layer.combine(losses));
    await expectNoLeakedTensors(() => tf.variableGrads(() => layer.combine(losses), layer.logVars));
    await expectNoLeakedTensors(() => void layer.weights());
    const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
    const copy = deserializeLayer<UncertaintyWeighting>(spec);
    expect(copy.tasks).toEqual(['a', 'b']);
    expect(serializeLayer(copy)).toEqual(spec);
    expect(combined(copy, [1, 2])).toBeCloseTo(combined(layer, [1, 2]), 6);
    tf.dispose(losses);
    layer.dispose();
    copy.dispose();
  });

  it('rejects bad arguments with the problem named', () => {
    expect(() => new UncertaintyWeighting({ tasks: [] })).toThrow(/tasks must be a non-empty list/);
    expect(() => new UncertaintyWeighting({ tasks: ['a', 'a'] })).toThrow(/task "a" is listed twice/);
    const layer = new UncertaintyWeighting({ tasks: ['a', 'b'] });
    const l = tf.scalar(1);
    expect(() => layer.combine([l])).toThrow(/expected 2 losses \(a, b\), got 1/);
    l.dispose();
    layer.dispose();
  });
});

describeEachBackend('weightedSum', () => {
  it('is Σ w·L, with a gradient and no leaks', async () => {
    const losses = [tf.scalar(2), tf.scalar(3)];
    expect(tf.tidy(() => weightedSum(losses, [0.5, 2]).dataSync()[0])).toBeCloseTo(7, 6);
    expect(
      checkGradients((a, b) => weightedSum([a as tf.Scalar, b as tf.Scalar], [0.5, 2]), losses)
        .maxRelativeError,
    ).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() => weightedSum(losses, [1, 1]));
    expect(() => weightedSum(losses, [1])).toThrow(/one weight per loss, got 2 loss\(es\) and 1 weight/);
    expect(() => weightedSum(losses, [1, NaN])).toThrow(/finite/);
    tf.dispose(losses);
  });
});
