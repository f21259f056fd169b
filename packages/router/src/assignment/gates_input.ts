import type * as tf from '@tensorflow/tfjs';
import { assertInteger } from '@moevl/core';

/** Gates read once into JS for the integer bookkeeping of an assignment, plus the validated shape. */
export interface GatesData {
  /** Row-major `[S, E]` gate values. */
  values: Float32Array | Int32Array | Uint8Array;
  tokens: number;
  experts: number;
}

/**
 * Checks that `gates` is a float `[S, E]` matrix without NaN and reads it. Assignments are integer
 * bookkeeping done in JS over these values; a NaN gate would silently sort anywhere, so it is an error that
 * names the token (a NaN usually means a diverged router, and the token index helps find it).
 */
export function readGates(op: string, gates: tf.Tensor): GatesData {
  if (gates.rank !== 2) {
    throw new Error(`${op}: gates must be a 2-D [S, E] tensor, got shape [${gates.shape}].`);
  }
  if (gates.dtype !== 'float32') throw new Error(`${op}: gates must be float32, got ${gates.dtype}.`);
  const [tokens, experts] = gates.shape;
  if (experts < 1)
    throw new Error(`${op}: gates must have at least one expert column, got shape [${gates.shape}].`);
  const values = gates.dataSync() as Float32Array;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      throw new Error(`${op}: gates contain NaN at token ${Math.floor(i / experts)}`);
    }
  }
  return { values, tokens, experts };
}

/**
 * Reads an optional `[S]` token mask (any dtype; non-zero = real token, zero = padding). Returns null when
 * there is no mask, so the caller can skip the check in its hot loop.
 */
export function readMask(op: string, mask: tf.Tensor | undefined, tokens: number): Uint8Array | null {
  if (mask == null) return null;
  if (mask.rank !== 1 || mask.shape[0] !== tokens) {
    throw new Error(`${op}: mask must be a 1-D [S] tensor with S = ${tokens}, got shape [${mask.shape}].`);
  }
  const data = mask.dataSync();
  const out = new Uint8Array(tokens);
  for (let s = 0; s < tokens; s++) out[s] = data[s] !== 0 ? 1 : 0;
  return out;
}

/** Capacity must be a positive integer: a buffer with no slot cannot hold any token. */
export function checkCapacity(op: string, capacity: number): void {
  assertInteger(`${op}: capacity`, capacity, { min: 1 });
}
