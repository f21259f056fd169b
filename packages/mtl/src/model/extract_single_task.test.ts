import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaskMoEViT, saveTaskMoEViT } from './checkpoint.js';
import { taskMoEViTConfig } from './config.js';
import { ExpertUsageEMA } from './expert_usage_ema.js';
import { extractSingleTask, parameterCount, selectKeptExperts } from './extract_single_task.js';
import { TaskMoEViT } from './task_moe_vit.js';

const CONFIG = taskMoEViTConfig({
  imageSize: 8,
  patchSize: 4,
  dim: 16,
  depth: 2,
  numHeads: 2,
  seed: 21,
  tasks: [
    { name: 'label', kind: 'classification', numClasses: 3 },
    { name: 'depth', kind: 'dense', outChannels: 1 },
  ],
  moeMlp: { numExperts: 6, k: 2, hiddenDim: 8 },
  moeAttention: { numExperts: 4, k: 2, headDim: 4 },
});

function set(model: TaskMoEViT, path: string, value: tf.Tensor): void {
  model.namedWeights()[path].assign(value);
  value.dispose();
}

/** A gate whose first row strongly favours `preferred` experts, on tokens whose first feature is ≈ 4 after LN. */
function focusedGate(E: number, preferred: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const row = tf.tensor2d([Array.from({ length: E }, (_, e) => (preferred.includes(e) ? 3 : 0))]);
    return tf.concat([row, tf.randomNormal([15, E], 0, 0.2, 'float32', seed)]);
  });
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Task t's prediction and tokens from a model. */
function predict(model: TaskMoEViT, x: tf.Tensor4D, t: number) {
  const r = model.forward(x, { task: t, training: false });
  const out = model.head(t, r.tokens);
  tf.dispose(Object.values(r.auxLosses));
  return { tokens: r.tokens, out };
}

describe('selectKeptExperts', () => {
  it('keeps e when 100·u/Σu > threshold/k, and at least the top k', () => {
    // Shares 50, 30, 1, 19, 0 %: > 3/2 = 1.5 % keeps 0, 1, 3.
    expect(selectKeptExperts([50, 30, 1, 19, 0], 2)).toEqual([0, 1, 3]);
    expect(selectKeptExperts([50, 30, 1, 19, 0], 2, 0.5)).toEqual([0, 1, 2, 3]);
    // Only expert 2 used: the top k adds the next (ties → lower index).
    expect(selectKeptExperts([0, 0, 5, 0], 2)).toEqual([0, 2]);
    expect(() => selectKeptExperts([0, 0], 1)).toThrow(/no recorded expert usage/);
  });
});

