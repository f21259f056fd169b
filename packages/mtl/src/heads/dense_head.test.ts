import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { extractPatches } from '@moevl/vision';
import { expect, it } from 'vitest';
import { ClassificationHead } from './classification_head.js';
import { createHead } from './create_head.js';
import { DenseHead } from './dense_head.js';

describeEachBackend('DenseHead', () => {
  it('projects every token to its own p×p×C block, in place (hand-computed)', () => {
    // D = 1, p = 1, C = 2, grid 2×1: pixel (t, 0) = token_t · [2, −1] + [0.5, 0].
    const head = new DenseHead({ dim: 1, patchSize: 1, outChannels: 2, grid: [2, 1], seed: 1 });
    const kernel = tf.tensor2d([[2, -1]]);
    const bias = tf.tensor1d([0.5, 0]);
    head.loadWeights({ 'proj/kernel': kernel, 'proj/bias': bias });
    const x = tf.tensor3d([[[1], [3]]]);
    const y = head.apply(x);
    expect(y.arraySync()).toEqual([[[[2.5, -1]], [[6.5, -3]]]]);
    tf.dispose([kernel, bias, x, y]);
    head.dispose();
  });

  it('with an identity projection returns the image the patch embedding cut (grid 2×3, C = 2)', () => {
    const [c, p, gh, gw] = [2, 2, 2, 3];
    const d = c * p * p;
    const head = new DenseHead({ dim: d, patchSize: p, outChannels: c, grid: [gh, gw], seed: 1 });
    const eye = tf.eye(d);
    const zero = tf.zeros([d]);
    head.loadWeights({ 'proj/kernel': eye, 'proj/bias': zero });
    expect(head.namedWeights()['proj/kernel'].shape).toEqual([d, d]);
    const images = tf.randomNormal([2, c, gh * p, gw * p], 0, 1, 'float32', 7) as tf.Tensor4D;
    const tokens = tf.reshape(extractPatches(images, p), [2, gh * gw, d]);
    const y = head.apply(tokens);
    const nhwc = tf.transpose(images, [0, 2, 3, 1]);
    expect(y.shape).toEqual([2, gh * p, gw * p, c]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(nhwc.dataSync()));
    tf.dispose([eye, zero, images, tokens, y, nhwc]);
    head.dispose();
  });

  it('has the gradient finite differences give and leaks nothing', async () => {
    const head = new DenseHead({ dim: 3, patchSize: 2, outChannels: 2, grid: [1, 2], seed: 3 });
    const x = tf.randomNormal([1, 2, 3], 0, 1, 'float32', 4);
    expect(checkGradients((xi) => head.apply(xi), [x]).maxRelativeError).toBeLessThan(1e-3);
    await expectNoLeakedTensors(() => head.apply(x));
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => tf.sum(head.apply(x)) as tf.Scalar, Object.values(head.namedWeights())),
    );
    x.dispose();
    head.dispose();
  });

  it('round-trips its config: same weights and output', () => {
    const head = new DenseHead({
      dim: 3,
      patchSize: 2,
      outChannels: 1,
      grid: [2, 1],
      seed: 8,
      name: 'depth',
    });
    const spec = JSON.parse(JSON.stringify(serializeLayer(head)));
    expect(spec.className).toBe('MoevlDenseHead');
    const copy = deserializeLayer<DenseHead>(spec);
    expect(copy.grid).toEqual([2, 1]);
    expect(serializeLayer(copy)).toEqual(spec);
    const x = tf.randomNormal([1, 2, 3], 0, 1, 'float32', 5);
    const a = head.apply(x);
    const b = copy.apply(x);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    head.dispose();
    copy.dispose();
  });

  it('rejects bad arguments and inputs with the problem named', () => {
    expect(() => new DenseHead({ dim: 3, patchSize: 2, outChannels: 1, grid: [2, 0] })).toThrow(
      /grid must be \[gh, gw\]/,
    );
    expect(() => new DenseHead({ dim: 3, patchSize: 0, outChannels: 1, grid: [2, 2] })).toThrow(/patchSize/);
    const head = new DenseHead({ dim: 3, patchSize: 2, outChannels: 1, grid: [2, 2], seed: 1 });
    const x = tf.zeros([1, 5, 3]);
    expect(() => head.apply(x)).toThrow(/expected tokens \[N, 4, 3\] \(a 2×2 patch grid\)/);
    x.dispose();
    head.dispose();
  });
});

describeEachBackend('createHead', () => {
  it('builds the head the task spec asks for', () => {
    const opts = { dim: 4, patchSize: 2, grid: [2, 3] as [number, number], seed: 3 };
    const cls = createHead({ name: 'class', kind: 'classification', numClasses: 5 }, opts);
    expect(cls).toBeInstanceOf(ClassificationHead);
    expect(cls.name).toBe('class');
    const dense = createHead({ name: 'normals', kind: 'dense', outChannels: 3, loss: 'cosine' }, opts);
    expect(dense).toBeInstanceOf(DenseHead);
    const x = tf.zeros([1, 6, 4]);
    const y = dense.apply(x);
    expect(y.shape).toEqual([1, 4, 6, 3]);
    expect(
      createHead({ name: 'c', kind: 'classification', numClasses: 5 }, { ...opts, name: 'h' }).name,
    ).toBe('h');
    expect(() => createHead({ name: 'c', kind: 'classification', numClasses: -1 }, opts)).toThrow(
      /Task "c": numClasses/,
    );
    tf.dispose([x, y]);
    cls.dispose();
    dense.dispose();
  });
});
