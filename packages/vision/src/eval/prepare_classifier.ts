import type { ImageTextModel } from '../model/image_text_model.js';
import { loadOrBuildClassifier } from './classifier_cache.js';
import { ZeroShotEvalError } from './eval_error.js';
import { type ZeroShotEvalOptions, resolveEvalOptions } from './eval_options.js';
import { sha256Json } from './fingerprint.js';

/**
 * The classifier of an evaluation, built (or found) in the cache before the evaluation runs: a cluster job
 * that runs ahead of a job array, so the N shards all load it instead of N−1 of them sitting on allocated
 * nodes while the first one builds it. It is exactly the entry `runZeroShotEval` looks up for the same
 * options (same model hash, the same subset columns), so the run reports `classifierCached: true`.
 */

/**
 * What identifies a model's outputs beyond its id, hashed into cache keys and resume fingerprints: its
 * fingerprint (weights) and its evaluation routing. Null when the model declares neither.
 */
export function evalModelHash(model: ImageTextModel, modelFingerprint: unknown): string | null {
  return modelFingerprint == null && model.routing == null
    ? null
    : sha256Json({
        fingerprint: modelFingerprint ?? null,
        evalRouting: model.routing?.report().evalRouting ?? null,
      });
}

export type PrepareClassifierOptions = Pick<
  ZeroShotEvalOptions,
  | 'model'
  | 'modelId'
  | 'modelFingerprint'
  | 'source'
  | 'classNames'
  | 'templates'
  | 'cacheDir'
  | 'textBatchSize'
  | 'onProgress'
  | 'onWarning'
  | 'onLog'
>;

export interface PreparedClassifier {
  /** The cache entry now holding it. */
  file: string;
  /** True when it was there already (or another process built it while this one waited). */
  cached: boolean;
  seconds: number;
  /** Classifier columns: the source's subset, or every class. */
  classes: number;
  templates: number;
  /** What the prompt check found (truncated prompts). */
  warnings: string[];
}

/**
 * Builds the classifier `runZeroShotEval(options)` would use and stores it in `options.cacheDir`, or
 * finds it there; loads no image. Waits, like the evaluation does, for another process building the same
 * entry, and says so through `onLog`. Fails (ZeroShotEvalError 'bad-option') without a cache dir, where
 * there is nowhere to keep it.
 */
export async function prepareZeroShotClassifier(
  options: PrepareClassifierOptions,
): Promise<PreparedClassifier> {
  const resolved = resolveEvalOptions(options);
  if (resolved.cacheDir === null) {
    throw new ZeroShotEvalError('building the classifier ahead of a run needs a cache dir to keep it in.', {
      code: 'bad-option',
    });
  }
  const { model, classNames, templates } = options;
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const obtained = await loadOrBuildClassifier(
    model,
    resolved.columns.map((c) => classNames[c]),
    templates,
    {
      modelId: options.modelId,
      modelHash: evalModelHash(model, options.modelFingerprint) ?? undefined,
      cacheDir: resolved.cacheDir,
      textBatchSize: options.textBatchSize,
      onProgress: (done, total) => options.onProgress?.({ phase: 'classifier', done, total }),
      onWarning: warn,
      onWait: (holder) =>
        options.onLog?.(
          `waiting for process ${holder.pid} on ${holder.host}, which is building this classifier, ` +
            'to load it from the cache…',
        ),
    },
  );
  obtained.classifier.dispose();
  return {
    file: obtained.file!,
    cached: obtained.cached,
    seconds: obtained.seconds,
    classes: resolved.columns.length,
    templates: templates.length,
    warnings: obtained.warnings,
  };
}
