import * as tf from '@tensorflow/tfjs';
import { assertInteger } from '@moevl/core';

/** A `[rows, cols]` matrix as a tensor or nested JS arrays (metrics are often computed from logged data). */
export type MatrixInput = tf.Tensor | ArrayLike<ArrayLike<number>>;
/** A `[n]` vector as a tensor or a JS array / typed array. */
export type VectorInput = tf.Tensor | ArrayLike<number>;

export interface MatrixData {
  /** Row-major values. */
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

/** Reads a matrix into row-major JS data; metrics are bookkeeping over a few thousand numbers. */
export function readMatrix(op: string, name: string, x: MatrixInput): MatrixData {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${op}: ${name} must be 2-D, got shape [${x.shape}].`);
    const [rows, cols] = x.shape as number[];
    return { data: x.dataSync(), rows, cols };
  }
  const rows = x.length;
  const cols = rows === 0 ? 0 : x[0].length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (x[r].length !== cols) {
      throw new Error(
        `${op}: ${name} must be rectangular; row ${r} has ${x[r].length} entries, row 0 ${cols}.`,
      );
    }
    for (let c = 0; c < cols; c++) data[r * cols + c] = x[r][c];
  }
  return { data, rows, cols };
}

/** Reads a vector and checks its length. */
export function readVector(op: string, name: string, x: VectorInput, length: number): ArrayLike<number> {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1 || x.shape[0] !== length) {
      throw new Error(`${op}: ${name} must be 1-D of length ${length}, got shape [${x.shape}].`);
    }
    return x.dataSync();
  }
  if (x.length !== length) throw new Error(`${op}: ${name} must have length ${length}, got ${x.length}.`);
  return x;
}

/** Token mask as 0/1 bytes (non-zero = real token); all ones when absent. */
export function readMask(op: string, mask: VectorInput | undefined, tokens: number): Uint8Array {
  const out = new Uint8Array(tokens).fill(1);
  if (mask == null) return out;
  const data = readVector(op, 'mask', mask, tokens);
  for (let s = 0; s < tokens; s++) out[s] = data[s] !== 0 ? 1 : 0;
  return out;
}

/**
 * Reads per-token group labels (modality or task ids) and the number of groups: `count` when given, else
 * max label + 1. Labels must be integers in [0, count).
 */
export function readLabels(
  op: string,
  name: string,
  countName: string,
  labels: VectorInput,
  tokens: number,
  count: number | undefined,
): { labels: ArrayLike<number>; count: number } {
  const data = readVector(op, name, labels, tokens);
  let max = -1;
  for (let s = 0; s < tokens; s++) max = Math.max(max, data[s]);
  const n = count ?? max + 1;
  assertInteger(`${op}: ${countName}`, n, { min: 0 });
  for (let s = 0; s < tokens; s++) {
    const v = data[s];
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new Error(`${op}: ${name}[${s}] = ${v} is not an integer in [0, ${n}).`);
    }
  }
  return { labels: data, count: n };
}

/** a / b, or null where b is 0 or the result is not finite: metrics are JSON and must never hold NaN. */
export function ratio(a: number, b: number): number | null {
  if (b === 0) return null;
  const r = a / b;
  return Number.isFinite(r) ? r : null;
}
