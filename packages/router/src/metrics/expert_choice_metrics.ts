import { assertInteger } from '@moevl/core';
import { type MatrixInput, type VectorInput, ratio, readMask, readMatrix } from './input.js';

export interface ExpertChoiceMetricsInput {
  /** `[S, E]` position from `assignExpertChoice`: ≥ 0 where expert e took token s, −1 otherwise. */
  position: MatrixInput;
  /** Slots per expert; when given, positions ≥ capacity also count as "not taken". */
  capacity?: number;
  /** `[S]` 0 = padding, excluded. */
  mask?: VectorInput;
}

/**
 * The statistics Zhou et al. (2022) report for expert choice routing, where load is balanced by
 * construction but coverage is not: how many experts each token gets (a token may get none and pass
 * through the residual only). Plain JSON data; null where there is no real token.
 */
export interface ExpertChoiceMetrics {
  numExperts: number;
  capacity: number | null;
  /** Real (unmasked) tokens. */
  tokens: number;
  minExpertsPerToken: number | null;
  maxExpertsPerToken: number | null;
  meanExpertsPerToken: number | null;
  /** Fraction of real tokens taken by at least one expert. */
  fractionTokensProcessed: number | null;
}

/** Experts-per-token statistics of an expert-choice assignment. */
export function expertChoiceMetrics(input: ExpertChoiceMetricsInput): ExpertChoiceMetrics {
  const op = 'expertChoiceMetrics';
  const { capacity } = input;
  if (capacity != null) assertInteger(`${op}: capacity`, capacity, { min: 1 });
  const pos = readMatrix(op, 'position', input.position);
  const S = pos.rows;
  const E = pos.cols;
  const real = readMask(op, input.mask, S);
  const limit = capacity ?? Infinity;
  let tokens = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let processed = 0;
  for (let s = 0; s < S; s++) {
    if (!real[s]) continue;
    tokens++;
    let n = 0;
    for (let e = 0; e < E; e++) {
      const p = pos.data[s * E + e];
      if (p >= 0 && p < limit) n++;
    }
    min = Math.min(min, n);
    max = Math.max(max, n);
    sum += n;
    if (n > 0) processed++;
  }
  return {
    numExperts: E,
    capacity: capacity ?? null,
    tokens,
    minExpertsPerToken: tokens === 0 ? null : min,
    maxExpertsPerToken: tokens === 0 ? null : max,
    meanExpertsPerToken: ratio(sum, tokens),
    fractionTokensProcessed: ratio(processed, tokens),
  };
}
