import type * as tf from '@tensorflow/tfjs';
import type { PreprocessConfig } from '../preprocess/config.js';

/**
 * What the zero-shot evaluation needs from a model, whatever runs it (a pretrained CLIP through
 * transformers.js, a LIMoE checkpoint in tfjs, ...). Images arrive already preprocessed by this package
 * with the model's own `preprocess` config; both embeddings come back L2-normalised, so a dot product is
 * the cosine similarity (open_clip's convention).
 */
export interface ImageTextModel {
  /** A human-readable id (folder, hub id, or `builtin:<name>`). */
  readonly name: string;
  /** Width of the shared embedding space. */
  readonly embeddingDim: number;
  /** exp(logit scale): logits = logitScale · I·Tᵀ. Ranking does not depend on it. */
  readonly logitScale: number;
  /** How images must be preprocessed for this model (from its preprocessor_config.json or checkpoint). */
  readonly preprocess: PreprocessConfig;
  /** `[N, 3, H, W]` preprocessed images → `[N, D]` L2-normalised embeddings. */
  embedImages(pixels: tf.Tensor4D): Promise<tf.Tensor2D>;
  /** Texts → `[N, D]` L2-normalised embeddings (tokenisation is the model's). */
  embedTexts(texts: string[]): Promise<tf.Tensor2D>;
  dispose(): Promise<void> | void;
}
