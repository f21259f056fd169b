import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger, BatchOrder, type BatchOrderState, Rng } from '@moevl/core';
import type { TaskSpec } from '../heads/index.js';
import { FASHION_COARSE_NAMES, FASHION_COARSE_OF_CLASS } from './coarse_labels.js';
import type { MultiTaskBatch, MultiTaskData, MultiTaskEvalSource } from './multi_task_data.js';
import { sobelMagnitude } from './sobel.js';

/**
 * A multi-task benchmark on the same Fashion-MNIST images. The input is the image with additive Gaussian
 * noise; the four tasks read it at different levels, so they compete for the backbone:
 * - `category`: the 10 classes (hard: shirts, T-shirts, pullovers and coats look alike);
 * - `coarse`: 4 silhouette groups (`FASHION_COARSE_NAMES`, easy);
 * - `edges`: the Sobel magnitude of the CLEAN image (dense, L1);
 * - `denoise`: the clean image (dense, L1).
 *
 * Splits: `validation` is carved from the train split (the last `validationPerClass` images of each class),
 * used for AES and model selection; `test` is the fixed Fashion-MNIST test split, never used for a decision.
 * Noise is fixed per image on validation and test (seeded by the image's index), and fresh on every draw in
 * training, from the stream's own `Rng` whose state is part of `getState()`, so a resumed run sees the
 * noise the uninterrupted run would have seen.
 */

export type FashionTaskName = 'category' | 'coarse' | 'edges' | 'denoise';
export const FASHION_TASK_NAMES: readonly FashionTaskName[] = ['category', 'coarse', 'edges', 'denoise'];

/** Fashion-MNIST's pixel statistics (on [0, 1]); inputs are normalised with them after the noise. */
export const FASHION_PIXEL_MEAN = 0.286;
export const FASHION_PIXEL_STD = 0.353;

/** Grayscale images as `@moevl/vision`'s `loadFashionMnist` returns them. */
export interface GrayscaleImages {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

export interface FashionMultiTaskOptions {
  train: GrayscaleImages;
  test: GrayscaleImages;
  /** Which tasks, in this order. Default all four (`FASHION_TASK_NAMES`). */
  tasks?: readonly FashionTaskName[];
  /** Train images per class held out as the validation split. Default 100 (≈1.7% of train, upstream 1%). */
  validationPerClass?: number;
  /** Standard deviation of the input noise, in [0, 1] pixel units. Default 0.3. */
  noiseStd?: number;
  /** Seeds the fixed validation/test noise. Default 0. */
  seed?: number;
}

export interface FashionMultiTaskBenchmark {
  taskSpecs: TaskSpec[];
  /** Indices into `options.train` of the training and validation images (disjoint). */
  trainIndices: number[];
  validationIndices: number[];
  /** A resumable training stream: shuffled batches, fresh noise per draw. */
  trainStream(batchSize: number, seed: number): MultiTaskData;
  validation: MultiTaskEvalSource;
  test: MultiTaskEvalSource;
}

export function fashionTaskSpec(name: FashionTaskName): TaskSpec {
  switch (name) {
    case 'category':
      return { name, kind: 'classification', numClasses: 10 };
    case 'coarse':
      return { name, kind: 'classification', numClasses: FASHION_COARSE_NAMES.length };
    case 'edges':
    case 'denoise':
      return { name, kind: 'dense', outChannels: 1, loss: 'l1' };
    default:
      throw new Error(
        `Unknown Fashion-MNIST task "${String(name)}"; use one of ${FASHION_TASK_NAMES.join(', ')}.`,
      );
  }
}

/** The last `perClass` images of each class of `labels` (in order), and the rest. */
export function splitLastPerClass(
  labels: Int32Array,
  perClass: number,
): { kept: number[]; heldOut: number[] } {
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  });
  const heldOut = new Set<number>();
  for (const [c, idx] of byClass) {
    if (idx.length <= perClass) {
      throw new Error(
        `validationPerClass (${perClass}) must be smaller than the ${idx.length} train images of class ${c}; lower it or load more images.`,
      );
    }
    idx.slice(idx.length - perClass).forEach((i) => heldOut.add(i));
  }
  const kept: number[] = [];
  for (let i = 0; i < labels.length; i++) if (!heldOut.has(i)) kept.push(i);
  return { kept, heldOut: [...heldOut].sort((a, b) => a - b) };
}

