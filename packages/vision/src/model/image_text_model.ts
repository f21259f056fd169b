import type * as tf from '@tensorflow/tfjs';
import type { EvalRouting } from '@moevl/core';
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
  /**
   * Optional: the token ids the model's text tower would read for each text (after its truncation), and
   * which were cut, without embedding anything. The evaluation uses it to report truncated prompts and to
   * refuse templates whose prompts become identical across classes.
   */
  tokenize?(texts: string[]): TokenizedTexts;
  /**
   * Optional, for mixture-of-experts models: how the model routes at evaluation, and what the routing did
   * on what it embedded since `reset()`; evaluation results record it (`ZeroShotEvalResult.routing`).
   */
  readonly routing?: { report(): RoutingReport; reset(): void };
  dispose(): Promise<void> | void;
}

/** What `ImageTextModel.tokenize` returns. */
export interface TokenizedTexts {
  /** Token ids per text as the text tower reads them (truncated, without padding). */
  ids: number[][];
  /** Whether each text was longer than the context and was cut. */
  truncated: boolean[];
  /** The text context length, special tokens included. */
  contextLength: number;
}

/** How an MoE model routed during an evaluation, measured on the evaluation path itself. */
export interface RoutingReport {
  /** Dropless (the default: batch-independent) or capacity-limited at a factor (null: the routers' own). */
  evalRouting: EvalRouting;
  /** Fraction of token choices not dropped for capacity, over all MoE layers; null where nothing was routed. */
  routingSuccessRate: { images: number | null; texts: number | null };
  /** Tokens routed (summed over MoE layers). */
  tokens: { images: number; texts: number };
}
