import * as tf from '@tensorflow/tfjs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../io/safetensors_file.js';
import type { AdamW } from '../adamw.js';

/** Everything besides tensors that a run needs to continue exactly where it stopped. */
export interface TrainingState {
  /** Optimisation steps completed. */
  step: number;
  /** `Rng.getState()` of the run's random stream (routing noise, shuffling, augmentation). */
  rng: number[];
  /** The data loader's cursor (epoch, position, shuffle seed). */
  data: unknown;
  /** Anything else a trainer keeps (e.g. an adaptive-expert controller, per-task k). */
  extra?: Record<string, unknown>;
}

export interface TrainingCheckpoint {
  /** Model weights by path. */
  weights: Record<string, tf.Tensor>;
  /** Optimizer moments (`m/…`, `v/…`, `step/…`) and step, as `AdamW.getState()` gives them. */
  optimizer: { step: number; moments: Record<string, tf.Tensor> };
  state: TrainingState;
  /** The model config (JSON-serialisable), so the checkpoint alone rebuilds the model. */
  config: unknown;
}

const FORMAT = 'moevl-training-checkpoint/1';

/**
 * One safetensors file per checkpoint: `model/<path>` and `optim/<name>` tensors, and in the metadata the
 * format, config, state and optimizer step as JSON. A single file written through a temp file and a
 * rename is atomic, so an interrupted save leaves the previous checkpoint intact.
 */
export async function saveTrainingCheckpoint(path: string, ckpt: TrainingCheckpoint): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(ckpt.weights)) tensors[`model/${k}`] = v;
  for (const [k, v] of Object.entries(ckpt.optimizer.moments)) tensors[`optim/${k}`] = v;
  await writeSafetensors(path, tensors, {
    format: FORMAT,
    config: JSON.stringify(ckpt.config ?? null),
    state: JSON.stringify(ckpt.state),
    optimizerStep: String(ckpt.optimizer.step),
  });
}

/** Reads a checkpoint written by `saveTrainingCheckpoint`; the caller owns (and disposes) the tensors. */
export async function loadTrainingCheckpoint(path: string): Promise<TrainingCheckpoint> {
  const { tensors, metadata } = await readSafetensors(path);
  const fail = (problem: string): never => {
    tf.dispose(Object.values(tensors));
    throw new Error(`${path}: ${problem}. Is this a moevl training checkpoint?`);
  };
  if (metadata.format !== FORMAT) fail(`format is ${JSON.stringify(metadata.format)}, expected "${FORMAT}"`);
  let state: TrainingState;
  let config: unknown;
  try {
    state = JSON.parse(metadata.state) as TrainingState;
    config = JSON.parse(metadata.config);
  } catch {
    return fail('state or config metadata is not valid JSON');
  }
  if (!Number.isInteger(state.step) || state.step < 0 || !Array.isArray(state.rng))
    fail('state is malformed');
  const weights: Record<string, tf.Tensor> = {};
  const moments: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (k.startsWith('model/')) weights[k.slice(6)] = v;
    else if (k.startsWith('optim/')) moments[k.slice(6)] = v;
    else fail(`unexpected tensor "${k}"`);
  }
  return { weights, optimizer: { step: Number(metadata.optimizerStep ?? 0), moments }, state, config };
}

/** Step-numbered checkpoint files in a run directory, with the latest found by name. */
export class CheckpointDirectory {
  constructor(
    readonly dir: string,
    /** How many of the newest checkpoints to keep; older ones are deleted after a successful save. */
    readonly keep = 2,
  ) {}

  pathFor(step: number): string {
    return join(this.dir, `step-${String(step).padStart(8, '0')}.safetensors`);
  }

  async list(): Promise<Array<{ step: number; path: string }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => /^step-(\d{8})\.safetensors$/.exec(n))
      .filter((m): m is RegExpExecArray => m != null)
      .map((m) => ({ step: Number(m[1]), path: join(this.dir, m[0]) }))
      .sort((a, b) => a.step - b.step);
  }

  async latest(): Promise<{ step: number; path: string } | undefined> {
    const all = await this.list();
    return all[all.length - 1];
  }

  async save(ckpt: TrainingCheckpoint): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathFor(ckpt.state.step);
    await saveTrainingCheckpoint(path, ckpt);
    const all = await this.list();
    for (const old of all.slice(0, Math.max(0, all.length - this.keep))) await rm(old.path, { force: true });
    return path;
  }
}

/** `AdamW.getState()` moments keyed for a checkpoint, and the reverse. */
export function optimizerCheckpointState(optimizer: AdamW): TrainingCheckpoint['optimizer'] {
  return optimizer.getState();
}
