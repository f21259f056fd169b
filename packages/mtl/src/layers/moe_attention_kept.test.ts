import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { MoEAttention } from './moe_attention.js';

/** Deterministic values in [-scale, scale) (LCG), the same on every backend. */
function values(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
  return tf.tensor(data, shape);
}

const [D, E, H] = [4, 4, 2];

describeEachBackend('MoEAttention sharedGate and keptExperts', () => {
  it('sharedGate: one gate for all tasks, usage still per task, config round-trips', () => {
    const layer = new MoEAttention({
      dim: D,
      numExperts: E,
      k: 2,
      headDim: H,
      numTasks: 2,
      sharedGate: true,
      seed: 3,
    });
    expect(Object.keys(layer.namedWeights()).filter((p) => p.startsWith('gate/'))).toEqual([
      'gate/shared/kernel',
    ]);
    const g = values([D, E], 5, 2);
    layer.namedWeights()['gate/shared/kernel'].assign(g);
    const xb = values([1, 3, D], 6);
    const x = tf.concat([xb, xb]);
    const task = tf.tensor1d([0, 1], 'int32');
    const r = layer.forward(x, { training: false, task });
    const y = r.y.arraySync() as number[][][];
    expect(y[1]).toEqual(y[0]);
    const [u0, u1] = r.metrics.expertTaskUsage;
    expect(u1).toEqual(u0);
    expect(u0.reduce((a, b) => a + b, 0)).toBe(3 * 2);
    const copy = deserializeLayer<MoEAttention>(JSON.parse(JSON.stringify(serializeLayer(layer))));
    expect(copy.sharedGate).toBe(true);
    expect(Object.keys(copy.namedWeights())).toEqual(Object.keys(layer.namedWeights()));
    tf.dispose([g, xb, x, task, r.y, r.auxLosses.mutualInformation!]);
    layer.dispose();
    copy.dispose();
  });

  it('keptExperts: with only kept experts chosen, the smaller layer gives the full layer’s output', async () => {
    const full = new MoEAttention({ dim: D, numExperts: E, k: 2, headDim: H, numTasks: 2, seed: 7 });
    const w = full.namedWeights();
    // Task 1 prefers experts 1 and 3 through the constant first feature; the other gate rows add variety.
    const gate = tf.tidy(() => tf.concat([tf.tensor2d([[0, 4, -1, 3]]), values([D - 1, E], 8, 0.5)]));
    w['gate/task1/kernel'].assign(gate);
    const kept = [1, 3];
    const small = new MoEAttention({
      dim: D,
      numExperts: 2,
      k: 2,
      headDim: H,
      numTasks: 1,
      gateExperts: E,
      keptExperts: kept,
      seed: 9,
    });
    expect(small.namedWeights()['gate/task0/kernel'].shape).toEqual([D, E]);
    const idx = tf.tensor1d(kept, 'int32');
    const copied: Record<string, tf.Tensor> = {
      'gate/task0/kernel': w['gate/task1/kernel'],
      'query/kernel': tf.reshape(tf.gather(tf.reshape(w['query/kernel'], [D, E, H]), idx, 1), [D, 2 * H]),
      'kv/kernel': w['kv/kernel'],
      'kv/bias': w['kv/bias'],
      'out/kernel': tf.gather(w['out/kernel'], idx, 0),
      'out/bias': w['out/bias'],
    };
    small.loadWeights(copied);
    expect(small.countParams()).toBeLessThan(full.countParams());
    const x = tf.concat([tf.ones([2, 3, 1]), values([2, 3, D - 1], 10)], 2);
    const a = full.forward(x, { training: false, task: 1 });
    const b = small.forward(x, { training: false, task: 0 });
    expect(a.metrics.expertTaskUsage[1]).toEqual([0, 6, 0, 6]);
    expect(b.metrics.expertTaskUsage).toEqual([[6, 6]]);
    const [ya, yb] = [a.y.dataSync(), b.y.dataSync()];
    ya.forEach((v, i) => expect(yb[i]).toBeCloseTo(v, 5));
    expect(serializeLayer(small).config).toMatchObject({ gateExperts: 4, keptExperts: [1, 3] });
    const grad = checkGradients((xi) => small.forward(xi, { training: false, task: 0 }).y, [x]);
    expect(grad.maxRelativeError).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const r = small.forward(x, { training: true, task: 0 });
        return tf.add(tf.sum(r.y), r.auxLosses.mutualInformation!) as tf.Scalar;
      }),
    );
    tf.dispose([gate, idx, copied['query/kernel'], copied['out/kernel'], x, a.y, b.y]);
    tf.dispose([...Object.values(a.auxLosses), ...Object.values(b.auxLosses)] as tf.Tensor[]);
    full.dispose();
    small.dispose();
  });

  it('rejects invalid keptExperts with a message naming the option', () => {
    const base = { dim: D, numExperts: 2, k: 1, headDim: H, numTasks: 1 };
    expect(() => new MoEAttention({ ...base, gateExperts: 4 })).toThrow(
      /keptExperts must list numExperts = 2/,
    );
    expect(() => new MoEAttention({ ...base, gateExperts: 4, keptExperts: [3, 1] })).toThrow(
      /strictly increasing/,
    );
    expect(() => new MoEAttention({ ...base, gateExperts: 4, keptExperts: [1, 4] })).toThrow(
      /gateExperts = 4/,
    );
    expect(() => new MoEAttention({ ...base, gateExperts: 1 })).toThrow(
      /gateExperts must be an integer ≥ numExperts/,
    );
  });
});
