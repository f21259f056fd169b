import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelTooLargeError, readSafetensors, writeSafetensors } from '@moevl/core';
import { describe, expect, it } from 'vitest';
import { type TaskMoEViTConfigInput, type TaskMoEPreset, taskMoEViTConfig } from './config.js';
import { loadTaskMoEViT, saveTaskMoEViT } from './checkpoint.js';
import { estimateTaskMoEViTParameters } from './model_size.js';
import { TaskMoEViT } from './task_moe_vit.js';

const TASKS: TaskMoEViTConfigInput['tasks'] = [
  { name: 'label', kind: 'classification', numClasses: 3 },
  { name: 'depth', kind: 'dense', outChannels: 1 },
  { name: 'normals', kind: 'dense', outChannels: 3 },
];
const SMALL = { imageSize: 8, patchSize: 4, dim: 16, depth: 4, numHeads: 2, seed: 2, tasks: TASKS };

describe('TaskMoEViT size check', () => {
  it.each<[string, Partial<TaskMoEViTConfigInput>, TaskMoEPreset]>([
    ['Mod-Squad (MoE attention + MoE MLP, per-task gates)', {}, 'mod-squad'],
    [
      'shared gates, every block sparse',
      { moeMlp: { router: 'shared', blocks: 'all' }, moeAttention: { router: 'shared', blocks: [1, 2] } },
      'mod-squad',
    ],
    ['AdaMV (dense attention, no task embedding)', { moeMlp: { numExperts: 4, k: 2 } }, 'adamv'],
    [
      'extracted (kept experts)',
      {
        moeMlp: { k: 2 },
        moeAttention: { k: 2 },
        keptExperts: { 'block1/mlp': [0, 3, 5], 'block0/attention': [2, 4] },
      },
      'mod-squad',
    ],
    [
      'dense',
      { moeMlp: { blocks: 'none' }, moeAttention: { blocks: 'none' }, taskEmbedding: false },
      'mod-squad',
    ],
  ])('estimates the parameters of %s exactly and builds it', (_, over, preset) => {
    const config = taskMoEViTConfig({ ...SMALL, ...over }, preset);
    const model = new TaskMoEViT(config);
    expect(estimateTaskMoEViTParameters(config)).toBe(model.countParams());
    model.dispose();
  });

  it('refuses a config that cannot fit, at once and in one sentence naming the size and the limit', () => {
    const start = Date.now();
    let error: unknown;
    try {
      new TaskMoEViT(taskMoEViTConfig({ ...SMALL, dim: 1e6, depth: 1000, numHeads: 8 }));
    } catch (e) {
      error = e;
    }
    expect(Date.now() - start).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ModelTooLargeError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^TaskMoEViT model \(dim 1000000, depth 1000\) needs about [\d.]+ GiB .* more than the [\d.]+ GiB /,
    );
    expect(message.split(/\.\s/).length).toBe(1);
  });

  it('refuses a model file whose config cannot fit, before allocating', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'moevl-mtl-size-'));
    const path = join(dir, 'huge.safetensors');
    const model = new TaskMoEViT(taskMoEViTConfig(SMALL));
    await saveTaskMoEViT(path, model);
    model.dispose();
    const { tensors, metadata } = await readSafetensors(path);
    const config = { ...JSON.parse(metadata.config), dim: 1e6, depth: 1000, numHeads: 8 };
    await writeSafetensors(path, tensors, { ...metadata, config: JSON.stringify(config) });
    tf.dispose(Object.values(tensors));
    const before = tf.memory().numTensors;
    const error = await loadTaskMoEViT(path).catch((e: unknown) => e);
    await rm(dir, { recursive: true, force: true });
    expect(error).toBeInstanceOf(ModelTooLargeError);
    expect((error as Error).message).toMatch(
      /TaskMoEViT model \(dim 1000000, depth 1000\) needs about [\d.]+ GiB/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
