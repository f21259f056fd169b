import * as tf from '@tensorflow/tfjs';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors_file.js';

/**
 * One model-file format for every moevl model: safetensors weights, and in the header metadata the format
 * name and version (`"moevl-limoe/1"`), the config as JSON, and named extras as JSON (a tokenizer, image
 * normalisation, training notes). One implementation of the atomic write, the format check, config
 * validation and disposal on failure, so model families cannot drift apart.
 */

export interface ModelFileHeader {
  /** Format name without version, e.g. `moevl-limoe`. */
  format: string;
  version: number;
  /** Everything in the header metadata (raw strings). */
  metadata: Record<string, string>;
}

/** Splits `name/version`; null when the file names no moevl format. */
export function parseFormat(value: unknown): { format: string; version: number } | null {
  if (typeof value !== 'string') return null;
  const m = /^(.+)\/(\d+)$/.exec(value);
  return m ? { format: m[1], version: Number(m[2]) } : null;
}

/** Reads only a model file's header: which format it is, without loading a tensor. */
export async function readModelFileHeader(path: string): Promise<ModelFileHeader | null> {
  const { metadata } = await readSafetensorsHeader(path);
  const parsed = parseFormat(metadata.format);
  return parsed ? { ...parsed, metadata } : null;
}

export interface SaveModelFileOptions {
  format: string;
  version: number;
  config: unknown;
  /** Extra JSON values stored under their own header keys (not `format`/`config`). */
  extras?: Record<string, unknown>;
}

/** Writes weights + format, config and extras, atomically. */
export async function saveModelFile(
  path: string,
  weights: Record<string, tf.Tensor>,
  options: SaveModelFileOptions,
): Promise<void> {
  const metadata: Record<string, string> = {
    format: `${options.format}/${options.version}`,
    config: JSON.stringify(options.config),
  };
  for (const [key, value] of Object.entries(options.extras ?? {})) {
    if (key === 'format' || key === 'config') throw new Error(`saveModelFile: extra "${key}" is reserved.`);
    metadata[key] = JSON.stringify(value);
  }
  await writeSafetensors(path, weights, metadata);
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

type LoadWeights = (
  tensors: Record<string, tf.Tensor>,
  options?: { strict?: boolean; source?: string },
) => void;

export interface LoadedModelFile<C, M> {
  model: M;
  config: C;
  extras: Record<string, unknown>;
  version: number;
}

const failAt = (path: string, message: string, cause?: unknown): never => {
  throw new Error(message.startsWith(path) ? message : `${path}: ${message}`, cause ? { cause } : undefined);
};

/**
 * Reads a model file written by `saveModelFile`: checks the format and version, parses config and extras
 * (a damaged header is named as such), validates the config, builds the model, loads the weights strictly
 * (names, shapes and dtypes) and disposes the model if anything fails. Every error names the file.
 */
export async function loadModelFile<C, M extends { loadWeights: LoadWeights; dispose(): void }>(
  path: string,
  options: LoadModelFileOptions<C, M>,
): Promise<LoadedModelFile<C, M>> {
  const { tensors, metadata } = await readSafetensors(path);
  try {
    const parsed = parseFormat(metadata.format);
    const versions = options.versions ?? [1];
    if (parsed?.format !== options.format || !versions.includes(parsed.version)) {
      failAt(
        path,
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
        path,
        `the ${options.what}'s header (config, extras) is not valid JSON; the file is damaged.`,
        err,
      );
    }
    const missing = (options.requiredExtras ?? []).filter((k) => extras[k] === undefined);
    if (missing.length > 0) {
      failAt(
        path,
        `the ${options.what} lacks ${missing.join(', ')} in its header; it is damaged or not a moevl file.`,
      );
    }
    let config: C;
    try {
      config = options.validate(raw);
    } catch (err) {
      return failAt(path, (err as Error).message, err);
    }
    const model = options.build(config, extras);
    try {
      model.loadWeights(tensors, { source: path });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return { model, config, extras, version: parsed!.version };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
