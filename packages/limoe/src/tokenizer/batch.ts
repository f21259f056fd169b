import { assertInteger } from '@moevl/core';

/**
 * Lays token rows out as the fixed-length `[N, L]` buffers the text tower consumes, CLIP-style:
 * `<sot> tokens… <eot> <pad>…`. Kept separate from the tokenizer so the layout (and its truncation rule)
 * is one small, testable function.
 */

/** Ids the layout needs. */
export interface LayoutIds {
  sot: number;
  eot: number;
  pad: number;
}

/** A batch of encoded texts, row-major `[batchSize, contextLength]`. */
export interface EncodedBatch {
  /** Token ids, `<pad>` after `<eot>`. */
  ids: Int32Array;
  /** 1 for real tokens (including `<sot>` and `<eot>`), 0 for padding: the attention key mask. */
  mask: Float32Array;
  /** Real tokens per row, `<sot>` and `<eot>` included. */
  lengths: Int32Array;
  /** Position of `<eot>` per row (`lengths − 1`): where the text tower pools from. */
  eotIndex: Int32Array;
  /** 1 where the row's text did not fit and was cut. */
  truncated: Uint8Array;
  batchSize: number;
  contextLength: number;
}

/**
 * Builds the batch buffers. A row longer than `contextLength − 2` tokens is cut and `<eot>` is still placed
 * at the last position, as CLIP does: the pooled `<eot>` feature must exist in every row, and cutting the
 * end of a long caption loses less than losing its pooling token.
 */
export function layoutBatch(
  rows: readonly (readonly number[])[],
  contextLength: number,
  special: LayoutIds,
): EncodedBatch {
  assertInteger('encodeBatch: contextLength', contextLength, { min: 2, note: 'room for <sot> and <eot>' });
  const n = rows.length;
  const L = contextLength;
  const ids = new Int32Array(n * L).fill(special.pad);
  const mask = new Float32Array(n * L);
  const lengths = new Int32Array(n);
  const eotIndex = new Int32Array(n);
  const truncated = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    const keep = Math.min(row.length, L - 2);
    const base = r * L;
    ids[base] = special.sot;
    for (let j = 0; j < keep; j++) ids[base + 1 + j] = row[j];
    ids[base + 1 + keep] = special.eot;
    const length = keep + 2;
    mask.fill(1, base, base + length);
    lengths[r] = length;
    eotIndex[r] = length - 1;
    truncated[r] = row.length > keep ? 1 : 0;
  }
  return { ids, mask, lengths, eotIndex, truncated, batchSize: n, contextLength: L };
}
