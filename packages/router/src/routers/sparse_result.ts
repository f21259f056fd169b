import type * as tf from '@tensorflow/tfjs';
import type { MetricValue } from '@moevl/core';
import { routingMetrics } from '../metrics/routing_metrics.js';
import type { VectorInput } from '../metrics/input.js';
import type { RouterContext, SparseRoutingResult } from './contract.js';

/** What a sparse router decided, in the index form `MoELayer` dispatches with (`assignTopK`'s output). */
export interface SparseAssignment {
  /** `[S, K]` int32 expert of each choice. */
  expertIndex: tf.Tensor2D;
  /** `[S, K]` int32 buffer slot, −1 when dropped. */
  position: tf.Tensor2D;
  /** `[S, K]` differentiable weight of each choice, 0 when dropped. */
  combineWeights: tf.Tensor2D;
  capacity: number;
}

export interface SparseResultInput {
  numExperts: number;
  assignment: SparseAssignment;
  /** `[S, E]` router probabilities, returned as the result's `gates` and used for `importanceCV`. */
  gates: tf.Tensor2D;
  auxLosses: Record<string, tf.Scalar>;
  /** The routing context: its mask, modalities and tasks break the metrics down. */
  ctx: Pick<RouterContext, 'mask' | 'modality' | 'numModalities' | 'task' | 'numTasks'>;
  /** `[S]` each token's own number of choices, when it is not K for every token (`routingMetrics`). */
  kPerToken?: VectorInput;
  /** Metrics of the router's own, added after (and over) the routing metrics. */
  extraMetrics?: Record<string, MetricValue>;
}

/**
 * A sparse routing result: the assignment, gates and losses, and `routingMetrics` over the context's real
 * tokens, modalities and tasks. One assembly for every sparse router, so the metrics cannot drift apart.
 */
export function sparseResult(input: SparseResultInput): SparseRoutingResult {
  const { numExperts, assignment, gates, ctx } = input;
  const metrics = routingMetrics({
    expertIndex: assignment.expertIndex,
    position: assignment.position,
    gates,
    numExperts,
    capacity: assignment.capacity,
    mask: ctx.mask,
    modality: ctx.modality,
    numModalities: ctx.numModalities,
    task: ctx.task,
    numTasks: ctx.numTasks,
    kPerToken: input.kPerToken,
  });
  return {
    kind: 'sparse',
    numExperts,
    capacity: assignment.capacity,
    gates,
    auxLosses: input.auxLosses,
    metrics: { ...metrics, ...input.extraMetrics },
    expertIndex: assignment.expertIndex,
    position: assignment.position,
    combineWeights: assignment.combineWeights,
  };
}
