import { loadModelFile, saveModelFile } from '@moevl/core';
import { type TaskMoEViTConfig, validateTaskMoEViTConfig } from './config.js';
import { TaskMoEViT } from './task_moe_vit.js';

/** The model-file format of task-MoE ViTs (core's `saveModelFile`): `moevl-task-moe-vit/1`. */
export const TASK_MOE_VIT_FORMAT = 'moevl-task-moe-vit';

export interface LoadedTaskMoEViT {
  model: TaskMoEViT;
  /** What the caller stored with the model (e.g. the usage EMA, the training step, image normalisation). */
  metadata: Record<string, unknown>;
}

/**
 * A task-MoE ViT file: weights with the config (including each task's current k and any kept experts of
 * an extracted model) and the caller's metadata in the header, so the file alone rebuilds the model.
 */
export async function saveTaskMoEViT(
  path: string,
  model: TaskMoEViT,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await saveModelFile(path, model.namedWeights(), {
    format: TASK_MOE_VIT_FORMAT,
    version: 1,
    config: model.config,
    extras: { metadata },
  });
}

export async function loadTaskMoEViT(path: string): Promise<LoadedTaskMoEViT> {
  const { model, extras } = await loadModelFile(path, {
    format: TASK_MOE_VIT_FORMAT,
    what: 'TaskMoEViT model file',
    hint: 'save it with saveTaskMoEViT',
    validate: (config) => validateTaskMoEViTConfig(config as TaskMoEViTConfig),
    build: (config) => new TaskMoEViT(config),
  });
  return { model, metadata: (extras.metadata ?? {}) as Record<string, unknown> };
}
