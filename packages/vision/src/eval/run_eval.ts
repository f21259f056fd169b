import * as tf from '@tensorflow/tfjs';
import { matmulPath } from '@moevl/core';
import type { ImageTextModel } from '../model/image_text_model.js';
import { zeroShotLogits } from '../zeroshot/evaluate.js';
import { loadOrBuildClassifier } from './classifier_cache.js';
import { ZeroShotEvalError } from './eval_error.js';
import { type ZeroShotEvalOptions, resolveEvalOptions } from './eval_options.js';
import { metricsFromPredictions } from '../zeroshot/metrics.js';
import {
  type SkippedItem,
  type ZeroShotEvalResult,
  type ZeroShotPrediction,
  type ZeroShotSampling,
} from './eval_result.js';
import type { EvalSource, EvalSourceBatch } from './eval_source.js';
import { sha256Json } from './fingerprint.js';
import { evalModelHash } from './prepare_classifier.js';
import { NonFiniteScoreError, rankPredictions } from '../zeroshot/rank_predictions.js';
import { classBalancedSample, shardItems } from './sampling.js';
import { type BatchRecord, PartialPredictions, type RunFingerprint } from './work_dir.js';

/**
 * `zero-shot eval` as a library call, open_clip's three steps: build the classifier once (or load it from
 * the cache), embed images batch by batch, and score. Only predictions are kept — the label's rank and
 * the top-k classes per image — and every metric is computed from them at the end, which is what makes a
 * resumed run and merged shards give exactly the numbers of one uninterrupted run.
 *
 * Batches are fixed slices of the run's items, so a resumed run (same batch size) embeds exactly the
 * batches the uninterrupted run would have. The next batch is requested before the model embeds the
 * current one, but onnxruntime-node runs a session on the JS thread, so only the file reads and decodes
 * already handed to libuv's pool overlap with inference (decoding on a worker thread was tried: on 2
 * shared cores it slowed the ONNX Runtime threads more than it saved; see the zero-shot CLI's README).
 * Every tensor is disposed as soon as its scores are read.
 */
