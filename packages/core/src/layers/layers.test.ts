import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../io/index.js';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '../testing/index.js';
import { MultiHeadSelfAttention } from './attention.js';
import { Dense } from './dense.js';
import { Embedding } from './embedding.js';
import { type Layer, deserializeLayer, serializeLayer } from './layer.js';
import { LayerNorm } from './layer_norm.js';
import { MLP } from './mlp.js';
import { TransformerBlock } from './transformer_block.js';

interface Case {
  make: () => Layer;
  run: (layer: Layer, x: tf.Tensor) => tf.Tensor;
  input: () => tf.Tensor;
}

// Masks shared by the cases (made once, so the leak checks do not count them).
const MASK_A = tf.tensor2d([
  [1, 1, 1],
  [1, 1, 0],
]);
const MASK_B = tf.tensor2d([
  [1, 1, 0],
  [1, 1, 1],
]);

const CASES: Record<string, Case> = {
  Dense: {
    make: () => new Dense({ inputDim: 4, units: 3, seed: 1 }),
    run: (l, x) => (l as Dense).apply(x),
    input: () => tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1),
  },
  Embedding: {
    make: () => new Embedding({ vocabSize: 7, dim: 3, seed: 2 }),
    run: (l, x) => (l as Embedding).apply(x),
    input: () =>
      tf.tensor2d(
        [
          [0, 6, 2],
          [2, 2, 5],
        ],
        undefined,
        'int32',
      ),
  },
  LayerNorm: {
    make: () => new LayerNorm({ dim: 4, seed: 3 }),
    run: (l, x) => (l as LayerNorm).apply(x),
    input: () => tf.randomNormal([3, 4], 0, 2, 'float32', 3),
  },
  MLP: {
    make: () => new MLP({ dim: 4, hiddenDim: 8, activation: 'geluTanh', seed: 4 }),
    run: (l, x) => (l as MLP).apply(x),
    input: () => tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4),
  },
  MultiHeadSelfAttention: {
    make: () => new MultiHeadSelfAttention({ dim: 8, numHeads: 2, causal: true, seed: 5 }),
    run: (l, x) => (l as MultiHeadSelfAttention).apply(x, MASK_A),
    input: () => tf.randomNormal([2, 3, 8], 0, 1, 'float32', 5),
  },
  TransformerBlock: {
    make: () => new TransformerBlock({ dim: 8, numHeads: 2, mlpRatio: 2, seed: 6 }),
    run: (l, x) => (l as TransformerBlock).apply(x, { training: false, tokenMask: MASK_B }),
    input: () => tf.randomNormal([2, 3, 8], 0, 1, 'float32', 6),
  },
};

const dir = await mkdtemp(join(tmpdir(), 'moevl-layers-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeEachBackend('layers', (backend) => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: config round-trip rebuilds the same layer (same seed → same weights)`, () => {
      const layer = c.make();
      const spec = JSON.parse(JSON.stringify(serializeLayer(layer)));
      const copy = deserializeLayer(spec);
      expect(copy.getClassName()).toBe(layer.getClassName());
      expect(serializeLayer(copy)).toEqual(spec);
      const x = c.input();
      const a = c.run(layer, x);
      const b = c.run(copy, x);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
      layer.dispose();
      copy.dispose();
    });

    it(`${name}: checkpoint round-trip through safetensors`, async () => {
      const layer = c.make();
      const path = join(dir, `${name}-${backend}.safetensors`);
      await writeSafetensors(path, layer.namedWeights(), { config: JSON.stringify(serializeLayer(layer)) });
      const { tensors, metadata } = await readSafetensors(path);
      // A fresh layer from the stored config, with a different seed so only loading can make it equal.
      const spec = JSON.parse(metadata.config);
      spec.config.seed = 999;
      const copy = deserializeLayer(spec);
      copy.loadWeights(tensors, { source: path });
      tf.dispose(Object.values(tensors));
      const x = c.input();
      const a = c.run(layer, x);
      const b = c.run(copy, x);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
      layer.dispose();
      copy.dispose();
    });

    it(`${name}: leaks no tensors in forward and backward`, async () => {
      const layer = c.make();
      const x = c.input();
      await expectNoLeakedTensors(() => c.run(layer, x));
      const vars = Object.values(layer.trainableWeights());
      await expectNoLeakedTensors(() => tf.variableGrads(() => tf.sum(c.run(layer, x)) as tf.Scalar, vars));
      x.dispose();
      layer.dispose();
    });
  }

  it('gradients with respect to inputs pass the finite-difference check', () => {
    const ln = new LayerNorm({ dim: 5, seed: 1 });
    const attn = new MultiHeadSelfAttention({ dim: 4, numHeads: 2, seed: 2 });
    const block = new TransformerBlock({ dim: 4, numHeads: 2, mlpRatio: 2, seed: 3 });
    const mask = tf.tensor2d([[1, 1, 0]]);
    const x5 = tf.randomNormal([2, 5], 0, 1, 'float32', 7);
    const x4 = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 8);
    expect(checkGradients((x) => ln.apply(x), [x5]).maxRelativeError).toBeLessThan(1e-3);
    expect(checkGradients((x) => attn.apply(x, mask), [x4]).maxRelativeError).toBeLessThan(1e-3);
    expect(
      checkGradients((x) => block.apply(x, { training: false, tokenMask: mask }), [x4]).maxRelativeError,
    ).toBeLessThan(1e-3);
    tf.dispose([mask, x5, x4]);
    [ln, attn, block].forEach((l) => l.dispose());
  });

  it('a padded key changes nothing for the real tokens; causal attention ignores the future', () => {
    const attn = new MultiHeadSelfAttention({ dim: 4, numHeads: 1, seed: 9 });
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 10);
    const masked = attn.apply(x, tf.tensor2d([[1, 1, 0]]));
    const truncated = attn.apply(tf.slice(x, [0, 0, 0], [1, 2, 4]));
    const a = tf.slice(masked, [0, 0, 0], [1, 2, 4]).dataSync();
    const b = truncated.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    const causal = new MultiHeadSelfAttention({ dim: 4, numHeads: 1, causal: true, seed: 9 });
    const full = causal.apply(x);
    const changedFuture = causal.apply(tf.concat([tf.slice(x, [0, 0, 0], [1, 2, 4]), tf.ones([1, 1, 4])], 1));
    const f1 = tf.slice(full, [0, 0, 0], [1, 2, 4]).dataSync();
    const f2 = tf.slice(changedFuture, [0, 0, 0], [1, 2, 4]).dataSync();
    for (let i = 0; i < f1.length; i++) expect(f1[i]).toBeCloseTo(f2[i], 5);
    tf.disposeVariables();
  });
});

