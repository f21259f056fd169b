import { type StridedPlacement, assertPositiveInteger, placeBlocks } from '@moevl/core';
import type { RouterSpec } from '@moevl/router';

/**
 * Where a V-MoE puts its sparse MLPs and what they are (Riquelme et al. 2021, "Scaling Vision with Sparse
 * Mixture of Experts"). The paper's two layouts:
 *  - "Every-2": an MoE MLP in every other block, blocks 1, 3, 5, ... (0-based) → `{ every: 2 }`;
 *  - "Last-n": only the last n of those odd blocks (V-MoE-L/16 "Last-2" = blocks 21 and 23 of 24)
 *    → `{ every: 2, last: n }` (or just `{ last: n }`, `every` defaults to 2).
 * `{ every: 1, last: n }` gives the last n blocks whatever their parity; `{ every: 1 }` makes every block MoE.
 * The placement is core's `StridedPlacement` (the spelling of `MoEPlacement` V-MoE uses); the spec is plain
 * JSON, stored as is in the model config.
 */
export interface VMoESpec extends StridedPlacement {
  /** Experts per MoE layer (V-MoE: 8 or 32). */
  numExperts: number;
  /** Router strategy and options from `@moevl/router`. Default `{ name: 'top-k', options: {} }`. */
  router?: RouterSpec;
  /** Hidden width of each expert MLP. Default: the dense MLP's width, mlpRatio·dim (V-MoE's choice). */
  hiddenDim?: number;
}

/**
 * The 0-based indices of the blocks that get an MoE MLP, in increasing order, for a model of `depth` blocks
 * (core's `placeBlocks` on the spec's `every`/`last`). Throws when the spec asks for more blocks than exist
 * or chooses none, naming what to change.
 */
export function moeBlockIndices(depth: number, spec: VMoESpec): number[] {
  const blocks = placeBlocks({ every: spec.every, last: spec.last }, depth, 'V-MoE: moe');
  assertPositiveInteger('V-MoE: moe.numExperts', spec.numExperts);
  if (spec.hiddenDim != null) assertPositiveInteger('V-MoE: moe.hiddenDim', spec.hiddenDim);
  return blocks;
}
