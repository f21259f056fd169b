import { createHash } from 'node:crypto';
import { fillTemplate } from '@moevl/vision';
import { Rng, type RunTrainingResult, runTraining, warmupCosine } from '@moevl/core';
import type { ContrastivePositives } from '../losses/contrastive.js';
import { LIMoEModel } from '../model/limoe_model.js';
import type { LIMoEConfig } from '../model/config.js';
import type { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';
import { trainBpe } from '../tokenizer/train.js';
import { ClassCaptionPairs, type InMemoryImages, type PairBatch } from './pair_data.js';
import { EVAL_TEMPLATES, TRAIN_TEMPLATES } from './captions.js';
import { LIMoEContrastiveStep, limoeOptimizer } from './contrastive_step.js';

export interface TrainLIMoEOptions {
  /** Model config; `vocabSize` is replaced by the trained tokenizer's size. */
  config: LIMoEConfig;
  data: InMemoryImages;
  /** Class names as written in captions. */
  classNames: readonly string[];
  /** Caption templates used in training (default `TRAIN_TEMPLATES`). */
  templates?: readonly string[];
  /**
   * Held-out templates the model will be evaluated with (default `EVAL_TEMPLATES`): every prompt they make
   * with `classNames` must fit the text context with the trained tokenizer, checked before training starts,
   * so no evaluation of the model silently cuts a class name off. Pass `[]` to skip the check.
   */
  evalTemplates?: readonly string[];
  steps: number;
  batchSize: number;
  peakLr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** Same-class pairs as positives (documented option; see `ClipLossOptions`). Default 'same-class'. */
  positives?: ContrastivePositives;
  loss?: 'clip' | 'siglip';
  /** Tokenizer vocabulary size to train. Default 256 (captions use few words). */
  vocabSize?: number;
  seed?: number;
  dir?: string;
  /** How `dir`'s run is named in errors (e.g. the CLI's `--out` folder). */
  dirLabel?: string;
  checkpointEvery?: number;
  resume?: boolean | string;
  stopAfter?: number;
  /** Stop between steps (Ctrl-C), writing a checkpoint first (core's `TrainingStoppedError`). */
  signal?: AbortSignal;
  progress?: boolean;
  onStep?: (record: Record<string, unknown>) => void;
}

export interface TrainLIMoEResult {
  model: LIMoEModel;
  tokenizer: BpeTokenizer;
  run: RunTrainingResult;
  /** Image + text tokens processed per second (mean over the run's steps). */
  tokensPerSecond: number;
  /** Estimated training FLOP/s (≈ 3 × forward FLOPs per step / step time). */
  gflopsPerSecond: number;
}

/** Forward FLOPs of one step, counting matmuls (dense MLP width, or k·H for MoE blocks with k = 1). */
export function estimateForwardFlops(c: LIMoEConfig, batch: number): number {
  const n = (c.imageSize / c.patchSize) ** 2;
  const t = n + c.contextLength;
  const tokens = batch * t;
  const h = c.mlpRatio * c.dim;
  const perTokenPerBlock = 2 * (4 * c.dim * c.dim) + 2 * (2 * c.dim * h);
  const attention = 2 * 2 * batch * c.numHeads * t * t * (c.dim / c.numHeads);
  const stem = 2 * batch * n * (c.channels * c.patchSize ** 2) * c.dim;
  const towers = c.towers === 'two' ? 1 : 1; // two towers split the same tokens between them
  return (
    towers * c.depth * (tokens * perTokenPerBlock + attention) + stem + 2 * 2 * batch * c.dim * c.embedDim
  );
}

/**
 * Trains LIMoE (or its dense / two-tower baselines, by config) contrastively on class-captioned images:
 * AdamW with warmup-cosine, global-norm clipping, the logit scale clamped to [0, ln 100] after each step,
 * and every auxiliary loss logged on its own. Logs and checkpoints go through core's `runTraining`, so a
 * stopped run resumes exactly.
 */
export async function trainLIMoE(options: TrainLIMoEOptions): Promise<TrainLIMoEResult> {
  const templates = options.templates ?? TRAIN_TEMPLATES;
  const seed = options.seed ?? options.config.seed;
  const tokenizer = trainBpe(ClassCaptionPairs.captionCorpus(options.classNames, templates), {
    vocabSize: options.vocabSize ?? 256,
  });
  const config: LIMoEConfig = { ...options.config, vocabSize: tokenizer.vocabSize, seed };
  checkPromptsFit(
    tokenizer,
    options.classNames,
    options.evalTemplates ?? EVAL_TEMPLATES,
    config.contextLength,
  );
  const model = new LIMoEModel(config);
  const data = new ClassCaptionPairs(
    options.data,
    options.classNames,
    templates,
    tokenizer,
    config.contextLength,
    options.batchSize,
    seed,
  );
  const optimizer = limoeOptimizer(options.peakLr ?? 1e-3, options.weightDecay ?? 0.05);
  const positives = options.positives ?? 'same-class';
  const lossKind = options.loss ?? 'clip';
  const step = new LIMoEContrastiveStep(model, lossKind, positives);
  const flops = 3 * estimateForwardFlops(config, options.batchSize);
  const tokensPerStep =
    options.batchSize * ((config.imageSize / config.patchSize) ** 2 + config.contextLength);
  const run = await runTraining<PairBatch>({
    model: {
      namedWeights: () => model.namedWeights(),
      trainableWeights: () => step.trainableWeights(),
      loadWeights: (t, o) => model.loadWeights(t, o),
    },
    config: { limoe: config, tokenizer: tokenizer.toJSON() },
    // What defines the run: a folder holding another configuration, data or seed is never resumed.
    fingerprint: {
      limoe: config,
      data: dataFingerprint(options.data),
      classNames: options.classNames,
      templates,
      seed,
      batchSize: options.batchSize,
      optimizer: {
        peakLr: options.peakLr ?? 1e-3,
        warmupSteps: options.warmupSteps ?? null,
        weightDecay: options.weightDecay ?? 0.05,
        clipNorm: options.clipNorm ?? 1,
      },
      positives,
      loss: lossKind,
      vocabSize: options.vocabSize ?? 256,
    },
    dirLabel: options.dirLabel,
    optimizer,
    schedule: warmupCosine({
      peakLr: options.peakLr ?? 1e-3,
      warmupSteps: options.warmupSteps ?? Math.min(200, Math.floor(options.steps / 10)),
      totalSteps: options.steps,
    }),
    totalSteps: options.steps,
    data,
    rng: new Rng(seed),
    clipNorm: options.clipNorm ?? 1,
    dir: options.dir,
    checkpointEvery: options.checkpointEvery,
    resume: options.resume,
    stopAfter: options.stopAfter,
    signal: options.signal,
    progress: options.progress,
    lossFn: step.lossFn,
    onStep: (record) => {
      const extra = step.afterStep(record, tokensPerStep, flops);
      options.onStep?.({ ...record, ...extra });
      return extra;
    },
  });
  optimizer.dispose();
  step.dispose();
  const ms = run.records.reduce((a, r) => a + r.ms, 0) / Math.max(1, run.records.length);
  return {
    model,
    tokenizer,
    run,
    tokensPerSecond: tokensPerStep / (ms / 1000),
    gflopsPerSecond: flops / (ms * 1e6),
  };
}

/** sha256 of the training images and labels, and their count: the data part of a run's fingerprint. */
function dataFingerprint(data: InMemoryImages): { count: number; side: number; sha256: string } {
  const hash = createHash('sha256');
  hash.update(data.images.subarray(0, data.count * (data.channels ?? 1) * data.side * data.side));
  hash.update(new Uint8Array(data.labels.buffer, data.labels.byteOffset, data.count * 4));
  return { count: data.count, side: data.side, sha256: hash.digest('hex') };
}

/** Every held-out prompt must fit `contextLength` (with <sot> and <eot>) under the trained tokenizer. */
export function checkPromptsFit(
  tokenizer: BpeTokenizer,
  classNames: readonly string[],
  templates: readonly string[],
  contextLength: number,
): void {
  for (const t of templates) {
    for (const c of classNames) {
      const prompt = fillTemplate(t, c);
      const tokens = tokenizer.encode(prompt).length + 2;
      if (tokens > contextLength) {
        throw new Error(
          `LIMoE: the held-out prompt "${prompt}" is ${tokens} tokens with the trained tokenizer, longer than ` +
            `the text context (${contextLength}); raise contextLength so evaluation never truncates a prompt.`,
        );
      }
    }
  }
}