describeEachBackend('layer errors', () => {
  it('name the layer, the option and the shapes', () => {
    expect(() => new Dense({ inputDim: 0, units: 3, name: 'proj' })).toThrow(
      'Dense proj: inputDim must be a positive integer, got 0.',
    );
    expect(() => new MultiHeadSelfAttention({ dim: 6, numHeads: 4, name: 'attn' })).toThrow(
      'MultiHeadSelfAttention attn: dim 6 must be divisible by numHeads 4.',
    );
    const d = new Dense({ inputDim: 4, units: 2, name: 'proj' });
    expect(() => d.apply(tf.zeros([2, 3]))).toThrow(
      'Dense proj: expected last dimension 4, got input [2,3].',
    );
    const e = new Embedding({ vocabSize: 3, dim: 2, name: 'tok' });
    expect(() => e.apply(tf.tensor1d([0, 3], 'int32'))).toThrow(
      'Embedding tok: id 3 is out of range [0, 3).',
    );
    expect(() => d.loadWeights({ kernel: tf.zeros([4, 2]) }, { source: 'ckpt.safetensors' })).toThrow(
      'Cannot load weights into proj from ckpt.safetensors: missing 1 weight(s): bias.',
    );
    expect(() => d.loadWeights({ kernel: tf.zeros([2, 4]), bias: tf.zeros([2]) })).toThrow(
      'Cannot load weight "kernel" into proj: shape [2,4] ≠ [4,2].',
    );
    // An I32 tensor where float weights belong (float bytes stored under the wrong dtype) is refused.
    expect(() =>
      d.loadWeights({ kernel: tf.zeros([4, 2], 'int32'), bias: tf.zeros([2]) }, { source: 'm.safetensors' }),
    ).toThrow(
      'Cannot load weight "kernel" into proj from m.safetensors: it is stored as int32, the layer expects float32; the file is damaged or was not written for this model.',
    );
    expect(() => deserializeLayer({ className: 'Nope', config: {} })).toThrow(
      /Unknown layer class "Nope". Registered classes: .*MoevlDense/,
    );
    d.dispose();
    e.dispose();
  });

  it('block weights have stable path names (checkpoint keys)', () => {
    const block = new TransformerBlock({ dim: 4, numHeads: 2, mlpRatio: 2, seed: 1 });
    expect(Object.keys(block.namedWeights()).sort()).toEqual([
      'attn/out/bias',
      'attn/out/kernel',
      'attn/qkv/bias',
      'attn/qkv/kernel',
      'ln1/beta',
      'ln1/gamma',
      'ln2/beta',
      'ln2/gamma',
      'mlp/fc1/bias',
      'mlp/fc1/kernel',
      'mlp/fc2/bias',
      'mlp/fc2/kernel',
    ]);
    // qkv 4·12+12, out 4·4+4, two LayerNorms 2·(4+4), fc1 4·8+8, fc2 8·4+4
    expect(block.countParams()).toBe(4 * 12 + 12 + (4 * 4 + 4) + 2 * (4 + 4) + (4 * 8 + 8) + (8 * 4 + 4));
    block.dispose();
  });
});

describeEachBackend('attention masks', () => {
  it('a block-diagonal attentionMask makes a packed pair equal to two separate sequences', () => {
    const attn = new MultiHeadSelfAttention({ dim: 4, numHeads: 2, seed: 3 });
    const a = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([1, 2, 4], 0, 1, 'float32', 2);
    const seg = [0, 0, 0, 1, 1];
    const mask = tf.tensor3d([seg.map((si) => seg.map((sj) => (si === sj ? 1 : 0)))]);
    const packed = attn.apply(tf.concat([a, b], 1), undefined, mask);
    const sep = tf.concat([attn.apply(a), attn.apply(b)], 1);
    const p = packed.dataSync();
    const q = sep.dataSync();
    for (let i = 0; i < p.length; i++) expect(p[i]).toBeCloseTo(q[i], 5);
    expect(
      checkGradients((x) => attn.apply(x, undefined, mask), [tf.concat([a, b], 1)]).maxRelativeError,
    ).toBeLessThan(1e-3);
    expect(() => attn.apply(a, undefined, tf.ones([1, 2, 2]))).toThrow(
      /attentionMask must be \[1 or 1, 3, 3\]/,
    );
    tf.dispose([a, b, mask, packed, sep]);
    attn.dispose();
  });
});
