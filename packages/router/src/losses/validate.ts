import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger } from '@moevl/core';

/**
 * Input checks shared by the auxiliary losses. A bad router output (a NaN from an exploding logit, a
 * transposed matrix, a mask of the wrong length) otherwise surfaces as a NaN loss many steps later, far
 * from its cause; every message names the loss and the problem so the failing call is obvious.
 */

/** True when `x` holds a NaN. One boolean crosses to JS, not the whole tensor. */
export function containsNaN(x: tf.Tensor): boolean {
  return tf.tidy(() => tf.any(tf.isNaN(x)).dataSync()[0] !== 0);
}

/** The shape and dtype checks of `checkMatrix` and `readMatrix` (everything but the NaN scan). */
function checkMatrixShape(fn: string, name: string, x: tf.Tensor, dims: string): void {
  if (x == null) throw new Error(`${fn}: ${name} is required (a 2-D tensor ${dims}).`);
  if (x.rank !== 2) {
    throw new Error(`${fn}: ${name} must be 2-D ${dims}, got rank ${x.rank} with shape [${x.shape}].`);
  }
  if (x.dtype !== 'float32') throw new Error(`${fn}: ${name} must be float32, got ${x.dtype}.`);
  if (x.size < 1) {
    throw new Error(`${fn}: ${name} must have at least one row and one column, got shape [${x.shape}].`);
  }
}

/**
 * Checks a per-token router matrix: 2-D, float32, at least one row and one column, no NaN.
 * `dims` names the two axes in the message, e.g. `[tokens, experts]`.
 */
export function checkMatrix(fn: string, name: string, x: tf.Tensor, dims = '[tokens, experts]'): void {
  checkMatrixShape(fn, name, x, dims);
  if (containsNaN(x)) throw new Error(`${fn}: ${name} contain NaN.`);
}

/**
 * `checkMatrix` for losses computed on the host: the same checks, the NaN scan done on the values read back
 * once, which it returns.
 */
export function readMatrix(fn: string, name: string, x: tf.Tensor, dims = '[tokens, experts]'): Float32Array {
  checkMatrixShape(fn, name, x, dims);
  const values = x.dataSync() as Float32Array;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) throw new Error(`${fn}: ${name} contain NaN.`);
  }
  return values;
}

/**
 * Checks a 1-D int32 id per token (task or modality) against `count` classes and returns the ids as JS
 * numbers. Out-of-range ids are an error rather than silently dropped: a token that belongs to no group
 * would vanish from every loss. Use the mask to leave tokens out.
 */
export function checkTokenIds(
  fn: string,
  name: string,
  ids: tf.Tensor,
  numTokens: number,
  count: number,
  countName: string,
): Int32Array {
  assertPositiveInteger(`${fn}: ${countName}`, count);
  if (ids == null) throw new Error(`${fn}: ${name} is required (a 1-D int32 tensor of length ${numTokens}).`);
  if (ids.dtype !== 'int32') throw new Error(`${fn}: ${name} must be int32, got ${ids.dtype}.`);
  if (ids.rank !== 1 || ids.shape[0] !== numTokens) {
    throw new Error(
      `${fn}: ${name} must be 1-D of length ${numTokens} (one per token), got shape [${ids.shape}].`,
    );
  }
  const values = ids.dataSync() as Int32Array;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= count) {
      throw new Error(
        `${fn}: ${name}[${i}] = ${values[i]} is outside [0, ${count}) (${countName} = ${count}).`,
      );
    }
  }
  return values;
}

/** Checks an optional finite, non-negative number option (a threshold, a count). */
export function checkNonNegative(fn: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${fn}: ${name} must be a finite number ≥ 0, got ${value}.`);
  }
}
