import type * as tf from '@tensorflow/tfjs';
import type { Layer } from './layer.js';

/**
 * What a transformer block tells the layer in its MLP slot about the tokens. A dense MLP ignores it; an
 * MoE layer routes with it (LIMoE's per-modality losses need `modality`, Mod-Squad/AdaMV need `task`).
 */
export interface TokenContext {
  /** Training mode: routers add noise and use the training capacity factor. */
  training: boolean;
  /** [B, T], 1 for real tokens and 0 for padding; padding is not routed and not counted in losses. */
  tokenMask?: tf.Tensor;
  /** Modality id (LIMoE: 0 image, 1 text): one for the batch, or `[B, T]` int32 per token. */
  modality?: number | tf.Tensor;
  /** Task id for task-conditioned routing: one id for the batch, or [B] int32. */
  task?: number | tf.Tensor;
  /** Seeded randomness for routing noise, so a resumed run repeats the same noise. */
  rng?: { normalTensor(shape: number[], mean?: number, std?: number): tf.Tensor };
  /** Extra fields for third-party layers. */
  [key: string]: unknown;
}

/** A metric as plain data: JSON-serialisable, no tensors to dispose. */
export type MetricValue = number | string | boolean | null | MetricValue[] | { [key: string]: MetricValue };

/** Output of a layer in the MLP slot: the tokens, plus losses and metrics returned as data (vmoe style). */
export interface FeedForwardOutput {
  y: tf.Tensor;
  /** Unweighted or weighted auxiliary losses by name; the block passes them up, the trainer sums them. */
  auxLosses?: Record<string, tf.Scalar>;
  /** Routing metrics by name (load, success rate, usage matrices), as plain numbers ready to log. */
  metrics?: Record<string, MetricValue>;
}

/** The contract of the pluggable MLP slot of `TransformerBlock`: `[B, T, D] → [B, T, D]`. */
export interface FeedForwardLayer extends Layer {
  forward(x: tf.Tensor, ctx: TokenContext): FeedForwardOutput;
}
