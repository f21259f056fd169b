import * as tf from '@tensorflow/tfjs';
import {
  type Layer,
  type SerializedLayer,
  deserializeLayer,
  readSafetensors,
  serializeLayer,
  writeSafetensors,
} from '@moevl/core';
import { type GridSize, gridPair, interpolatePositionEmbeddings } from './position_embedding.js';
import { VisionTransformer } from './vision_transformer.js';

/** Value of the `format` metadata key in files written by `saveEncoder`. */
export const ENCODER_FORMAT = 'moevl-vision-encoder/v1';

/**
 * Writes an encoder as one safetensors file: weights by path (`patch/kernel`, `blocks/3/mlp/experts/w1`,
 * ...) and, in the metadata, `config` = the JSON of `serializeLayer(model)` and `format`. One self-describing
 * file, so `loadEncoder` needs no other argument and other tools (Python's `safetensors`) can read it.
 * `extraMetadata` (string values: training step, dataset, ...) is stored beside them.
 */
export async function saveEncoder(
  path: string,
  model: Layer,
  extraMetadata: Record<string, string> = {},
): Promise<void> {
  for (const key of ['config', 'format']) {
    if (key in extraMetadata)
      throw new Error(`saveEncoder: extraMetadata must not set "${key}"; saveEncoder writes it.`);
  }
  const metadata = {
    ...extraMetadata,
    format: ENCODER_FORMAT,
    config: JSON.stringify(serializeLayer(model)),
  };
  await writeSafetensors(path, model.namedWeights(), metadata);
}

export interface LoadEncoderOptions {
  /**
   * Rebuild a ViT for this image size: its position embeddings are interpolated from the stored grid
   * (timm's `resample_abs_pos_embed`), e.g. to evaluate a 224 px checkpoint at 384 px.
   */
  imageSize?: GridSize;
}

/**
 * Reads a file written by `saveEncoder`: rebuilds the layer from its `config` metadata (the class must be
 * registered, i.e. its package imported) and loads every weight strictly. The file's other metadata is
 * available from core's `readSafetensors(path).metadata`.
 */
export async function loadEncoder<L extends Layer = VisionTransformer>(
  path: string,
  options: LoadEncoderOptions = {},
): Promise<L> {
  const { tensors, metadata } = await readSafetensors(path);
  const owned: tf.Tensor[] = Object.values(tensors);
  try {
    if (metadata.config == null) {
      throw new Error(
        `loadEncoder: ${path} has no "config" metadata, so it was not written by saveEncoder. Build the model ` +
          `yourself and call model.loadWeights((await readSafetensors(path)).tensors).`,
      );
    }
    let spec: SerializedLayer;
    try {
      spec = JSON.parse(metadata.config) as SerializedLayer;
    } catch (err) {
      throw new Error(`loadEncoder: ${path} has a "config" metadata entry that is not JSON.`, { cause: err });
    }
    let weights = tensors;
    if (options.imageSize != null) {
      if (spec.className !== VisionTransformer.className) {
        throw new Error(
          `loadEncoder: imageSize applies to a ${VisionTransformer.className}, ${path} holds a ${spec.className}.`,
        );
      }
      const config = spec.config as { imageSize: GridSize; patchSize: number; classToken?: boolean };
      const [fromH, fromW] = gridPair(config.imageSize, 'loadEncoder: stored imageSize');
      const [toH, toW] = gridPair(options.imageSize, 'loadEncoder: imageSize');
      const p = config.patchSize;
      if (toH % p !== 0 || toW % p !== 0) {
        throw new Error(
          `loadEncoder: imageSize ${toH}×${toW} is not a multiple of the model's patch size ${p}.`,
        );
      }
      weights = interpolatePositionEmbeddings(tensors, [fromH / p, fromW / p], [toH / p, toW / p], {
        hasClassToken: config.classToken ?? true,
      });
      owned.push(...Object.values(weights));
      spec = {
        ...spec,
        config: { ...spec.config, imageSize: options.imageSize as tf.serialization.ConfigDictValue },
      };
    }
    const model = deserializeLayer<L>(spec);
    try {
      model.loadWeights(weights, { source: path });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  } finally {
    tf.dispose(owned);
  }
}
