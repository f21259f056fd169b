import * as tf from '@tensorflow/tfjs';
import { deserializeLayer, serializeLayer } from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { TaskMoEBlock, type TaskMoEBlockArgs } from './task_moe_block.js';

const ARGS: TaskMoEBlockArgs = {
  dim: 4,
  numHeads: 2,
  mlpRatio: 2,
  numTasks: 2,
  seed: 3,
  attention: { numExperts: 3, k: 2, headDim: 2, miWeight: 1, sharedGate: false },
  mlp: {
    numExperts: 3,
    hiddenDim: 4,
    router: { gate: 'mod-squad', k: [1, 2], miWeight: 1, capacityFactor: 3, evalCapacityFactor: 3 },
  },
};

describeEachBackend('TaskMoEBlock', () => {
  it('has the input gradient finite differences give (MoE attention + MoE MLP, zero-init gates)', () => {
    const block = new TaskMoEBlock(ARGS);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5) as tf.Tensor3D;
    const task = tf.tensor1d([0, 1], 'int32');
    const f = (xi: tf.Tensor) => {
      const r = block.forward(xi as tf.Tensor3D, { task, training: false });
      return tf.add(tf.sum(r.y), tf.mul(tf.addN(Object.values(r.auxLosses)), 10));
    };
    const y = (xi: tf.Tensor) => block.forward(xi as tf.Tensor3D, { task, training: false }).y;
    expect(checkGradients(y, [x]).maxRelativeError).toBeLessThan(2e-3);
    expect(checkGradients(f, [x]).maxRelativeError).toBeLessThan(2e-3);
    tf.dispose([x, task]);
    block.dispose();
  });

  it('dense block: the same paths as core TransformerBlock, no aux losses or metrics', () => {
    const block = new TaskMoEBlock({ ...ARGS, attention: null, mlp: null });
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
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 6) as tf.Tensor3D;
    const task = tf.tensor1d([1], 'int32');
    const r = block.forward(x, { task, training: true });
    expect(r.auxLosses).toEqual({});
    expect(r.metrics).toEqual({});
    const grad = checkGradients((xi) => block.forward(xi as tf.Tensor3D, { task, training: false }).y, [x]);
    expect(grad.maxRelativeError).toBeLessThan(2e-3);
    tf.dispose([x, task, r.y]);
    block.dispose();
  });

  it('returns both slots’ aux losses and usage; round-trips its config; no leaks', async () => {
    const block = new TaskMoEBlock(ARGS);
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7) as tf.Tensor3D;
    const task = tf.tensor1d([0, 1], 'int32');
    const r = block.forward(x, { task, training: true });
    expect(Object.keys(r.auxLosses).sort()).toEqual(['attention/mutualInformation', 'mutualInformation']);
    expect(Object.keys(r.slots.attention.auxLosses)).toEqual(['mutualInformation']);
    expect(Object.keys(r.slots.mlp.auxLosses)).toEqual(['mutualInformation']);
    expect(r.slots.attention.metrics.expertTaskUsage).toEqual([
      [3, 3, 0],
      [3, 3, 0],
    ]);
    // Task 0 has k = 1, task 1 k = 2 in the MLP.
    expect(r.slots.mlp.metrics.expertTaskUsage).toEqual([
      [3, 0, 0],
      [3, 3, 0],
    ]);
    const copy = deserializeLayer<TaskMoEBlock>(JSON.parse(JSON.stringify(serializeLayer(block))));
    expect(serializeLayer(copy)).toEqual(serializeLayer(block));
    const rc = copy.forward(x, { task, training: true });
    expect(rc.y.arraySync()).toEqual(r.y.arraySync());
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const o = block.forward(x, { task, training: true });
        return tf.add(tf.sum(o.y), tf.addN(Object.values(o.auxLosses))) as tf.Scalar;
      }),
    );
    tf.dispose([x, task, r.y, rc.y, ...Object.values(r.auxLosses), ...Object.values(rc.auxLosses)]);
    block.dispose();
    copy.dispose();
  });
});