export async function runZeroShotEval(options: ZeroShotEvalOptions): Promise<ZeroShotEvalResult> {
  const start = performance.now();
  const resolved = resolveEvalOptions(options);
  const { model, source, classNames, templates, signal } = options;
  const { batchSize, topK, seed, columns } = resolved;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    (options.onWarning ?? ((m: string) => console.warn(m)))(message);
  };

  const everything = Array.from({ length: source.count }, (_, i) => i);
  const selected =
    options.limit === undefined ? everything : classBalancedSample(source.labels, options.limit, seed);
  const items = options.shard ? shardItems(selected, options.shard, seed) : selected;
  checkLabels(items, source.labels, classNames.length, new Set(columns), source.name);

  // The routing of an MoE model changes its outputs: part of what the cache and resume must match.
  const modelHash = evalModelHash(model, options.modelFingerprint);
  const hashes = {
    classNames: sha256Json(classNames),
    templates: sha256Json(templates),
    model: modelHash,
    items: sha256Json(selected.map((i) => [source.id(i), source.labels[i]])),
  };
  const sampling: ZeroShotSampling = {
    datasetItems: source.count,
    selected: selected.length,
    ...(options.limit !== undefined && { limit: options.limit }),
    seed,
  };
  const fingerprint: RunFingerprint = {
    version: 2,
    dataset: source.name,
    model: options.modelId,
    modelHash,
    classes: classNames.length,
    classNamesHash: hashes.classNames,
    templatesHash: hashes.templates,
    classIndices: resolved.isSubset ? columns : null,
    topK,
    sampling: { datasetItems: source.count, selected: selected.length, limit: options.limit ?? null, seed },
    shard: options.shard ?? null,
    items: items.length,
    itemsHash: sha256Json(items.map((i) => [i, source.id(i), source.labels[i]])),
  };
  const store = options.workDir
    ? await PartialPredictions.open(options.workDir, fingerprint, { resume: options.resume === true })
    : undefined;
  store?.notes.forEach(warn);
  try {
    model.routing?.reset();
    const predictions: ZeroShotPrediction[] = [];
    const skipped: SkippedItem[] = [];
    const done = new Set<number>();
    const itemSet = new Set(items);
    for (const record of store?.finished ?? []) {
      for (const entry of [...record.predictions, ...record.skipped]) {
        if (!itemSet.has(entry.index) || done.has(entry.index)) {
          throw new ZeroShotEvalError(
            `${store!.files.predictions}: item ${entry.index} is not part of this run or appears twice; ` +
              'the file was edited or mixed with another run. Run without resume to start over.',
            { code: 'work-dir-mismatch', file: store!.files.predictions },
          );
        }
        done.add(entry.index);
      }
      predictions.push(...record.predictions);
      skipped.push(...record.skipped);
    }

    const batches: Array<{ batch: number; indices: number[] }> = [];
    for (let b = 0; b * batchSize < items.length; b++) {
      const indices = items.slice(b * batchSize, (b + 1) * batchSize).filter((i) => !done.has(i));
      if (indices.length > 0) batches.push({ batch: b, indices });
    }

    const progress = (phase: 'classifier' | 'images', doneCount: number, total: number) =>
      options.onProgress?.({ phase, done: doneCount, total });
    let classifierSeconds = 0;
    let classifierCached = false;
    let imageSeconds = 0;
    let embedded = 0;
    if (batches.length > 0) {
      if (signal?.aborted) throw aborted(done.size, items.length, options.workDir, signal);
      const obtained = await loadOrBuildClassifier(
        model,
        columns.map((c) => classNames[c]),
        templates,
        {
          modelId: options.modelId,
          modelHash: modelHash ?? undefined,
          cacheDir: resolved.cacheDir,
          textBatchSize: options.textBatchSize,
          onProgress: (d, t) => progress('classifier', d, t),
          onWarning: warn,
          onWait: (h) =>
            options.onLog?.(
              `waiting for process ${h.pid} on ${h.host}, which is building this classifier, to load it from the cache…`,
            ),
        },
      );
      classifierSeconds = obtained.seconds;
      classifierCached = obtained.cached;
      obtained.warnings.forEach(warn);
      const ctx: ScoringContext = {
        model,
        source,
        classifier: obtained.classifier,
        columns,
        topK,
        strict: options.strict === true,
        modelId: options.modelId,
        workDir: options.workDir,
      };
      const imagesStart = performance.now();
      // A prefetch may fail (or be stopped by the signal) while the batch before it is scored: a handler
      // attached at once keeps that from being an unhandled rejection, which ends the process; the error
      // still reaches whoever awaits the batch.
      const load = (indices: number[]) => {
        const batch = source.loadBatch(indices, model.preprocess);
        batch.catch(() => undefined);
        return batch;
      };
      let next: Promise<EvalSourceBatch> | null = load(batches[0].indices);
      try {
        progress('images', done.size, items.length);
        for (let b = 0; b < batches.length; b++) {
          if (signal?.aborted) throw aborted(done.size, items.length, options.workDir, signal);
          let got: EvalSourceBatch;
          try {
            got = await next!;
          } catch (err) {
            // A read stopped by the signal: the same message as a stop between batches.
            if (signal?.aborted) throw aborted(done.size, items.length, options.workDir, signal);
            throw err;
          }
          next = b + 1 < batches.length ? load(batches[b + 1].indices) : null;
          let record: BatchRecord;
          try {
            record = await scoreBatch(ctx, got, batches[b]);
          } finally {
            got.pixels?.dispose();
          }
          await store?.append(record);
          predictions.push(...record.predictions);
          skipped.push(...record.skipped);
          embedded += record.predictions.length;
          for (const i of batches[b].indices) done.add(i);
          progress('images', done.size, items.length);
        }
      } finally {
        obtained.classifier.dispose();
        // A prefetched batch nobody will use (stopped or failed): free its pixels, ignore its errors.
        if (next)
          await next.then(
            (r) => r.pixels?.dispose(),
            () => undefined,
          );
      }
      imageSeconds = (performance.now() - imagesStart) / 1000;
    } else {
      progress('images', done.size, items.length);
    }

    predictions.sort((a, b) => a.index - b.index);
    skipped.sort((a, b) => a.index - b.index);
    const seconds = (performance.now() - start) / 1000;
    return {
      dataset: source.name,
      model: options.modelId,
      templates: templates.length,
      ...(options.templatesName !== undefined && { templatesName: options.templatesName }),
      classes: classNames.length,
      metrics: metricsFromPredictions(predictions, classNames.length, columns.length),
      counts: {
        items: items.length,
        evaluated: predictions.length,
        skipped: skipped.length,
        skippedFiles: skipped,
      },
      timing: {
        seconds,
        imagesPerSecond: imageSeconds > 0 ? embedded / imageSeconds : 0,
        classifierSeconds,
        classifierCached,
        imageSeconds,
      },
      ...(options.shard && { shard: { ...options.shard } }),
      predictions,
      ...(resolved.isSubset && { classIndices: [...columns] }),
      topK,
      sampling,
      hashes,
      warnings,
      ...(model.routing && { routing: model.routing.report() }),
      engine: { backend: tf.getBackend(), matmul: matmulPath().name },
    };
  } finally {
    await store?.close();
  }
}

