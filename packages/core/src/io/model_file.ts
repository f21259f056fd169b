import type * as tf from '@tensorflow/tfjs';
import {
  type LoadModelFileOptions,
  type LoadWeights,
  type LoadedModelFile,
  modelFromSafetensors,
  parseFormat,
} from './model_file_parse.js';
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

/**
 * Reads a model file written by `saveModelFile`: checks the format and version, parses config and extras
 * (a damaged header is named as such), validates the config, builds the model, loads the weights strictly
 * (names, shapes and dtypes) and disposes the model if anything fails. Every error names the file.
 */
export async function loadModelFile<C, M extends { loadWeights: LoadWeights; dispose(): void }>(
  path: string,
  options: LoadModelFileOptions<C, M>,
): Promise<LoadedModelFile<C, M>> {
  return modelFromSafetensors(await readSafetensors(path), path, options);
}
