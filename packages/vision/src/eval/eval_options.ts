import { assertIndex, assertPositiveInteger, ConfigReader } from '@moevl/core';
import type { ImageTextModel } from '../model/image_text_model.js';
import { defaultClassifierCacheDir } from './classifier_cache.js';
import { ZeroShotEvalError } from './eval_error.js';
import type { EvalSource } from './eval_source.js';

export interface ZeroShotEvalOptions {
  model: ImageTextModel;
  /** Used in cache keys and reports. */
  modelId: string;
  /**
   * What else identifies the model's outputs besides `modelId` (a hash of its weights, …), hashed into the
   * classifier cache key and the resume fingerprint. The model's evaluation routing is added to it.
   */
  modelFingerprint?: unknown;
  source: EvalSource;
  /** Names put into templates. */
  classNames: string[];
  templates: string[];
  /** e.g. 'openai80', for reports. */
  templatesName?: string;
  /** Images per batch, default 32. */
  batchSize?: number;
  /** Evaluate a seeded, class-balanced sample of this many items. */
  limit?: number;
  /** Default 0. */
  seed?: number;
  /** Deterministic 1/n of the (sampled) items: item k goes to shard k % n after a seeded shuffle. */
  shard?: { index: number; count: number };
  /** Partial predictions for resume/shards live here (predictions.jsonl + state), atomically/append-only. */
  workDir?: string;
  /** Continue from workDir's partial predictions without recomputing them. */
  resume?: boolean;
  /**
   * Classifier cache (safetensors keyed by a hash of modelId + classNames + templates); null disables.
   * Default `defaultClassifierCacheDir()`.
   */
  cacheDir?: string | null;
  /** An unreadable image fails the run (ZeroShotEvalError) instead of being skipped. */
  strict?: boolean;
  /** Predictions kept per image, default 5. */
  topK?: number;
  onProgress?: (e: { phase: 'classifier' | 'images'; done: number; total: number }) => void;
  /** Stop between batches, keeping partial predictions (the run then throws a ZeroShotEvalError 'aborted'). */
  signal?: AbortSignal;
  /** Texts per `embedTexts` call while building the classifier (default 256). */
  textBatchSize?: number;
  /** Non-fatal problems (corrupt cache rebuilt, torn work-dir line); default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Notes for people that are not problems (waiting for another process building the classifier). */
  onLog?: (message: string) => void;
}

/** Options with defaults applied and everything checked, so nothing fails after expensive work started. */
export interface ResolvedEvalOptions {
  batchSize: number;
  topK: number;
  seed: number;
  cacheDir: string | null;
  /** Global class index of each classifier column: the source's subset, or every class. */
  columns: number[];
  isSubset: boolean;
}

function bad(message: string): never {
  throw new ZeroShotEvalError(message, { code: 'bad-option' });
}

const badOption = (message: string) => new ZeroShotEvalError(message, { code: 'bad-option' });

/** Validates `options` (throwing ZeroShotEvalError 'bad-option') and fills in defaults. */
export function resolveEvalOptions(options: ZeroShotEvalOptions): ResolvedEvalOptions {
  const { source, classNames, templates } = options;
  if (typeof options.modelId !== 'string' || options.modelId === '')
    bad('modelId must be a non-empty string.');
  if (!Array.isArray(classNames) || classNames.length === 0) bad('classNames must list at least one class.');
  if (!Array.isArray(templates) || templates.length === 0) bad('templates must list at least one template.');
  const noPlaceholder = templates.find((t) => !t.includes('{}') && !t.includes('{c}'));
  if (noPlaceholder !== undefined)
    bad(`template "${noPlaceholder}" has no {} placeholder for the class name.`);
  if (!Number.isInteger(source.count) || source.count < 0)
    bad(`source ${source.name}: bad count ${source.count}.`);
  if (source.labels.length < source.count) {
    bad(`source ${source.name}: ${source.labels.length} labels for ${source.count} items.`);
  }
  const numbers = new ConfigReader({ ...options }, { error: badOption });
  const batchSize = numbers.positiveInt('batchSize', 32);
  const topK = numbers.positiveInt('topK', 5);
  numbers.optionalPositiveInt('limit');
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) bad(`seed must be a safe integer, got ${seed}.`);
  if (options.shard !== undefined) {
    const { index, count } = options.shard;
    assertPositiveInteger('shard count', count, badOption);
    assertIndex('shard index', index, count, undefined, badOption);
  }
  if (options.resume && !options.workDir) bad('resume needs a workDir holding the partial predictions.');
  const subset = source.classIndices;
  if (subset !== undefined) {
    if (subset.length === 0) bad(`source ${source.name}: classIndices is empty.`);
    const wrong = subset.find((c) => !Number.isInteger(c) || c < 0 || c >= classNames.length);
    if (wrong !== undefined) {
      bad(`source ${source.name}: class index ${wrong} is outside the ${classNames.length} class names.`);
    }
    if (new Set(subset).size !== subset.length) bad(`source ${source.name}: classIndices has duplicates.`);
  }
  return {
    batchSize,
    topK,
    seed,
    cacheDir: options.cacheDir === undefined ? defaultClassifierCacheDir() : options.cacheDir,
    columns: subset ? [...subset] : classNames.map((_, c) => c),
    isSubset: subset !== undefined,
  };
}
