import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import {
  assertPositiveInteger,
  Rng,
  runTraining,
  type RunTrainingResult,
  type StepRecord,
  warmupCosine,
} from '@moevl/core';
import type { RouterSpec } from '@moevl/router';
import {
  type ImageCaptionSourceSpec,
  type SkippedSamples,
  countImageCaptions,
  openImageCaptionSource,
} from '@moevl/vision';
import type { LIMoEModelConfig } from '../configs/model_config_file.js';
import type { LIMoEMetadata } from '../io/limoe_checkpoint.js';
import type { LIMoEConfig } from '../model/config.js';
import { LIMoEModel } from '../model/limoe_model.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { type CaptionPositives, CaptionPairData } from './caption_pair_data.js';
import { tokenizerForModelConfig } from './config_tokenizer.js';
import { LIMoEContrastiveStep, limoeOptimizer } from './contrastive_step.js';
import { estimateForwardFlops } from './train_limoe.js';
import {
  type PairValidation,
  checkZeroShotPrompts,
  validateLIMoEOnPairs,
  zeroShotDuringTraining,
} from './validate_pairs.js';

/** Where pairs come from: vision's image–caption source spec, without what the trainer decides. */
export type PairsDataSpec = Omit<
  ImageCaptionSourceSpec,
  'preprocess' | 'seed' | 'augment' | 'loop' | 'shuffle' | 'signal'
>;

export interface TrainLIMoEOnPairsOptions {
  /** Shapes, tokenizer and normalisation: a preset or a JSON file (`resolveLIMoEModelConfig`). */
  modelConfig: LIMoEModelConfig;
  /** Replaces the config's MoE router (a built-in or a plugin's strategy, by name, with its options). */
  router?: RouterSpec;
  train: PairsDataSpec;
  /** Held-out pairs: loss and retrieval metrics every `valEvery` steps and at the end. */
  val?: PairsDataSpec;
  valEvery?: number;
  /** Pairs of `val` used (default all). */
  valLimit?: number;
  /** Zero-shot top-1 on an image folder every `every` steps and at the end (open_clip's --imagenet-val). */
  zeroShot?: { data: string; every?: number; templates?: string[]; limit?: number };
  /** Training length: `steps`, or `epochs` over the training data (rows with a caption, counted once). */
  steps?: number;
  epochs?: number;
  batchSize: number;
  /** open_clip's defaults: lr 5e-4, weight decay 0.2, warmup min(10,000, 10% of the steps). */
  peakLr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  clipNorm?: number;
  loss?: 'clip' | 'siglip';
  positives?: CaptionPositives;
  /** Random resized crop scale of the training images (open_clip: (0.9, 1)). */
  cropScale?: [number, number];
  seed?: number;
  dir?: string;
  dirLabel?: string;
  checkpointEvery?: number;
  resume?: boolean | string;
  stopAfter?: number;
  signal?: AbortSignal;
  progress?: boolean;
  /** Decoding threads of the training source (vision's default: cores − 1). */
  workers?: number;
  onStep?: (record: Record<string, unknown>) => void;
  /** Notes for people (tokenizer, data, validation results). */
  onLog?: (message: string) => void;
}

export interface TrainLIMoEOnPairsResult {
  model: LIMoEModel;
  tokenizer: TextTokenizer;
  /** What `saveLIMoE` stores beside the weights (the normalisation the model was trained with). */
  metadata: LIMoEMetadata;
  /** The evaluation transform of the model's images (size, RGB mean/std, channels). */
  preprocess: ImageCaptionSourceSpec['preprocess'];
  run: RunTrainingResult;
  totalSteps: number;
  /** Training samples skipped since the start of the run (restored with checkpoints). */
  skipped: SkippedSamples;
  validation?: PairValidation;
  zeroShot?: { top1: number | null; top5: number | null; images: number; classes: number };
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined) assertPositiveInteger(`trainLIMoEOnPairs: ${name}`, v, (m) => new RangeError(m));
}

