import * as tf from '@tensorflow/tfjs';
import {
  type Layer,
  type SafetensorsContents,
  type SerializedLayer,
  deserializeLayer,
  modelFromSafetensors,
  readSafetensors,
  saveModelFile,
  serializeLayer,
} from '@moevl/core';
import { type GridSize, gridPair, interpolatePositionEmbeddings } from './position_embedding.js';
import { VisionTransformer } from './vision_transformer.js';

/** Format name of encoder files in core's model-file format (`format: "moevl-vision-encoder/2"`). */
export const ENCODER_FORMAT = 'moevl-vision-encoder';
/** Version `saveEncoder` writes. Version 1 (`"moevl-vision-encoder/v1"`, its own header) still loads. */
export const ENCODER_VERSION = 2;
const V1_FORMAT = 'moevl-vision-encoder/v1';
const WHAT = 'vision encoder file';

/**
 * Writes an encoder as one model file (core's `saveModelFile`): weights by path (`patch/kernel`,
 * `blocks/3/mlp/experts/w1`, ...), the config = `serializeLayer(model)`, and `extras` (training step,
 * dataset, ...: any JSON values) under their own header keys. One self-describing file, so `loadEncoder`
 * needs no other argument and other tools (Python's `safetensors`) can read it.
 */
export async function saveEncoder(
  path: string,
  model: Layer,
  extras: Record<string, unknown> = {},
): Promise<void> {
  for (const key of ['config', 'format']) {
    if (key in extras) throw new Error(`saveEncoder: extras must not set "${key}"; saveEncoder writes it.`);
  }
  await saveModelFile(path, model.namedWeights(), {
    format: ENCODER_FORMAT,
    version: ENCODER_VERSION,
    config: serializeLayer(model),
    extras,
  });
}

export interface LoadEncoderOptions {
  /**
   * Rebuild a ViT for this image size: its position embeddings are interpolated from the stored grid
   * (timm's `resample_abs_pos_embed`), e.g. to evaluate a 224 px checkpoint at 384 px.
   */
  imageSize?: GridSize;
}

export interface LoadedEncoderFile<L extends Layer> {
  model: L;
  /** The stored `serializeLayer` spec (with `imageSize` replaced when the load resized the model). */
  config: SerializedLayer;
  /** What `saveEncoder` was given as extras (a version-1 file's metadata strings). */
  extras: Record<string, unknown>;
  version: number;
}

/**
 * Reads a file written by `saveEncoder` (either version): rebuilds the layer from its config (the class
 * must be registered, i.e. its package imported) and loads every weight strictly.
 */
export async function loadEncoder<L extends Layer = VisionTransformer>(
  path: string,
  options: LoadEncoderOptions = {},
): Promise<L> {
  return (await loadEncoderFile<L>(path, options)).model;
}

/** `loadEncoder` with the file's config, extras and version. */
export async function loadEncoderFile<L extends Layer = VisionTransformer>(
  path: string,
  options: LoadEncoderOptions = {},
): Promise<LoadedEncoderFile<L>> {
  const stored = await readSafetensors(path);
  const v1 = stored.metadata.format === V1_FORMAT;
  const contents = v1 ? fromVersion1(stored) : stored;
  if (options.imageSize != null) resize(contents, path, options.imageSize);
  const loaded = modelFromSafetensors(contents, path, {
    format: ENCODER_FORMAT,
    versions: [ENCODER_VERSION],
    what: WHAT,
    hint:
      `saveEncoder writes "${ENCODER_FORMAT}/${ENCODER_VERSION}" (and "${V1_FORMAT}" files load too); for ` +
      `another safetensors file build the model yourself and call ` +
      `model.loadWeights((await readSafetensors(path)).tensors)`,
    validate: (raw) => layerSpec(raw, options.imageSize),
    build: (spec) => deserializeLayer<L>(spec),
  });
  return { ...loaded, version: v1 ? 1 : loaded.version };
}

/**
 * A version-1 header (format `moevl-vision-encoder/v1`, extras as plain strings) in the version-2 form,
 * so one loader reads both.
 */
function fromVersion1(contents: SafetensorsContents): SafetensorsContents {
  const { metadata } = contents;
  const upgraded: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key !== 'format' && key !== 'config') upgraded[key] = JSON.stringify(value);
  }
  return {
    ...contents,
    metadata: { ...upgraded, format: `${ENCODER_FORMAT}/${ENCODER_VERSION}`, config: metadata.config },
  };
}

/** The stored layer spec, checked, and with `imageSize` replaced when the load resizes. */
function layerSpec(raw: unknown, imageSize: GridSize | undefined): SerializedLayer {
  const spec = raw as SerializedLayer | null;
  if (typeof spec?.className !== 'string' || typeof spec.config !== 'object' || spec.config === null) {
    throw new Error(`the ${WHAT}'s config is not a serialized layer ({className, config}).`);
  }
  if (imageSize == null) return spec;
  return { ...spec, config: { ...spec.config, imageSize: imageSize as tf.serialization.ConfigDictValue } };
}

/**
 * Replaces the position embeddings in `contents` with ones interpolated to `imageSize`'s patch grid (the
 * originals are disposed); the config is read here only for the stored grid, `loadEncoderFile` checks it.
 */
function resize(contents: SafetensorsContents, path: string, imageSize: GridSize): void {
  let spec: SerializedLayer;
  try {
    spec = layerSpec(JSON.parse(contents.metadata.config ?? 'null'), undefined);
  } catch {
    return; // damaged or missing: modelFromSafetensors says so, naming the file
  }
  try {
    if (spec.className !== VisionTransformer.className) {
      throw new Error(
        `loadEncoder: imageSize applies to a ${VisionTransformer.className}, ${path} holds a ${spec.className}.`,
      );
    }
    const config = spec.config as unknown as { imageSize: GridSize; patchSize: number; classToken?: boolean };
    const [fromH, fromW] = gridPair(config.imageSize, 'loadEncoder: stored imageSize');
    const [toH, toW] = gridPair(imageSize, 'loadEncoder: imageSize');
    const p = config.patchSize;
    if (toH % p !== 0 || toW % p !== 0) {
      throw new Error(
        `loadEncoder: imageSize ${toH}×${toW} is not a multiple of the model's patch size ${p}.`,
      );
    }
    const resized = interpolatePositionEmbeddings(
      contents.tensors,
      [fromH / p, fromW / p],
      [toH / p, toW / p],
      {
        hasClassToken: config.classToken ?? true,
      },
    );
    const kept = new Set(Object.values(resized));
    tf.dispose(Object.values(contents.tensors).filter((t) => !kept.has(t)));
    contents.tensors = resized;
  } catch (err) {
    tf.dispose(Object.values(contents.tensors));
    throw err;
  }
}
