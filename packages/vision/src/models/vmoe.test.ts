import * as tf from '@tensorflow/tfjs';
import { MLP, Rng, deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { MoELayer } from '@moevl/router';
import { expect, it } from 'vitest';
import { type VMoESpec, moeBlockIndices } from './moe_placement.js';
import { createVMoE } from './presets.js';
import { VisionTransformer, type VisionTransformerArgs } from './vision_transformer.js';

const TINY: VisionTransformerArgs = { imageSize: 8, patchSize: 4, dim: 16, depth: 4, numHeads: 2, seed: 2 };
const MOE: VMoESpec = { numExperts: 4, router: { name: 'top-k', options: { k: 2 } } };

it('places MoE blocks as V-MoE does: every 2 = blocks 1, 3, 5, ...; last n = the last n of those', () => {
  expect(moeBlockIndices(12, { numExperts: 8 })).toEqual([1, 3, 5, 7, 9, 11]);
  expect(moeBlockIndices(12, { numExperts: 8, every: 2 })).toEqual([1, 3, 5, 7, 9, 11]);
  // V-MoE-L/16 "Last-2": blocks 21 and 23 of 24.
  expect(moeBlockIndices(24, { numExperts: 32, last: 2 })).toEqual([21, 23]);
  expect(moeBlockIndices(12, { numExperts: 8, every: 1, last: 3 })).toEqual([9, 10, 11]);
  expect(moeBlockIndices(12, { numExperts: 8, every: 3 })).toEqual([2, 5, 8, 11]);
  expect(moeBlockIndices(3, { numExperts: 8, every: 1 })).toEqual([0, 1, 2]);
  expect(() => moeBlockIndices(12, { numExperts: 8, last: 7 })).toThrow(
    /moe.last must be an integer in \[1, 6\] \(blocks 1, 3, 5, 7, 9, 11 match every = 2/,
  );
  expect(() => moeBlockIndices(2, { numExperts: 8, every: 3 })).toThrow(
    /selects no block of a 2-block model/,
  );
  expect(() => moeBlockIndices(4, { numExperts: 0 })).toThrow(/numExperts must be a positive integer/);
  expect(() => moeBlockIndices(4, { numExperts: 2, every: 0 })).toThrow(/every must be a positive integer/);
});

it('createVMoE puts MoELayers exactly in the chosen blocks of a preset', () => {
  for (const [moe, expected] of [
    [{ ...MOE, every: 2 }, [1, 3]],
    [{ ...MOE, last: 1 }, [3]],
    [{ ...MOE, every: 1, last: 3 }, [1, 2, 3]],
  ] as [VMoESpec, number[]][]) {
    const model = createVMoE('ti-mini', moe, { dim: 16, numHeads: 2, imageSize: 8 });
    expect(model.moeBlocks).toEqual(expected);
    model.blocks.forEach((block, i) => {
      expect(block.mlp, `block ${i}`).toBeInstanceOf(expected.includes(i) ? MoELayer : MLP);
    });
    const paths = Object.keys(model.namedWeights());
    for (let i = 0; i < 4; i++) {
      expect(paths.includes(`blocks/${i}/mlp/experts/w1`)).toBe(expected.includes(i));
      expect(paths.includes(`blocks/${i}/mlp/fc1/kernel`)).toBe(!expected.includes(i));
    }
    expect(model.namedWeights()[`blocks/${expected[0]}/mlp/experts/w1`].shape).toEqual([4, 16, 64]);
    model.dispose();
  }
  const narrow = createVMoE('ti-mini', { ...MOE, hiddenDim: 8 }, { dim: 16, numHeads: 2, imageSize: 8 });
  expect(narrow.namedWeights()['blocks/1/mlp/experts/w1'].shape).toEqual([4, 16, 8]);
  narrow.dispose();
});

describeEachBackend('V-MoE', (backend) => {
  const images = (b = 2) => tf.randomNormal([b, 3, 8, 8], 0, 1, 'float32', 7);

  it('returns aux losses prefixed by block and routing metrics per MoE block', () => {
    const model = new VisionTransformer({ ...TINY, moe: MOE, numClasses: 3 });
    const x = images();
    const out = model.forward(x, { training: true, rng: new Rng(1) });
    const keys = Object.keys(out.auxLosses).sort();
    expect(keys).toEqual(
      expect.arrayContaining(['block1/importance', 'block1/load', 'block3/importance', 'block3/load']),
    );
    expect(keys.every((k) => /^block[13]\//.test(k))).toBe(true);
    for (const t of Object.values(out.auxLosses)) {
      expect(t.shape).toEqual([]);
      expect(Number.isFinite(t.dataSync()[0])).toBe(true);
    }
    expect(Object.keys(out.metrics).sort()).toEqual(['block1', 'block3']);
    expect(out.metrics.block1).toEqual(expect.objectContaining({ routingSuccessRate: expect.any(Number) }));
    expect(out.features.shape).toEqual([2, 16]);
    tf.dispose([x, out.features, out.logits!, ...Object.values(out.auxLosses)]);
    model.dispose();
  });

  it('passes a finite-difference gradient check w.r.t. the images (eval mode, no noise)', () => {
    const model = new VisionTransformer({ ...TINY, moe: MOE, projectionDim: 6 });
    const x = images(1);
    expect(checkGradients((a) => model.apply(a), [x]).maxRelativeError).toBeLessThan(1e-3);
    x.dispose();
    model.dispose();
  });

  it('gradients reach every trainable weight, experts and routers included', () => {
    const model = new VisionTransformer({ ...TINY, moe: MOE, numClasses: 3, headZeroInit: false });
    const x = images();
    const vars = model.trainableWeights();
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, { training: true, rng: new Rng(3) });
      return tf.addN([tf.sum(tf.square(out.logits!)), ...Object.values(out.auxLosses)]) as tf.Scalar;
    }, Object.values(vars));
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining(['blocks/1/mlp/experts/w1', 'blocks/3/mlp/experts/b2']),
    );
    expect(Object.keys(vars).some((k) => k.startsWith('blocks/3/mlp/router/'))).toBe(true);
    for (const [path, v] of Object.entries(vars)) {
      const g = grads[v.name];
      expect(g, path).toBeDefined();
      const n = tf.tidy(() => tf.norm(g).dataSync()[0]);
      expect(Number.isFinite(n) && n > 0, `${path} on ${backend}`).toBe(true);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    model.dispose();
  });

  it('leaks no tensors in forward and backward (training, with noise)', async () => {
    const model = new VisionTransformer({ ...TINY, moe: MOE });
    const x = images();
    const rng = new Rng(4);
    await expectNoLeakedTensors(() => {
      const out = model.forward(x, { training: true, rng });
      return [out.features, ...Object.values(out.auxLosses)];
    });
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const out = model.forward(x, { training: true, rng });
        return tf.addN([tf.sum(out.features), ...Object.values(out.auxLosses)]) as tf.Scalar;
      }, Object.values(model.trainableWeights())),
    );
    x.dispose();
    model.dispose();
  });

  it('round-trips its config with the MoE spec: same seed → identical outputs', () => {
    const model = new VisionTransformer({ ...TINY, moe: { ...MOE, last: 1, every: 1 } });
    const spec = JSON.parse(JSON.stringify(serializeLayer(model)));
    expect(spec.config.moe).toEqual({ ...MOE, last: 1, every: 1 });
    const copy = deserializeLayer<VisionTransformer>(spec);
    expect(copy.moeBlocks).toEqual([3]);
    expect(serializeLayer(copy)).toEqual(spec);
    const x = images();
    const [a, b] = [model.apply(x), copy.apply(x)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    copy.dispose();
  });
});
