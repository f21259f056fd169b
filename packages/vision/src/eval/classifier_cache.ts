import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type FileLock, FileLockedError, acquireLock, readSafetensors, writeSafetensors } from '@moevl/core';
import type { ImageTextModel } from '../model/image_text_model.js';
import { buildCheckedClassifier } from './checked_classifier.js';
import { sha256Json } from './fingerprint.js';

/**
 * The zero-shot classifier is the expensive half of an ImageNet evaluation (1000 classes × 80 templates =
 * 80,000 texts) and depends only on (model, class names, templates), so it is built once and kept as a
 * safetensors file. Loading it back takes milliseconds; a cache file that is corrupt, truncated or for
 * another model/class list is rebuilt with a warning rather than trusted or fatal.
 */

const FORMAT = 'moevl-zero-shot-classifier/1';
const TENSOR = 'classifier';

/** `$MOEVL_CACHE_DIR`, else `$XDG_CACHE_HOME/moevl`, else `~/.cache/moevl`; then `zero-shot-classifiers`. */
export function defaultClassifierCacheDir(): string {
  const root =
    process.env.MOEVL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'moevl');
  return join(root, 'zero-shot-classifiers');
}

/** The cache key: a hash of everything the classifier depends on. */
export function classifierCacheKey(
  modelId: string,
  classNames: readonly string[],
  templates: readonly string[],
  modelHash: string | null = null,
): string {
  return sha256Json({ format: FORMAT, modelId, modelHash, classNames, templates });
}

/** Where the classifier for (model, classes, templates) lives in `cacheDir`. */
export function classifierCacheFile(
  cacheDir: string,
  modelId: string,
  classNames: readonly string[],
  templates: readonly string[],
  modelHash: string | null = null,
): string {
  return join(
    cacheDir,
    `classifier-${classifierCacheKey(modelId, classNames, templates, modelHash).slice(0, 32)}.safetensors`,
  );
}

export interface ClassifierCacheOptions {
  modelId: string;
  /** Hash of what else decides the model's text embeddings (weights, evaluation routing). */
  modelHash?: string;
  /** null: build every time and write nothing. */
  cacheDir: string | null;
  /** Texts per `embedTexts` call while building. */
  textBatchSize?: number;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /**
   * How long to wait for another process that is building the same classifier (its lock file beside the
   * cache entry), then load what it built instead of building it again. Default 6 hours.
   */
  lockWaitMs?: number;
  /** Called once when another process holds the entry and this one waits for it. */
  onWait?: (holder: { pid: number; host: string }) => void;
}

export interface ObtainedClassifier {
  /** `[D, C]`; the caller disposes it. */
  classifier: tf.Tensor2D;
  cached: boolean;
  seconds: number;
  /** The cache file read or written (undefined without a cache). */
  file?: string;
  /** What the prompt check found (truncated prompts), stored with the cache so a hit reports it too. */
  warnings: string[];
}

/** Reads a cached classifier, or says why it cannot be used (`null` reason: simply not there). */
async function readCached(
  file: string,
  key: string,
  shape: [number, number],
): Promise<{ classifier: tf.Tensor2D; warnings: string[] } | { problem: string | null }> {
  let contents;
  try {
    contents = await readSafetensors(file);
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'ENOENT') return { problem: null };
    return { problem: err instanceof Error ? err.message : String(err) };
  }
  const { tensors, metadata } = contents;
  const t = tensors[TENSOR];
  const others = Object.entries(tensors).filter(([name]) => name !== TENSOR);
  tf.dispose(others.map(([, x]) => x));
  const fail = (problem: string) => {
    t?.dispose();
    return { problem: `${file}: ${problem}` };
  };
  if (metadata.format !== FORMAT) return fail(`not a classifier cache (format ${String(metadata.format)})`);
  if (metadata.key !== key) return fail('its key does not match the model, classes and templates');
  if (!t) return fail(`no "${TENSOR}" tensor`);
  if (t.rank !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1] || t.dtype !== 'float32') {
    return fail(`classifier is ${t.dtype} [${t.shape.join(', ')}], expected float32 [${shape.join(', ')}]`);
  }
  const values = await t.data();
  if (!values.every(Number.isFinite)) return fail('classifier holds non-finite values');
  let warnings: unknown;
  try {
    warnings = JSON.parse(metadata.promptWarnings ?? 'null');
  } catch {
    warnings = null;
  }
  if (!Array.isArray(warnings) || !warnings.every((w) => typeof w === 'string')) {
    return fail('it has no prompt-check record (written by an older version)');
  }
  return { classifier: t as tf.Tensor2D, warnings };
}

