import { assertInteger, assertPositiveInteger } from '../config/integer_checks.js';

/**
 * Which blocks of a `depth`-block transformer carry a sparse layer, in either of the two spellings the
 * papers use (and model files already written hold):
 *  - strided, V-MoE (Riquelme et al. 2021): `{ every: n }` = blocks i with i % n = n − 1 ("Every-2":
 *    blocks 1, 3, 5, ...); `{ every, last: k }` keeps only the last k of those ("Last-2");
 *    `every` defaults to 2;
 *  - listed, Mod-Squad (Chen et al. 2023): `'odd'`, `'even'`, `'all'`, `'none'` or explicit indices.
 */
export type MoEPlacement = StridedPlacement | ListedPlacement;

export interface StridedPlacement {
  /** MoE in blocks i with i % every === every − 1. Default 2 (blocks 1, 3, 5, ...). */
  every?: number;
  /** Keep only the last `last` of the blocks chosen by `every`. Default: all of them. */
  last?: number;
}

export type ListedPlacement = 'odd' | 'even' | 'all' | 'none' | number[];

/**
 * The 0-based indices of the blocks a placement selects, in increasing order. `where` names the placement
 * in errors (`V-MoE: moe` → "V-MoE: moe.every must be ..."; a listed placement is `<where>.blocks`).
 * A strided placement must select at least one block; a listed one may select none (`'none'`).
 */
export function placeBlocks(placement: MoEPlacement, depth: number, where: string): number[] {
  const all = Array.from({ length: depth }, (_, i) => i);
  if (placement === 'all') return all;
  if (placement === 'none') return [];
  if (placement === 'odd') return all.filter((i) => i % 2 === 1);
  if (placement === 'even') return all.filter((i) => i % 2 === 0);
  if (Array.isArray(placement) || typeof placement !== 'object' || placement == null) {
    const list = placement as unknown[];
    if (
      !Array.isArray(list) ||
      list.some(
        (i, j) =>
          !Number.isInteger(i) || (i as number) < 0 || (i as number) >= depth || list.indexOf(i) !== j,
      )
    ) {
      throw new Error(
        `${where}.blocks must be 'odd', 'even', 'all', 'none' or distinct block indices in [0, ${depth}), got ${JSON.stringify(placement)}.`,
      );
    }
    return [...(list as number[])].sort((a, b) => a - b);
  }
  const every = placement.every ?? 2;
  assertPositiveInteger(`${where}.every`, every);
  const candidates = all.filter((i) => i % every === every - 1);
  if (candidates.length === 0) {
    throw new Error(
      `${where}.every = ${every} selects no block of a ${depth}-block model; use every ≤ ${depth}.`,
    );
  }
  if (placement.last == null) return candidates;
  assertInteger(`${where}.last`, placement.last, {
    min: 1,
    max: candidates.length,
    note: `blocks ${candidates.join(', ')} match every = ${every} in a ${depth}-block model`,
  });
  return candidates.slice(candidates.length - placement.last);
}
