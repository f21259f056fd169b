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
  /** How MoE layers route when `training` is false; default `{ mode: 'dropless' }` (see `EvalRouting`). */
  evalRouting?: EvalRouting;
  /** Extra fields for third-party layers. */
  [key: string]: unknown;
}

/**
 * Routing at evaluation. `dropless` (the default): no token is dropped for capacity and each example is
 * routed independently of the others in its batch, so a prediction never depends on the batch size, the
 * data order or the shard. `capacity`: V-MoE's capacity-limited evaluation at `capacityFactor` (default:
 * each router's own `evalCapacityFactor`), where an example's tokens compete with the rest of the batch
 * for expert slots — an explicit choice, to be recorded with any result it produces.
 */
export type EvalRouting = { mode: 'dropless' } | { mode: 'capacity'; capacityFactor?: number };

/** Checks an `EvalRouting` value, naming `what` in the error. */
export function checkEvalRouting(value: unknown, what = 'evalRouting'): EvalRouting {
  const v = value as { mode?: unknown; capacityFactor?: unknown } | null;
  if (v?.mode === 'dropless' && Object.keys(v).length === 1) return { mode: 'dropless' };
  if (v?.mode === 'capacity') {
    const cf = v.capacityFactor;
    if (cf === undefined) return { mode: 'capacity' };
    if (typeof cf === 'number' && Number.isFinite(cf) && cf > 0)
      return { mode: 'capacity', capacityFactor: cf };
  }
  throw new Error(
    `${what} must be {mode: 'dropless'} or {mode: 'capacity', capacityFactor?: number > 0}, got ${JSON.stringify(value)}.`,
  );
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
