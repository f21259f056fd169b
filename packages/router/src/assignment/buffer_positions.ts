export interface BufferPositionsInput {
  /** Row-major `[S, K]` expert of every (token, choice). */
  expertIndex: ArrayLike<number>;
  tokens: number;
  k: number;
  numExperts: number;
  capacity: number;
  /**
   * Tokens in the order they claim buffer slots; tokens missing from it (padding) take no slot. Defaults to
   * every token in index order. Batch Priority Routing passes the tokens sorted by their top-1 gate.
   */
  order?: ArrayLike<number>;
}

/**
 * Buffer position of every (token, choice) `[S, K]` row-major, −1 where the choice is dropped or the token
 * is not in `order`. This is V-MoE's `cumsum(one_hot(expert)) − 1` over the K-MAJOR flattening of the
 * choices (every token's 1st choice is placed before any token's 2nd choice, so a 2nd choice never evicts
 * a 1st), written as the O(S·K) running count per expert it is, instead of an O(S·K·E) one-hot cumsum.
 * A choice whose running count reached `capacity` is dropped.
 */
export function bufferPositions(input: BufferPositionsInput): Int32Array {
  const { expertIndex, tokens, k, numExperts, capacity } = input;
  const position = new Int32Array(tokens * k).fill(-1);
  const counts = new Int32Array(numExperts);
  const order = input.order ?? identityOrder(tokens);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < order.length; i++) {
      const slot = order[i] * k + j;
      const e = expertIndex[slot];
      if (!(e >= 0 && e < numExperts)) {
        throw new Error(
          `bufferPositions: expert index ${e} at token ${order[i]} is outside [0, ${numExperts}).`,
        );
      }
      if (counts[e] < capacity) position[slot] = counts[e]++;
    }
  }
  return position;
}

function identityOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * The smallest capacity at which `bufferPositions` drops nothing: the largest number of choices any expert
 * receives from the tokens in `order` (all tokens by default), rounded up to a multiple of `multipleOf`.
 * Dropless routing at evaluation uses it, so the buffers are as small as the batch allows.
 */
export function droplessCapacity(input: Omit<BufferPositionsInput, 'capacity'>, multipleOf = 1): number {
  const { expertIndex, tokens, k, numExperts } = input;
  const counts = new Int32Array(numExperts);
  const order = input.order ?? identityOrder(tokens);
  for (let i = 0; i < order.length; i++) {
    for (let j = 0; j < k; j++) {
      const e = expertIndex[order[i] * k + j];
      if (e >= 0 && e < numExperts) counts[e]++;
    }
  }
  const most = Math.max(1, ...counts);
  return Math.ceil(most / multipleOf) * multipleOf;
}