/** The run's model config: the file's shapes, the tokenizer's vocabulary, the seed, the router override. */
function runConfig(options: TrainLIMoEOnPairsOptions, tokenizer: TextTokenizer, seed: number): LIMoEConfig {
  const { model } = options.modelConfig;
  let moe = model.moe;
  if (options.router !== undefined) {
    if (moe === null) {
      throw new RangeError(
        `${options.modelConfig.name} is a dense model (moe: null): a router needs a model with MoE layers.`,
      );
    }
    moe = { ...moe, router: options.router };
  }
  return { ...model, moe, vocabSize: tokenizer.vocabSize, seed };
}

/**
 * Trains LIMoE — or, by config, its dense single-tower and two-tower baselines — contrastively on your own
 * image–caption data (CSV/TSV, JSONL, WebDataset shards, an image folder), the way open_clip trains: random
 * resized crops (0.9–1) and the model's normalisation, AdamW with warmup-cosine, global-norm clipping, the
 * temperature clamped after each step, every auxiliary loss logged on its own. Data decode ahead in worker
 * threads; the loop, checkpoints, JSONL log, progress and exact resume (model, optimiser, RNG and the
 * data's position mid-epoch or mid-shard) are core's `runTraining`. Validation (open_clip's loss and
 * retrieval metrics) and zero-shot top-1 run between steps and go into the log.
 */
