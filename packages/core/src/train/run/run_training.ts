import * as tf from '@tensorflow/tfjs';
import type { AdamW } from '../adamw.js';
import type { Rng } from '../rng.js';
import { type LossFnResult, NonFiniteLossError, trainStep } from '../train_step.js';
import { CheckpointDirectory, loadTrainingCheckpoint, type TrainingState } from './checkpoint.js';
import { JsonlLog } from './jsonl_log.js';
import { Progress } from './progress.js';
import { claimRunDirectory } from './run_identity.js';
import { assertPositiveInteger } from '../../config/integer_checks.js';

/** What the runner needs from a model: weights by path, and loading them back. */
export interface TrainableModel {
  namedWeights(): Record<string, tf.Variable>;
  trainableWeights(): Record<string, tf.Variable>;
  loadWeights(tensors: Record<string, tf.Tensor>, options?: { strict?: boolean; source?: string }): void;
}

/** A data source whose position can be saved and restored (e.g. built on `BatchOrder`). */
export interface ResumableData<B> {
  next(): B;
  getState(): unknown;
  setState(state: unknown): void;
}

/**
 * The same for a source whose batches arrive asynchronously (a loader that decodes ahead in worker
 * threads, like vision's image–caption sources): `getState` is the position after the last batch `next`
 * resolved with, whatever the source has read ahead.
 */
export interface AsyncResumableData<B> {
  next(): Promise<B>;
  getState(): unknown;
  setState(state: unknown): void;
}

export interface StepContext {
  /** 0-based index of the step being computed. */
  step: number;
  rng: Rng;
  lr: number;
}

export interface RunTrainingOptions<B> {
  model: TrainableModel;
  /** The model config, stored in every checkpoint. */
  config: unknown;
  /**
   * What defines this run (config, data, seed, optimiser settings), hashed into the run directory's
   * `run.json`: a `dir` holding a run is refused without `resume`, and `resume` of a run with another
   * fingerprint is refused (`TrainingRunExistsError` / `TrainingRunMismatchError`). Default: `config`.
   */
  fingerprint?: unknown;
  /** How the run directory is named in those errors (e.g. the CLI's `--out` folder). Default `dir`. */
  dirLabel?: string;
  optimizer: AdamW;
  /** Learning rate for a 0-based step. */
  schedule: (step: number) => number;
  totalSteps: number;
  data: ResumableData<B> | AsyncResumableData<B>;
  lossFn: (batch: B, ctx: StepContext) => LossFnResult;
  /** The run's random stream; saved and restored with checkpoints. */
  rng: Rng;
  clipNorm?: number;
  /** Run directory for `step-*.safetensors` checkpoints and `log.jsonl`; nothing is written without it. */
  dir?: string;
  /** Save every N steps (and at the end). Default: only at the end. */
  checkpointEvery?: number;
  /** Continue from the latest checkpoint in `dir` (true) or from a given checkpoint file. */
  resume?: boolean | string;
  /** Stop after this step even if `totalSteps` is larger (to simulate or schedule interruptions). */
  stopAfter?: number;
  /** State of other components (adaptive controllers…) to save and restore with the run. */
  extraState?: { get(): Record<string, unknown>; set(state: Record<string, unknown>): void };
  /** Called after every step with its log record (numbers only); may return more fields to log. */
  onStep?: (record: StepRecord) => Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
  /** Show progress on stderr. Default true (a bar on a TTY, a line per 10% otherwise). */
  progress?: boolean;
  /** Frees a batch after its step (default: `tf.dispose` of any tensors in it). */
  disposeBatch?: (batch: B) => void;
  /** Keep this many checkpoints. Default 2. */
  keepCheckpoints?: number;
  /**
   * Stop between steps when aborted (Ctrl-C): a checkpoint of the last finished step is written (with a
   * `dir`) and `TrainingStoppedError` says where and how to resume.
   */
  signal?: AbortSignal;
}

export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  aux: Record<string, number>;
  ms: number;
  [key: string]: unknown;
}

export interface RunTrainingResult {
  /** Steps completed in total (including those before a resume). */
  step: number;
  /** Records of the steps this call ran. */
  records: StepRecord[];
  resumedFrom?: { step: number; path: string };
  lastCheckpoint?: string;
}

/** The loss or gradients became NaN/Inf; the weights of the failing step were not applied. */
export class TrainingDivergedError extends Error {}