/** Builds the benchmark's splits and streams (see the module comment). */
export function fashionMultiTask(options: FashionMultiTaskOptions): FashionMultiTaskBenchmark {
  const tasks = [...(options.tasks ?? FASHION_TASK_NAMES)];
  if (tasks.length === 0) throw new Error('fashionMultiTask: tasks must name at least one task.');
  if (new Set(tasks).size !== tasks.length)
    throw new Error(`fashionMultiTask: tasks repeat a name: ${tasks.join(', ')}.`);
  const taskSpecs = tasks.map(fashionTaskSpec);
  const noiseStd = options.noiseStd ?? 0.3;
  if (!(noiseStd >= 0)) throw new Error(`fashionMultiTask: noiseStd must be ≥ 0, got ${noiseStd}.`);
  const seed = options.seed ?? 0;
  const { kept, heldOut } = splitLastPerClass(options.train.labels, options.validationPerClass ?? 100);
  const render = new BatchRenderer(tasks, noiseStd);
  // One generator per (seed, split, image): the noise of an image never depends on batch size or order.
  const fixedNoise = (split: number) => (index: number) => new Rng((seed * 4 + split) * 100_000_000 + index);
  const evalSource = (images: GrayscaleImages, indices: number[], split: number): MultiTaskEvalSource => ({
    taskSpecs,
    count: indices.length,
    *batches(batchSize: number) {
      assertPositiveInteger('batches: batchSize', batchSize);
      for (let s = 0; s < indices.length; s += batchSize) {
        const idx = indices.slice(s, s + batchSize);
        yield render.batch(images, idx, (_, i) => fixedNoise(split)(i));
      }
    },
  });
  const allTest = Array.from({ length: options.test.count }, (_, i) => i);
  return {
    taskSpecs,
    trainIndices: kept,
    validationIndices: heldOut,
    trainStream: (batchSize, streamSeed) =>
      new FashionTrainStream(options.train, kept, render, taskSpecs, batchSize, streamSeed),
    validation: evalSource(options.train, heldOut, 1),
    test: evalSource(options.test, allTest, 2),
  };
}

/** Shuffled training batches with fresh noise; state = batch cursor + noise stream. */
class FashionTrainStream implements MultiTaskData {
  private readonly order: BatchOrder;
  private readonly rng: Rng;

  constructor(
    private readonly images: GrayscaleImages,
    private readonly indices: number[],
    private readonly render: BatchRenderer,
    readonly taskSpecs: readonly TaskSpec[],
    batchSize: number,
    seed: number,
  ) {
    this.order = new BatchOrder(indices.length, batchSize, seed);
    this.rng = new Rng(seed * 2_654_435_761 + 17);
  }

  next(): MultiTaskBatch {
    const idx = this.order.next().map((i) => this.indices[i]);
    return this.render.batch(this.images, idx, () => this.rng);
  }

  getState(): { order: BatchOrderState; noise: number[] } {
    return { order: this.order.getState(), noise: this.rng.getState() };
  }

  setState(state: unknown): void {
    const s = state as { order?: BatchOrderState; noise?: number[] };
    if (s?.order == null || s.noise == null) {
      throw new Error(
        `Fashion multi-task stream: malformed state ${JSON.stringify(state)}; was it saved by this stream?`,
      );
    }
    this.order.setState(s.order);
    this.rng.setState(s.noise);
  }
}

/** Turns image indices into inputs and per-task targets (all on the CPU, then one tensor per field). */
class BatchRenderer {
  constructor(
    private readonly tasks: readonly FashionTaskName[],
    private readonly noiseStd: number,
  ) {}

  batch(data: GrayscaleImages, idx: number[], noiseFor: (row: number, index: number) => Rng): MultiTaskBatch {
    const { height: h, width: w } = data;
    const px = h * w;
    const n = idx.length;
    const input = new Float32Array(n * px);
    const clean = new Float32Array(n * px);
    idx.forEach((index, r) => {
      const rng = noiseFor(r, index);
      for (let i = 0; i < px; i++) {
        const v = data.images[index * px + i] / 255;
        clean[r * px + i] = v;
        const noisy = this.noiseStd > 0 ? v + this.noiseStd * rng.normal() : v;
        input[r * px + i] = (noisy - FASHION_PIXEL_MEAN) / FASHION_PIXEL_STD;
      }
    });
    const targets = this.tasks.map((task) => {
      switch (task) {
        case 'category':
          return tf.tensor1d(
            idx.map((i) => data.labels[i]),
            'int32',
          );
        case 'coarse':
          return tf.tensor1d(
            idx.map((i) => FASHION_COARSE_OF_CLASS[data.labels[i]]),
            'int32',
          );
        case 'denoise':
          return tf.tensor4d(clean, [n, h, w, 1]);
        case 'edges': {
          const edges = new Float32Array(n * px);
          for (let r = 0; r < n; r++)
            edges.set(sobelMagnitude(clean.subarray(r * px, (r + 1) * px), h, w), r * px);
          return tf.tensor4d(edges, [n, h, w, 1]);
        }
      }
    });
    return { images: tf.tensor4d(input, [n, h, w, 1]), targets };
  }
}