export async function trainLIMoEOnPairs(options: TrainLIMoEOnPairsOptions): Promise<TrainLIMoEOnPairsResult> {
  positiveInt('batchSize', options.batchSize);
  positiveInt('steps', options.steps);
  positiveInt('valEvery', options.valEvery);
  positiveInt('zeroShot.every', options.zeroShot?.every);
  if ((options.steps === undefined) === (options.epochs === undefined)) {
    throw new RangeError('trainLIMoEOnPairs: give the training length as steps or as epochs (one of them).');
  }
  if (options.epochs !== undefined && !(options.epochs > 0)) {
    throw new RangeError(`trainLIMoEOnPairs: epochs must be > 0, got ${options.epochs}.`);
  }
  const cfg = options.modelConfig;
  const seed = options.seed ?? 0;
  const log = options.onLog ?? (() => {});
  const tokenizer = await tokenizerForModelConfig(cfg, options.train);
  const config = runConfig(options, tokenizer, seed);
  let totalSteps = options.steps ?? 0;
  if (options.epochs !== undefined) {
    const rows = await countImageCaptions(options.train);
    totalSteps = Math.max(1, Math.ceil((options.epochs * rows) / options.batchSize));
    log(
      `${options.epochs} epoch(s) of ${rows.toLocaleString('en-US')} captioned samples = ${totalSteps} steps`,
    );
  }
  if (options.zeroShot) await checkZeroShotPrompts(tokenizer, config.contextLength, options.zeroShot);
  const model = new LIMoEModel(config);
  const [mean, std] = [cfg.image.mean, cfg.image.std].map((v) => (v.length === 1 ? [v[0], v[0], v[0]] : v));
  const preprocess = {
    size: config.imageSize,
    cropSize: config.imageSize,
    mean: mean as [number, number, number],
    std: std as [number, number, number],
    channels: config.channels as 1 | 3,
  };
  const metadata: LIMoEMetadata = {
    imageMean: cfg.image.mean.length === 1 ? cfg.image.mean[0] : cfg.image.mean,
    imageStd: cfg.image.std.length === 1 ? cfg.image.std[0] : cfg.image.std,
    trainedOn: `${String(options.train.path)} (${cfg.name}, seed ${seed})`,
  };
  const source = await openImageCaptionSource({
    ...options.train,
    preprocess,
    augment: { randomResizedCrop: { scale: options.cropScale ?? [0.9, 1] } },
    seed,
    loop: true,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    signal: options.signal,
  });
  log(`training data: ${source.description}`);
  const positives = options.positives ?? 'diagonal';
  const data = new CaptionPairData(source, tokenizer, config.contextLength, options.batchSize, positives);
  const peakLr = options.peakLr ?? 5e-4;
  const weightDecay = options.weightDecay ?? 0.2;
  const warmupSteps = options.warmupSteps ?? Math.min(10_000, Math.floor(totalSteps / 10));
  const optimizer = limoeOptimizer(peakLr, weightDecay);
  const step = new LIMoEContrastiveStep(
    model,
    options.loss ?? 'clip',
    positives === 'same-caption' ? 'same-class' : 'diagonal',
  );
  const flops = 3 * estimateForwardFlops(config, options.batchSize);
  const tokensPerStep =
    options.batchSize * ((config.imageSize / config.patchSize) ** 2 + config.contextLength);
  const evalPreprocess = { ...preprocess };
  let validation: PairValidation | undefined;
  let zeroShot: TrainLIMoEOnPairsResult['zeroShot'];
  const end = Math.min(totalSteps, options.stopAfter ?? totalSteps);
  const due = (every: number | undefined, s: number) => s === end || (every !== undefined && s % every === 0);
  const between = async (record: StepRecord): Promise<Record<string, unknown>> => {
    const extra: Record<string, unknown> = {};
    if (options.val && due(options.valEvery, record.step)) {
      validation = await validateLIMoEOnPairs(model, tokenizer, {
        data: options.val,
        preprocess: evalPreprocess,
        batchSize: options.batchSize,
        limit: options.valLimit,
        signal: options.signal,
      });
      const { skipped: _s, ...numbers } = validation;
      for (const [k, v] of Object.entries(numbers)) extra[`val_${k}`] = v;
      log(
        `step ${record.step}: val loss ${validation.loss.toFixed(4)}, image→text R@1 ` +
          `${validation['image_to_text_R@1'].toFixed(3)}, text→image R@1 ${validation['text_to_image_R@1'].toFixed(3)} (${validation.pairs} pairs)`,
      );
    }
    if (options.zeroShot && due(options.zeroShot.every, record.step)) {
      zeroShot = await zeroShotDuringTraining(model, tokenizer, metadata, {
        ...options.zeroShot,
        signal: options.signal,
      });
      extra.zeroshot_top1 = zeroShot.top1;
      extra.zeroshot_top5 = zeroShot.top5;
      log(
        `step ${record.step}: zero-shot top-1 ${zeroShot.top1?.toFixed(3) ?? 'n/a'} (${zeroShot.images} images, ${zeroShot.classes} classes)`,
      );
    }
    return extra;
  };
  let run: RunTrainingResult;
  try {
    run = await runTraining({
      model: {
        namedWeights: () => model.namedWeights(),
        trainableWeights: () => step.trainableWeights(),
        loadWeights: (t, o) => model.loadWeights(t, o),
      },
      config: { limoe: config, tokenizer: tokenizer.toJSON(), metadata },
      // A folder holding a run of another model, tokenizer, data, seed or optimiser is never resumed.
      fingerprint: {
        limoe: config,
        tokenizer: createHash('sha256').update(JSON.stringify(tokenizer.toJSON())).digest('hex'),
        image: cfg.image,
        train: { ...options.train, path: [options.train.path].flat().map((p) => resolve(p)) },
        seed,
        batchSize: options.batchSize,
        optimizer: { peakLr, warmupSteps, weightDecay, clipNorm: options.clipNorm ?? 1 },
        loss: options.loss ?? 'clip',
        positives,
        cropScale: options.cropScale ?? [0.9, 1],
      },
      dirLabel: options.dirLabel,
      optimizer,
      schedule: warmupCosine({ peakLr, warmupSteps, totalSteps }),
      totalSteps,
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
      onStep: async (record) => {
        const extra = { ...step.afterStep(record, tokensPerStep, flops), ...(await between(record)) };
        options.onStep?.({ ...record, ...extra });
        return extra;
      },
    });
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    step.dispose();
    await source.close();
  }
  return {
    model,
    tokenizer,
    metadata,
    preprocess: evalPreprocess,
    run,
    totalSteps,
    skipped: source.skipped,
    validation,
    zeroShot,
  };
}