/** The run was stopped through its `signal`; `checkpoint` holds the last finished step, when written. */
export class TrainingStoppedError extends Error {
  override readonly name = 'TrainingStoppedError';
  constructor(
    readonly step: number,
    readonly checkpoint: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The training loop LIMoE and multi-task training share: learning-rate schedule, `trainStep` (AdamW,
 * clipping, NaN guard, no leaks), JSONL log, progress, atomic checkpoints every N steps, and exact resume:
 * model weights, optimizer moments, the RNG stream, the data cursor and any extra state are restored, so
 * a run stopped at step N and resumed reproduces the uninterrupted run's losses.
 */
export async function runTraining<B>(options: RunTrainingOptions<B>): Promise<RunTrainingResult> {
  const { model, optimizer, data, rng, totalSteps } = options;
  assertPositiveInteger('runTraining: totalSteps', totalSteps);
  const checkpoints =
    options.dir != null ? new CheckpointDirectory(options.dir, options.keepCheckpoints ?? 2) : undefined;
  if (options.dir != null) {
    await claimRunDirectory(options.dir, options.fingerprint ?? options.config ?? null, {
      resume: options.resume !== undefined && options.resume !== false,
      label: options.dirLabel,
    });
  }
  let step = 0;
  let resumedFrom: RunTrainingResult['resumedFrom'];
  if (options.resume) {
    const path =
      typeof options.resume === 'string'
        ? options.resume
        : ((await checkpoints?.latest())?.path ?? undefined);
    if (path != null) {
      const ckpt = await loadTrainingCheckpoint(path);
      try {
        model.loadWeights(ckpt.weights, { source: path });
        optimizer.setState(ckpt.optimizer);
        rng.setState(ckpt.state.rng);
        data.setState(ckpt.state.data);
        if (ckpt.state.extra != null) options.extraState?.set(ckpt.state.extra);
      } finally {
        tf.dispose([...Object.values(ckpt.weights), ...Object.values(ckpt.optimizer.moments)]);
      }
      step = ckpt.state.step;
      resumedFrom = { step, path };
    } else if (typeof options.resume === 'string') {
      throw new Error(`runTraining: resume checkpoint ${options.resume} not found.`);
    }
  }
  const log =
    options.dir != null
      ? await JsonlLog.open(`${options.dir}/log.jsonl`, { resumeFromStep: resumedFrom ? step : undefined })
      : undefined;
  const end = Math.min(totalSteps, options.stopAfter ?? totalSteps);
  const progress = options.progress === false ? undefined : new Progress({ total: end, label: 'train' });
  const vars = model.trainableWeights();
  const records: StepRecord[] = [];
  let lastCheckpoint: string | undefined;

  const save = async () => {
    if (checkpoints == null) return;
    const state: TrainingState = {
      step,
      rng: rng.getState(),
      data: data.getState(),
      extra: options.extraState?.get(),
    };
    const optState = optimizer.getState();
    try {
      lastCheckpoint = await checkpoints.save({
        weights: model.namedWeights(),
        optimizer: optState,
        state,
        config: options.config,
      });
    } finally {
      tf.dispose(Object.values(optState.moments));
    }
  };

  while (step < end) {
    if (options.signal?.aborted) {
      await save();
      progress?.finish();
      throw new TrainingStoppedError(
        step,
        lastCheckpoint,
        lastCheckpoint
          ? `training stopped after step ${step}; the checkpoint ${lastCheckpoint} holds it — run the same command with --resume to continue.`
          : `training stopped after step ${step}; no checkpoint was written (no run directory).`,
      );
    }
    const lr = options.schedule(step);
    const batch = await data.next();
    const t0 = performance.now();
    let result;
    try {
      result = trainStep({
        vars,
        optimizer,
        lr,
        clipNorm: options.clipNorm,
        lossFn: () => options.lossFn(batch, { step, rng, lr }),
      });
    } catch (err) {
      if (err instanceof NonFiniteLossError) {
        const message = err.message;
        await log?.write({ step, event: 'diverged', message });
        progress?.finish();
        throw new TrainingDivergedError(
          `Training diverged at step ${step}: ${message}. The weights were not updated` +
            ((lastCheckpoint ?? resumedFrom?.path)
              ? `; the last good checkpoint is ${lastCheckpoint ?? resumedFrom?.path}.`
              : '.'),
          { cause: err },
        );
      }
      throw err;
    } finally {
      (options.disposeBatch ?? ((b: B) => tf.dispose(b as tf.TensorContainer)))(batch);
    }
    step += 1;
    const record: StepRecord = {
      step,
      loss: result.loss,
      lr,
      gradNorm: result.gradNorm,
      aux: result.aux,
      ms: performance.now() - t0,
    };
    const extra = await options.onStep?.(record);
    if (extra) Object.assign(record, extra);
    records.push(record);
    await log?.write(record);
    progress?.update(step, `loss ${result.loss.toFixed(4)}`);
    if (options.checkpointEvery != null && step % options.checkpointEvery === 0 && step < end) await save();
  }
  await save();
  progress?.finish();
  return { step, records, resumedFrom, lastCheckpoint };
}
