import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@moevl/core';
import { type TaskMoEViTConfig, validateTaskMoEViTConfig } from './config.js';
import { TaskMoEViT } from './task_moe_vit.js';

const FORMAT = 'moevl-task-moe-vit/1';

export interface LoadedTaskMoEViT {
  model: TaskMoEViT;
  /** What the caller stored with the model (e.g. the usage EMA, the training step, image normalisation). */
  metadata: Record<string, unknown>;
}

/**
 * A task-MoE ViT file: weights as safetensors (F32) with the config (including each task's current k and
 * any kept experts of an extracted model) and the caller's metadata as JSON in the header, so the file
 * alone rebuilds the model.
 */
export async function saveTaskMoEViT(
  path: string,
  model: TaskMoEViT,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await writeSafetensors(path, model.namedWeights(), {
    format: FORMAT,
    config: JSON.stringify(model.config),
    metadata: JSON.stringify(metadata),
  });
}

export async function loadTaskMoEViT(path: string): Promise<LoadedTaskMoEViT> {
  const { tensors, metadata } = await readSafetensors(path);
  try {
    if (metadata.format !== FORMAT) {
      throw new Error(
        `${path}: not a TaskMoEViT model file (format ${JSON.stringify(metadata.format)}, expected "${FORMAT}"); save it with saveTaskMoEViT.`,
      );
    }
    let config: TaskMoEViTConfig;
    let extra: Record<string, unknown>;
    try {
      config = JSON.parse(metadata.config) as TaskMoEViTConfig;
      extra = JSON.parse(metadata.metadata ?? '{}') as Record<string, unknown>;
    } catch {
      throw new Error(`${path}: the TaskMoEViT metadata (config) is not valid JSON; the file is damaged.`);
    }
    const model = new TaskMoEViT(validateTaskMoEViTConfig(config));
    try {
      model.loadWeights(tensors, { source: path });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { model, metadata: extra };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
