/**
 * Encoded batch → tf tensors, the form the LIMoE text stem and pooling take. The only tokenizer file that
 * touches tf, so tokenisation itself runs (and is tested) without a tf backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedBatch } from './batch.js';

/** Text-tower inputs. The caller owns (and must dispose) all three tensors. */
export interface TokenTensors {
  /** int32 `[N, L]`. */
  ids: tf.Tensor2D;
  /** float32 `[N, L]`, 1 = real token. */
  mask: tf.Tensor2D;
  /** int32 `[N]`, position of `<eot>` per row. */
  eotIndex: tf.Tensor1D;
}

export function encodedBatchToTensors(batch: EncodedBatch): TokenTensors {
  const shape: [number, number] = [batch.batchSize, batch.contextLength];
  return {
    ids: tf.tensor2d(batch.ids, shape, 'int32'),
    mask: tf.tensor2d(batch.mask, shape, 'float32'),
    eotIndex: tf.tensor1d(batch.eotIndex, 'int32'),
  };
}