/**
 * The classifier for (model, classes, templates): from `cacheDir` when a valid file is there, else built
 * with `buildZeroShotClassifier` and saved (atomically, with modelId/classes/templates in the metadata).
 * A write failure only warns: the evaluation does not need the cache to succeed.
 */
export async function loadOrBuildClassifier(
  model: ImageTextModel,
  classNames: readonly string[],
  templates: readonly string[],
  options: ClassifierCacheOptions,
): Promise<ObtainedClassifier> {
  const start = performance.now();
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const seconds = () => (performance.now() - start) / 1000;
  const modelHash = options.modelHash ?? null;
  const key = classifierCacheKey(options.modelId, classNames, templates, modelHash);
  const file =
    options.cacheDir === null
      ? undefined
      : classifierCacheFile(options.cacheDir, options.modelId, classNames, templates, modelHash);
  let lock: FileLock | undefined;
  if (file !== undefined) {
    const hit = async () => {
      const cached = await readCached(file, key, [model.embeddingDim, classNames.length]);
      if (!('classifier' in cached)) return cached.problem;
      options.onProgress?.(classNames.length, classNames.length);
      return {
        classifier: cached.classifier,
        cached: true,
        seconds: seconds(),
        file,
        warnings: cached.warnings,
      } satisfies ObtainedClassifier;
    };
    const first = await hit();
    if (first !== null && typeof first === 'object') return first;
    // Not there: build it under the entry's lock, so N shards starting together build it once — the
    // others wait, then load what the first one wrote. Looked up again once the lock is held, waited or
    // not: another process may have built it and let go between the first look and taking the lock.
    let locked = false;
    try {
      await mkdir(options.cacheDir!, { recursive: true });
      lock = await acquireLock(`${file}.lock`);
      locked = true;
    } catch (err) {
      if (err instanceof FileLockedError) {
        locked = true;
        options.onWait?.(err.holder);
        lock = await acquireLock(`${file}.lock`, { waitMs: options.lockWaitMs ?? 6 * 3600_000, pollMs: 500 });
      } else {
        // An unwritable cache only costs the sharing: build without the lock (the write will warn).
        lock = undefined;
      }
    }
    const second = locked ? await hit() : first;
    if (second !== null && typeof second === 'object') {
      await lock?.release();
      return second;
    }
    if (second !== null) warn(`Ignoring the classifier cache (${second}); rebuilding it.`);
  }
  try {
    const { classifier, warnings } = await buildCheckedClassifier(model, classNames, templates, {
      batchSize: options.textBatchSize,
      onProgress: options.onProgress,
    });
    if (file !== undefined) {
      try {
        await writeSafetensors(
          file,
          { [TENSOR]: classifier },
          {
            format: FORMAT,
            key,
            modelId: options.modelId,
            classes: String(classNames.length),
            classNamesHash: sha256Json(classNames),
            templates: String(templates.length),
            templatesHash: sha256Json(templates),
            embeddingDim: String(model.embeddingDim),
            promptWarnings: JSON.stringify(warnings),
          },
        );
      } catch (err) {
        warn(
          `Could not write the classifier cache ${file}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    return { classifier, cached: false, seconds: seconds(), file, warnings };
  } finally {
    await lock?.release();
  }
}