describeEachBackend('extractSingleTask', () => {
  let full: TaskMoEViT;
  let ema: ExpertUsageEMA;
  let x: tf.Tensor4D;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'extract-'));
    full = new TaskMoEViT(CONFIG);
    // Task 1 ("depth") routes every token to attention experts {1, 3} and MLP experts {0, 2}: a constant
    // LN offset on feature 0 times a gate row that favours them. Task 0 uses random gates (many experts).
    set(full, 'blocks/0/ln1/beta', tf.oneHot([0], 16).mul(4).reshape([16]));
    set(full, 'blocks/1/ln2/beta', tf.oneHot([0], 16).mul(4).reshape([16]));
    set(full, 'blocks/0/attn/gate/task1/kernel', focusedGate(4, [1, 3], 1));
    set(full, 'blocks/1/mlp/router/gate/task1/kernel', focusedGate(6, [0, 2], 2));
    set(full, 'blocks/0/attn/gate/task0/kernel', tf.randomNormal([16, 4], 0, 1, 'float32', 3));
    set(full, 'blocks/1/mlp/router/gate/task0/kernel', tf.randomNormal([16, 6], 0, 1, 'float32', 4));
    x = tf.randomUniform([3, 8, 8, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    ema = new ExpertUsageEMA();
    const r = full.forwardTasks(x, { training: false });
    ema.update(r.metrics);
    tf.dispose([...r.outputs, ...Object.values(r.auxLosses)]);
  });
  afterAll(async () => {
    full.dispose();
    x.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps only the task’s experts, gate columns and head: a smaller model with the same outputs', () => {
    const [attnUsage, mlpUsage] = ema.usage();
    expect(attnUsage.usage[1].map((u) => u > 0)).toEqual([false, true, false, true]);
    expect(mlpUsage.usage[1].map((u) => u > 0)).toEqual([true, false, true, false, false, false]);
    const small = extractSingleTask(full, 1, { usage: ema });
    expect(small.config.keptExperts).toEqual({ 'block0/attention': [1, 3], 'block1/mlp': [0, 2] });
    expect(small.config.tasks).toEqual([{ name: 'depth', kind: 'dense', outChannels: 1 }]);
    const w = small.namedWeights();
    expect(w['blocks/1/mlp/experts/w1'].shape).toEqual([2, 16, 8]);
    expect(w['blocks/1/mlp/router/gate/task0/kernel'].shape).toEqual([16, 6]);
    expect(w['blocks/0/attn/query/kernel'].shape).toEqual([16, 8]);
    expect(w['blocks/0/attn/gate/task0/kernel'].shape).toEqual([16, 4]);
    expect(w.task_embedding.shape).toEqual([1, 16]);
    expect(Object.keys(w).some((p) => p.includes('task1'))).toBe(false);
    // Removed: 4 MLP experts, 2 attention experts, one task's gates, row and head (3 classes · 17).
    const mlpExpert = 16 * 8 + 8 + 8 * 16 + 16;
    const attnExpert = 16 * 4 + 4 * 16;
    const head0 = 2 * 16 + 16 * 3 + 3;
    expect(parameterCount(full) - parameterCount(small)).toBe(
      4 * mlpExpert + 2 * attnExpert + 16 * 6 + 16 * 4 + 16 + head0,
    );
    const a = predict(full, x, 1);
    const b = predict(small, x, 0);
    expect(maxDiff(a.tokens, b.tokens)).toBeLessThan(1e-5);
    expect(maxDiff(a.out, b.out)).toBeLessThan(1e-5);
    tf.dispose([a.tokens, a.out, b.tokens, b.out]);
    small.dispose();
  });

  it('the extracted model saves, loads and trains on its own, and can be extracted again', async () => {
    const small = extractSingleTask(full, 1, { usage: ema.usage() });
    const path = join(dir, 'depth.safetensors');
    await saveTaskMoEViT(path, small, { extractedFrom: 'full', task: 'depth' });
    const { model: loaded, metadata } = await loadTaskMoEViT(path);
    expect(metadata).toEqual({ extractedFrom: 'full', task: 'depth' });
    const a = predict(small, x, 0);
    const b = predict(loaded, x, 0);
    expect(maxDiff(a.out, b.out)).toBe(0);
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const r = loaded.forwardTasks(x, { training: true });
        return tf.addN([tf.mean(tf.abs(r.outputs[0])), ...Object.values(r.auxLosses)]) as tf.Scalar;
      }),
    );
    // Extracting again maps slots back to the original expert ids.
    const again = new ExpertUsageEMA();
    const r = loaded.forwardTasks(x, { training: false });
    again.update(r.metrics);
    tf.dispose([...r.outputs, ...Object.values(r.auxLosses)]);
    const twice = extractSingleTask(loaded, 0, { usage: again });
    expect(twice.config.keptExperts).toEqual({ 'block0/attention': [1, 3], 'block1/mlp': [0, 2] });
    const c = predict(twice, x, 0);
    expect(maxDiff(a.out, c.out)).toBeLessThan(1e-5);
    tf.dispose([a.tokens, a.out, b.tokens, b.out, c.tokens, c.out]);
    [small, loaded, twice].forEach((m) => m.dispose());
  });

  it('extracts a task that uses many experts, keeping at least k per layer; errors name the problem', () => {
    const label = extractSingleTask(full, 0, { usage: ema });
    const kept = label.config.keptExperts!;
    expect(kept['block1/mlp'].length).toBeGreaterThanOrEqual(2);
    expect(kept['block0/attention'].length).toBeGreaterThanOrEqual(2);
    expect(label.heads[0].constructor.name).toBe('ClassificationHead');
    label.dispose();
    expect(() => extractSingleTask(full, 2, { usage: ema })).toThrow(/task must be an integer in \[0, 2\)/);
    expect(() => extractSingleTask(full, 0, { usage: new ExpertUsageEMA() })).toThrow(
      /no usage of task 0 for layer block0\/attention/,
    );
  });
});
