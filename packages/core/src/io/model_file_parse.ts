import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, type SafetensorsContents } from './safetensors_parse.js';

/**
 * The half of the model-file format that needs no file system: a model from the bytes of a model file (a
 * `fetch` response in a browser, a buffer anywhere). `loadModelFile` is this plus reading the file.
 */

/** Splits `name/version`; null when the file names no moevl format. */
export function parseFormat(value: unknown): { format: string; version: number } | null {
  if (typeof value !== 'string') return null;
  const m = /^(.+)\/(\d+)$/.exec(value);
  return m ? { format: m[1], version: Number(m[2]) } : null;
}

export interface LoadModelFileOptions<C, M extends { loadWeights: LoadWeights; dispose(): void }> {
  format: string;
  /** Versions this loader reads (default [1]). */
  versions?: number[];
  /** What the model is called in messages ("LIMoE model file"). */
  what: string;
  /** Checks and completes the parsed config; throw with a message (the path is prefixed). */
  validate: (config: unknown) => C;
  /** Builds the model from the valid config and extras (before the weights are loaded). */
  build: (config: C, extras: Record<string, unknown>) => M;
  /** Extras that must be present (checked, with the path, before anything is built). */
  requiredExtras?: string[];
  /** How to convert files of other versions or formats, added to the error. */
  hint?: string;
}

export type LoadWeights = (
  tensors: Record<string, tf.Tensor>,
  options?: { strict?: boolean; source?: string },
) => void;

export interface LoadedModelFile<C, M> {
  model: M;
  config: C;
  extras: Record<string, unknown>;
  version: number;
}

const failAt = (source: string, message: string, cause?: unknown): never => {
  throw new Error(
    message.startsWith(source) ? message : `${source}: ${message}`,
    cause ? { cause } : undefined,
  );
};

/**
 * A model from already parsed safetensors (what `loadModelFile` and `parseModelFile` share): the checks,
 * the build and the strict weight load of `loadModelFile`, with `source` naming the file in every error.
 * The tensors in `contents` are disposed.
 */
export function modelFromSafetensors<C, M extends { loadWeights: LoadWeights; dispose(): void }>(
  contents: SafetensorsContents,
  source: string,
  options: LoadModelFileOptions<C, M>,
): LoadedModelFile<C, M> {
  const { tensors, metadata } = contents;
  try {
    const parsed = parseFormat(metadata.format);
    const versions = options.versions ?? [1];
    if (parsed?.format !== options.format || !versions.includes(parsed.version)) {
      failAt(
        source,
        `not a ${options.what} (format ${JSON.stringify(metadata.format)}, expected "${options.format}/` +
          `${versions.join('|')}")${options.hint ? `; ${options.hint}` : ''}.`,
      );
    }
    let raw: unknown;
    const extras: Record<string, unknown> = {};
    try {
      raw = JSON.parse(metadata.config);
      for (const [key, value] of Object.entries(metadata)) {
        if (key !== 'format' && key !== 'config') extras[key] = JSON.parse(value);
      }
    } catch (err) {
      failAt(
        source,
        `the ${options.what}'s header (config, extras) is not valid JSON; the file is damaged.`,
        err,
      );
    }
    const missing = (options.requiredExtras ?? []).filter((k) => extras[k] === undefined);
    if (missing.length > 0) {
      failAt(
        source,
        `the ${options.what} lacks ${missing.join(', ')} in its header; it is damaged or not a moevl file.`,
      );
    }
    let config: C;
    try {
      config = options.validate(raw);
    } catch (err) {
      return failAt(source, (err as Error).message, err);
    }
    const model = options.build(config, extras);
    try {
      model.loadWeights(tensors, { source });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return { model, config, extras, version: parsed!.version };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** `loadModelFile` for the bytes of a model file; `source` (a URL, a file name) names it in errors. */
export function parseModelFile<C, M extends { loadWeights: LoadWeights; dispose(): void }>(
  bytes: Uint8Array,
  source: string,
  options: LoadModelFileOptions<C, M>,
): LoadedModelFile<C, M> {
  return modelFromSafetensors(parseSafetensors(bytes, source), source, options);
}
