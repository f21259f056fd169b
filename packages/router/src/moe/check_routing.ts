import type * as tf from '@tensorflow/tfjs';
import type { RoutingResult } from '../routers/contract.js';

/**
 * The router contract, checked on a result: a plugin whose gates are `[S, E−1]`, whose positions exceed
 * its capacity, or whose weights are NaN would otherwise change accuracy silently (or fail much later with
 * `GatherV2: index 17847 is not in [0, 1439]`). Every message names the router and its version.
 */
export class RouterContractError extends Error {
  override readonly name = 'RouterContractError';
}

/** How often `MoELayer` checks its router's results: each layer's first call (default), every call, never. */
export type RouterChecks = 'first' | 'always' | 'off';

let mode: RouterChecks = 'first';

/** Sets when `MoELayer`s check router results (the CLI's `--check-router` sets `always`). */
export function setRouterChecks(next: RouterChecks): void {
  if (next !== 'first' && next !== 'always' && next !== 'off') {
    throw new Error(`setRouterChecks: expected 'first', 'always' or 'off', got ${String(next)}.`);
  }
  mode = next;
}

export function routerChecks(): RouterChecks {
  return mode;
}

function shapeOf(t: tf.Tensor | undefined): string {
  return t == null ? 'missing' : `${t.dtype} [${t.shape.join(', ')}]`;
}

/**
 * Throws `RouterContractError` (naming `label`, e.g. `router "cosine" 1.0.0`) unless `r` is a well-formed
 * result for `tokens` tokens and `numExperts` experts: shapes and dtypes, expert indices in range, kept
 * positions inside the capacity and no buffer slot used twice, combine weights finite and exactly 0 for
 * dropped choices, and `dropless` keeping the first choice of every real token.
 */
export function checkRoutingResult(
  r: RoutingResult,
  expected: {
    tokens: number;
    numExperts: number;
    label: string;
    dropless?: boolean;
    mask?: ArrayLike<number>;
  },
): void {
  const { tokens: s, numExperts: e, label } = expected;
  const fail = (problem: string): never => {
    throw new RouterContractError(`${label} broke the router contract: ${problem}.`);
  };
  const kind = (r as { kind?: unknown } | null)?.kind;
  if (kind !== 'sparse' && kind !== 'soft') fail(`kind is ${String(kind)}, not "sparse" or "soft"`);
  if (r.numExperts !== e) fail(`numExperts is ${r.numExperts}, the layer has ${e} experts`);
  if (!Number.isInteger(r.capacity) || r.capacity < 1)
    fail(`capacity is ${r.capacity}, not a positive integer`);
  const gates = r.gates;
  if (gates?.rank !== 2 || gates.shape[0] !== s || gates.shape[1] !== e || gates.dtype !== 'float32') {
    fail(`gates are ${shapeOf(gates)}, expected float32 [${s}, ${e}]`);
  }
  for (const [name, loss] of Object.entries(r.auxLosses ?? {})) {
    if (loss?.rank !== 0 || !Number.isFinite(loss.dataSync()[0]))
      fail(`aux loss "${name}" is not a finite scalar`);
  }
  if (r.kind === 'soft') {
    for (const [name, t] of [
      ['dispatchWeights', r.dispatchWeights],
      ['combineWeights', r.combineWeights],
    ] as const) {
      if (t?.rank !== 2 || t.shape[0] !== s || t.shape[1] !== e * r.capacity) {
        fail(`${name} is ${shapeOf(t)}, expected [${s}, ${e * r.capacity}] (tokens × experts·capacity)`);
      }
      if (!t.dataSync().every(Number.isFinite)) fail(`${name} holds NaN or infinite values`);
    }
    return;
  }
  const k = r.expertIndex?.shape[1];
  const want = (name: string, t: tf.Tensor | undefined, dtype: string) => {
    if (t?.rank !== 2 || t.shape[0] !== s || t.shape[1] !== k || t.dtype !== dtype) {
      fail(`${name} is ${shapeOf(t)}, expected ${dtype} [${s}, K]`);
    }
  };
  want('expertIndex', r.expertIndex, 'int32');
  want('position', r.position, 'int32');
  want('combineWeights', r.combineWeights, 'float32');
  const idx = r.expertIndex.dataSync();
  const pos = r.position.dataSync();
  const w = r.combineWeights.dataSync();
  const used = new Set<number>();
  for (let i = 0; i < idx.length; i++) {
    const token = Math.floor(i / k);
    if (!(Number.isInteger(idx[i]) && idx[i] >= 0 && idx[i] < e)) {
      fail(`expert index ${idx[i]} of token ${token} is outside [0, ${e})`);
    }
    if (!Number.isFinite(w[i])) fail(`combine weight of token ${token} is ${w[i]}`);
    if (pos[i] === -1) {
      if (w[i] !== 0) fail(`token ${token} is dropped (position −1) but has combine weight ${w[i]}`);
      // Under dropless a real token keeps its first choice (later ones may be unused: a task router's k_t < K).
      const real = expected.mask == null || expected.mask[token] === 1;
      if (expected.dropless && real && i % k === 0) {
        fail(`token ${token} was dropped although dropless routing was asked for`);
      }
      continue;
    }
    if (!(pos[i] >= 0 && pos[i] < r.capacity)) {
      fail(`position ${pos[i]} of token ${token} is outside its expert's capacity [0, ${r.capacity})`);
    }
    const slot = idx[i] * r.capacity + pos[i];
    if (used.has(slot)) fail(`slot ${pos[i]} of expert ${idx[i]} is given to two choices`);
    used.add(slot);
  }
}