/** A model that can embed a plain NCHW buffer directly (TransformersClipModel). */
interface RawPixelModel {
  embedPixelData(data: Float32Array, shape: readonly number[]): Promise<tf.Tensor2D>;
}

/** What scoring a batch needs from the run. */
interface ScoringContext {
  model: ImageTextModel;
  source: EvalSource;
  classifier: tf.Tensor2D;
  columns: number[];
  topK: number;
  strict: boolean;
  modelId: string;
  workDir?: string;
}

/** Embeds one loaded batch and reduces its logits to predictions (and lists its unreadable items). */
async function scoreBatch(
  ctx: ScoringContext,
  got: EvalSourceBatch,
  wanted: { batch: number; indices: number[] },
): Promise<BatchRecord> {
  const { model, source } = ctx;
  const first = got.errors[0];
  if (ctx.strict && first !== undefined) {
    const id = source.id(first.index);
    throw new ZeroShotEvalError(
      `cannot read ${id}: ${first.message} (strict mode stops at unreadable images)`,
      {
        code: 'unreadable-image',
        file: id,
      },
    );
  }
  const requested = new Set(wanted.indices);
  const rows = got.pixels?.shape[0] ?? 0;
  if (rows !== got.loaded.length || !got.loaded.every((i) => requested.has(i))) {
    throw new ZeroShotEvalError(
      `source ${source.name} returned ${rows} images for items [${got.loaded.join(', ')}] ` +
        `when asked for [${wanted.indices.join(', ')}].`,
    );
  }
  const skipped = got.errors.map((e) => ({ id: source.id(e.index), message: e.message, index: e.index }));
  if (got.pixels === null || rows === 0) return { batch: wanted.batch, predictions: [], skipped };
  const raw = model as Partial<RawPixelModel>;
  const embeddings =
    got.pixelData !== undefined && typeof raw.embedPixelData === 'function'
      ? await raw.embedPixelData(got.pixelData, got.pixels.shape)
      : await model.embedImages(got.pixels);
  let scores: ArrayLike<number>;
  try {
    const logits = zeroShotLogits(embeddings, ctx.classifier, model.logitScale);
    try {
      scores = await logits.data();
    } finally {
      logits.dispose();
    }
  } finally {
    embeddings.dispose();
  }
  const labels = got.loaded.map((i) => source.labels[i]);
  let ranked;
  try {
    ranked = rankPredictions(scores, ctx.columns, labels, ctx.topK);
  } catch (err) {
    if (!(err instanceof NonFiniteScoreError)) throw err;
    // A broken model is an error, never a rank: no metrics may be computed from it.
    const id = source.id(got.loaded[err.row]);
    const kept = ctx.workDir ? `; the predictions of earlier batches are kept in ${ctx.workDir}` : '';
    throw new ZeroShotEvalError(
      `model ${ctx.modelId} produced ${err.value} scores for image ${id}; the model file may be corrupt ` +
        `(no metrics were computed${kept}).`,
      { code: 'non-finite', file: id, cause: err },
    );
  }
  const predictions = got.loaded.map((index, r) => ({
    index,
    id: source.id(index),
    label: labels[r],
    top: ranked[r].top,
    rank: ranked[r].rank,
  }));
  return { batch: wanted.batch, predictions, skipped };
}

/** Every label must be a class index, and one the (subset) classifier can predict. */
function checkLabels(
  items: readonly number[],
  labels: ArrayLike<number>,
  classes: number,
  allowed: Set<number>,
  name: string,
): void {
  for (const i of items) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new ZeroShotEvalError(
        `source ${name}: item ${i} has label ${label}, not a class index in [0, ${classes}).`,
        {
          code: 'bad-option',
        },
      );
    }
    if (!allowed.has(label)) {
      throw new ZeroShotEvalError(
        `source ${name}: item ${i} has label ${label}, outside the source's classIndices (it could never be predicted).`,
        { code: 'bad-option' },
      );
    }
  }
}

function aborted(
  doneCount: number,
  total: number,
  workDir: string | undefined,
  signal: AbortSignal,
): ZeroShotEvalError {
  const kept = workDir
    ? `the partial predictions are in ${workDir}; run again with resume to continue`
    : 'without a workDir the partial predictions are not kept';
  return new ZeroShotEvalError(`evaluation stopped after ${doneCount} of ${total} items; ${kept}.`, {
    code: 'aborted',
    cause: signal.reason,
  });
}
