import { assertInteger } from '@moevl/core';
/** How the per-expert token count is turned into an integer before rounding up to `multipleOf`. */
export type CapacityRounding = 'ceil' | 'round';

export interface CapacityOptions {
  /** Tokens in one routing group (S; a batch of images × patches, or a group of them). */
  tokens: number;
  /** Number of experts (E). */
  experts: number;
  /** Choices per token (K). Expert choice routing passes 1, so `N = S` (Zhou et al. 2022). */
  k?: number;
  /** Slack over a perfectly balanced assignment (V-MoE: 1.05 train, 4.0 eval). Must be > 0. */
  capacityFactor: number;
  /** C is rounded up to a multiple of this (V-MoE: 4, friendly to TPU/SIMD tiles; Soft MoE: 1). */
  multipleOf?: number;
  /** `ceil` (V-MoE token choice) or `round` (Soft MoE / expert-choice comparisons), see {@link computeCapacity}. */
  rounding?: CapacityRounding;
}

/**
 * Relative tolerance for float noise before `ceil`: 100·1.1/10 is 11.000000000000002 in IEEE doubles, and a
 * naive ceil would give 12 where the exact value is 11. Real capacity ratios are nowhere near this close to
 * an integer without being one.
 */
const FLOAT_SLACK = 1e-9;

function requireInteger(name: string, value: number, min: number): void {
  assertInteger(`computeCapacity: ${name}`, value, { min });
}

/** Python's `round` (and `numpy.round`): halves go to the even neighbour, so round(2.5) = 2. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (Math.abs(diff - 0.5) > FLOAT_SLACK * Math.max(1, Math.abs(x))) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Expert buffer capacity C of V-MoE: `C = ceil(S·K·cf / E)`, then rounded UP to a multiple of `multipleOf`.
 * A choice whose buffer position is ≥ C is dropped (the token only passes through the residual), so C is
 * the knob that trades compute for dropped tokens. `rounding: 'round'` uses Python's round-half-to-even, as
 * the upstream Soft MoE / expert-choice code computes slots with Python's `round`.
 *
 * Throws when an option is not a valid count, when capacityFactor ≤ 0, or when C < 1 before rounding to the
 * multiple (e.g. `round` of a ratio below 0.5): an expert that can hold no token is always a config error.
 */
export function computeCapacity(options: CapacityOptions): number {
  const { tokens, experts, k = 1, capacityFactor, multipleOf = 4, rounding = 'ceil' } = options;
  requireInteger('tokens', tokens, 0);
  requireInteger('experts', experts, 1);
  requireInteger('k', k, 1);
  requireInteger('multipleOf', multipleOf, 1);
  if (!(capacityFactor > 0) || !Number.isFinite(capacityFactor)) {
    throw new Error(`computeCapacity: capacityFactor must be a finite number > 0, got ${capacityFactor}.`);
  }
  if (rounding !== 'ceil' && rounding !== 'round') {
    throw new Error(`computeCapacity: rounding must be 'ceil' or 'round', got ${String(rounding)}.`);
  }
  const ratio = (tokens * k * capacityFactor) / experts;
  const c =
    rounding === 'ceil' ? Math.ceil(ratio - FLOAT_SLACK * Math.max(1, ratio)) : roundHalfToEven(ratio);
  if (c < 1) {
    throw new Error(
      `computeCapacity: capacity ${rounding}(tokens·k·capacityFactor/experts) = ${rounding}(${ratio}) = ${c} < 1; ` +
        'raise capacityFactor or tokens, or lower experts.',
    );
  }
  return Math.ceil(c / multipleOf) * multipleOf;
}
