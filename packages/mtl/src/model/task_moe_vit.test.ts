import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaskMoEViT, saveTaskMoEViT } from './checkpoint.js';
import { type TaskMoEViTConfigInput, taskMoEViTConfig } from './config.js';
import { TaskMoEViT } from './task_moe_vit.js';

const TINY: TaskMoEViTConfigInput = {
  imageSize: 8,
  patchSize: 4,
  inChannels: 3,
  dim: 16,
  depth: 2,
  numHeads: 2,
  seed: 11,
  tasks: [
    { name: 'label', kind: 'classification', numClasses: 3 },
    { name: 'depth', kind: 'dense', outChannels: 1 },
  ],
  moeMlp: { numExperts: 4, k: 2, hiddenDim: 8 },
  moeAttention: { numExperts: 4, k: 2, headDim: 4 },
};

const images = (n: number, seed = 1) => tf.randomUniform([n, 8, 8, 3], -1, 1, 'float32', seed) as tf.Tensor4D;

function disposeOut(
  r: { auxLosses: Record<string, tf.Scalar> } & ({ tokens: tf.Tensor } | { outputs: tf.Tensor[] }),
) {
  tf.dispose(Object.values(r.auxLosses));
  if ('tokens' in r) r.tokens.dispose();
  else tf.dispose(r.outputs);
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('taskMoEViTConfig', () => {
  it('fills the Mod-Squad and AdaMV defaults', () => {
    const mod = taskMoEViTConfig({ tasks: TINY.tasks });
    expect(mod.taskEmbedding).toBe(true);
    expect(mod.moeMlp).toMatchObject({ blocks: 'odd', numExperts: 16, k: [4, 4], gate: 'mod-squad' });
    expect(mod.moeMlp).toMatchObject({
      router: 'per-task',
      miWeight: 0.005,
      importanceWeight: 0,
      noiseStd: 0,
    });
    expect(mod.moeMlp).toMatchObject({ hiddenDim: 64, capacityFactor: 4, evalCapacityFactor: 4 });
    expect(mod.moeAttention).toMatchObject({
      blocks: 'even',
      router: 'per-task',
      miWeight: 0.005,
      headDim: 16,
    });
    const ada = taskMoEViTConfig({ tasks: TINY.tasks, moeMlp: { k: [2, 3] } }, 'adamv');
    expect(ada.taskEmbedding).toBe(false);
    expect(ada.moeAttention.blocks).toBe('none');
    expect(ada.moeMlp).toMatchObject({ gate: 'vmoe', k: [2, 3], importanceWeight: 5e-3, loadWeight: 5e-3 });
    expect(ada.moeMlp).toMatchObject({ miWeight: 0, noiseStd: 1, capacityFactor: 1.25, kMax: 8 });
  });

  it('rejects bad configs with messages naming the field', () => {
    const bad: [Partial<TaskMoEViTConfigInput>, RegExp][] = [
      [{ imageSize: 10 }, /imageSize 10 must be a multiple of patchSize 4/],
      [{ numHeads: 3 }, /dim 16 must be divisible by numHeads 3/],
      [{ moeMlp: { numExperts: 4, k: 5, hiddenDim: 8 } }, /moeMlp\.k must be an integer in \[1, 4\]/],
      [{ moeMlp: { numExperts: 4, k: [1, 2, 3], hiddenDim: 8 } }, /one per task \(2\)/],
      [{ moeMlp: { numExperts: 4, k: 2, hiddenDim: 8, blocks: [5] } }, /moeMlp\.blocks must be .*\[0, 2\)/],
      [{ moeAttention: { numExperts: 2, k: 3, headDim: 4 } }, /moeAttention\.k must be in \[1, 2\]/],
      [
        { moeAttention: { numExperts: 4, k: 2, headDim: 4, router: 'global' as 'shared' } },
        /moeAttention\.router must be 'per-task' or 'shared'/,
      ],
      [
        { keptExperts: { 'block0/mlp': [0, 1] } },
        /keptExperts names "block0\/mlp", which is not an MoE layer/,
      ],
      [{ keptExperts: { 'block1/mlp': [2, 1] } }, /keptExperts\["block1\/mlp"\] must be strictly increasing/],
      [{ tasks: [] }, /at least one task/],
    ];
    for (const [override, message] of bad)
      expect(() => taskMoEViTConfig({ ...TINY, ...override })).toThrow(message);
  });
});

describeEachBackend('TaskMoEViT', () => {
  let model: TaskMoEViT;
  let dir: string;
  beforeAll(async () => {
    model = new TaskMoEViT(taskMoEViTConfig(TINY));
    dir = await mkdtemp(join(tmpdir(), 'task-moe-vit-'));
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('forward: tokens, weighted aux losses by block, usage metrics; heads of both kinds', () => {
    const x = images(2);
    const r = model.forward(x, { task: 1, training: true });
    expect(r.tokens.shape).toEqual([2, 4, 16]);
    expect(Object.keys(r.auxLosses).sort()).toEqual([
      'block0/attention/mutualInformation',
      'block1/mlp/mutualInformation',
    ]);
    expect(r.metrics.blocks.map((b) => [b.name, b.block, b.kind])).toEqual([
      ['block0/attention', 0, 'attention'],
      ['block1/mlp', 1, 'mlp'],
    ]);
    // Zero-init Mod-Squad gates: uniform p, so every token takes experts 0 and 1 (ties → lower index).
    for (const b of r.metrics.blocks)
      expect(b.expertTaskUsage).toEqual([
        [0, 0, 0, 0],
        [8, 8, 0, 0],
      ]);
    expect(r.metrics.blocks[1].routingSuccessRate).toBe(1);
    const logits = model.head(0, r.tokens);
    const dense = model.head(1, r.tokens);
    expect(logits.shape).toEqual([2, 3]);
    expect(dense.shape).toEqual([2, 8, 8, 1]);
    // The tokens are LayerNormed: per-token mean 0, variance 1 (gamma 1, beta 0 at init).
    const mean = tf.tidy(() => tf.max(tf.abs(tf.mean(r.tokens, -1))).dataSync()[0]);
    expect(mean).toBeLessThan(1e-5);
    tf.dispose([x, logits, dense]);
    disposeOut(r);
  });

  it('zero-init routers give uniform probabilities 1/E + 1e-4 at step 0', () => {
    const block = model.blocks[1];
    const router = model.mlpRouters()[0];
    expect(model.mlpRouters()).toHaveLength(1);
    expect(block.attn.constructor.name).toBe('MultiHeadSelfAttention');
    const x = tf.randomNormal([5, 16], 0, 3, 'float32', 4) as tf.Tensor2D;
    const task = tf.tensor1d([0, 1, 1, 0, 1], 'int32');
    const r = router.route(x, { training: true, task });
    expect(Array.from(r.gates.dataSync()).every((p) => Math.abs(p - (0.25 + 1e-4)) < 1e-6)).toBe(true);
    for (const [path, w] of Object.entries(model.namedWeights())) {
      if (/gate\/task\d\/kernel$/.test(path))
        expect(
          tf.tidy(() => tf.max(tf.abs(w)).dataSync()[0]),
          path,
        ).toBe(0);
    }
    tf.dispose([
      x,
      task,
      r.gates,
      r.expertIndex,
      r.position,
      r.combineWeights,
      ...Object.values(r.auxLosses),
    ]);
  });

  it('a task tensor equals the same task given as a number; tasks differ through the task embedding', () => {
    const x = images(2, 3);
    const ids = tf.tensor1d([1, 1], 'int32');
    const a = model.forward(x, { task: 1, training: false });
    const b = model.forward(x, { task: ids, training: false });
    const c = model.forward(x, { task: 0, training: false });
    expect(maxDiff(a.tokens, b.tokens)).toBe(0);
    expect(maxDiff(a.tokens, c.tokens)).toBeGreaterThan(1e-3);
    tf.dispose([x, ids]);
    [a, b, c].forEach(disposeOut);
  });

  it('forwardTasks runs all tasks in one pass and equals one forward per task', () => {
    const x = images(3, 5);
    const r = model.forwardTasks(x, { training: false });
    expect(r.outputs.map((o) => o.shape)).toEqual([
      [3, 3],
      [3, 8, 8, 1],
    ]);
    // Joint usage: both tasks' tokens in the same MoE layers.
    expect(r.metrics.blocks[1].expertTaskUsage).toEqual([
      [12, 12, 0, 0],
      [12, 12, 0, 0],
    ]);
    for (const t of [0, 1]) {
      const single = model.forward(x, { task: t, training: false });
      const head = model.head(t, single.tokens);
      expect(maxDiff(head, r.outputs[t])).toBeLessThan(1e-5);
      head.dispose();
      disposeOut(single);
    }
    const only = model.forwardTasks(x, { tasks: [1], training: false });
    expect(maxDiff(only.outputs[0], r.outputs[1])).toBeLessThan(1e-5);
    expect(() => model.forwardTasks(x, { tasks: [1, 1], training: false })).toThrow(
      /distinct task indices in \[0, 2\)/,
    );
    tf.dispose(x);
    disposeOut(r);
    disposeOut(only);
  });

  it('rejects wrong images and task ids with clear messages', () => {
    const nchw = tf.zeros([1, 3, 8, 8]) as tf.Tensor4D;
    const x = images(2);
    const wrong = tf.tensor1d([0, 2], 'int32');
    expect(() => model.forward(nchw, { task: 0, training: false })).toThrow(
      /expected NHWC images \[N, 8, 8, 3\]/,
    );
    expect(() => model.forward(x, { task: 2, training: false })).toThrow(
      /ctx\.task must be an integer in \[0, 2\)/,
    );
    expect(() => model.forward(x, { task: wrong, training: false })).toThrow(/ctx\.task\[1\] = 2 is outside/);
    tf.dispose([nchw, x, wrong]);
  });

  it('setTaskK changes routing, is reported by getConfig and saved with the checkpoint', async () => {
    const m = new TaskMoEViT(taskMoEViTConfig(TINY));
    expect(m.getTaskK(1)).toBe(2);
    m.setTaskK(1, 3);
    expect(m.getTaskK(1)).toBe(3);
    expect(m.getTaskK(0)).toBe(2);
    expect(() => m.setTaskK(1, 5)).toThrow(/k must be an integer in \[1, 4\]/);
    const x = images(2);
    const r = m.forwardTasks(x, { training: false });
    expect(r.metrics.blocks[1].expertTaskUsage).toEqual([
      [8, 8, 0, 0],
      [8, 8, 8, 0],
    ]);
    expect(m.getConfig()).toMatchObject({ moeMlp: { k: [2, 3] } });
    const path = join(dir, 'k.safetensors');
    await saveTaskMoEViT(path, m, { step: 7 });
    const loaded = await loadTaskMoEViT(path);
    expect(loaded.metadata).toEqual({ step: 7 });
    expect(loaded.model.getTaskK(1)).toBe(3);
    const again = loaded.model.forwardTasks(x, { training: false });
    r.outputs.forEach((o, t) => expect(maxDiff(o, again.outputs[t])).toBe(0));
    tf.dispose(x);
    disposeOut(r);
    disposeOut(again);
    loaded.model.dispose();
    m.dispose();
  });

  it('round-trips config and checkpoint: the rebuilt model gives identical outputs', async () => {
    const trained = new TaskMoEViT(taskMoEViTConfig(TINY));
    // Perturb every weight so the checkpoint, not the seed, must carry them.
    for (const v of Object.values(trained.namedWeights())) {
      tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', v.size))));
    }
    const config = JSON.parse(JSON.stringify(trained.getConfig()));
    const rebuilt = new TaskMoEViT(config);
    expect(rebuilt.getConfig()).toEqual(trained.getConfig());
    expect(Object.keys(rebuilt.namedWeights())).toEqual(Object.keys(trained.namedWeights()));
    const path = join(dir, 'model.safetensors');
    await saveTaskMoEViT(path, trained);
    const { model: loaded, metadata } = await loadTaskMoEViT(path);
    expect(metadata).toEqual({});
    const x = images(2, 9);
    const a = trained.forwardTasks(x, { training: false });
    const b = loaded.forwardTasks(x, { training: false });
    a.outputs.forEach((o, t) => expect(maxDiff(o, b.outputs[t])).toBe(0));
    expect(
      maxDiff(
        a.outputs[0],
        tf.tidy(() => rebuilt.forwardTasks(x, { training: false, tasks: [0] }).outputs[0]),
      ),
    ).toBeGreaterThan(0);
    const { writeSafetensors } = await import('@moevl/core');
    const other = join(dir, 'other.safetensors');
    const w = tf.zeros([1]);
    await writeSafetensors(other, { w }, { format: 'something-else' });
    await expect(loadTaskMoEViT(other)).rejects.toThrow(/not a TaskMoEViT model file.*saveTaskMoEViT/);
    tf.dispose([x, w]);
    disposeOut(a);
    disposeOut(b);
    [trained, rebuilt, loaded].forEach((m) => m.dispose());
  });

  it('shared router: one gate per MoE layer, (T−1)·D·E fewer weights, per-task usage kept', () => {
    const shared = new TaskMoEViT(
      taskMoEViTConfig({
        ...TINY,
        moeMlp: { ...TINY.moeMlp, router: 'shared' },
        moeAttention: { ...TINY.moeAttention, router: 'shared' },
      }),
    );
    const gates = (m: TaskMoEViT) => Object.keys(m.namedWeights()).filter((p) => p.includes('/gate/'));
    expect(gates(shared)).toEqual([
      'blocks/0/attn/gate/shared/kernel',
      'blocks/1/mlp/router/gate/shared/kernel',
    ]);
    expect(gates(model)).toHaveLength(4);
    expect(model.countParams() - shared.countParams()).toBe(2 * (2 - 1) * 16 * 4);
    const x = images(2);
    const r = shared.forwardTasks(x, { training: false });
    expect(r.metrics.blocks[1].expertTaskUsage).toEqual([
      [8, 8, 0, 0],
      [8, 8, 0, 0],
    ]);
    expect(Object.keys(r.auxLosses)).toContain('block1/mlp/mutualInformation');
    tf.dispose(x);
    disposeOut(r);
    shared.dispose();
  });

  it('AdaMV preset: noisy per-task gates with importance and load losses in training', () => {
    const ada = new TaskMoEViT(
      taskMoEViTConfig(
        { ...TINY, moeAttention: undefined, moeMlp: { numExperts: 4, hiddenDim: 8, k: [1, 2] } },
        'adamv',
      ),
    );
    const x = images(2);
    const r = ada.forwardTasks(x, { training: true });
    expect(Object.keys(r.auxLosses).sort()).toEqual(['block1/mlp/importance', 'block1/mlp/load']);
    expect(r.metrics.blocks).toHaveLength(1);
    const usage = r.metrics.blocks[0].expertTaskUsage;
    expect(usage.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([8, 16]);
    expect(Object.keys(ada.namedWeights()).some((p) => p.startsWith('task_embedding'))).toBe(false);
    tf.dispose(x);
    disposeOut(r);
    ada.dispose();
  });

  it('leaks no tensors in a full forward + backward over all tasks', async () => {
    const x = images(2);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const weights = Object.values(model.trainableWeights());
    let names: string[] = [];
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => {
        const r = model.forwardTasks(x, { training: true });
        const ce = tf.losses.softmaxCrossEntropy(labels, r.outputs[0]);
        const l1 = tf.mean(tf.abs(r.outputs[1]));
        return tf.addN([ce, l1, ...Object.values(r.auxLosses)]) as tf.Scalar;
      }, weights);
      names = Object.keys(grads);
      return [value, ...Object.values(grads)];
    });
    // Every weight receives a gradient, the zero-init gates included (through p and the MI loss).
    expect(names).toHaveLength(weights.length);
    tf.dispose([x, labels]);
  });
});
