import * as tf from '@tensorflow/tfjs';
import { checkCapacity, readGates, readMask } from './gates_input.js';

export interface AssignExpertChoiceOptions {
  /** Tokens each expert takes (C); `computeCapacity({tokens: S, experts: E, capacityFactor})`. ≤ S. */
  capacity: number;
  /** `[S]` token mask: 0 = padding, which no expert takes. */
  mask?: tf.Tensor1D;
}

/**
 * An expert-choice routing decision in the same index form as token choice, with K = E: slot e of a token
 * is expert e, so `dispatchTokens` / `combineTokens` consume it unchanged.
 */
export interface ExpertChoiceAssignment {
  /** `[S, E]` int32: expertIndex[s, e] = e. */
  expertIndex: tf.Tensor2D;
  /** `[S, E]` int32: rank of token s among the tokens expert e took (0 = highest gate), or −1. */
  position: tf.Tensor2D;
  /** `[S, E]` float32: gates[s, e] where expert e took token s (differentiable), else exactly 0. */
  combineWeights: tf.Tensor2D;
}

/**
 * Expert choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing"): instead of
 * tokens picking experts, each expert picks its top-C tokens by gate, so every expert is exactly full (load
 * balance by construction, no auxiliary loss) while a token may be taken by several experts or by none.
 * Ties go to the lower token index; masked tokens are never taken (an expert with fewer than C real tokens
 * left simply has empty slots). The choice is made in JS over the gate values; the weights are
 * `where(taken, gates, 0)`, so the gradient reaches exactly the taken gates.
 */
export function assignExpertChoice(
  gates: tf.Tensor2D,
  options: AssignExpertChoiceOptions,
): ExpertChoiceAssignment {
  const op = 'assignExpertChoice';
  const { capacity } = options;
  const { values, tokens, experts } = readGates(op, gates);
  checkCapacity(op, capacity);
  if (capacity > tokens) {
    throw new Error(`${op}: capacity ${capacity} exceeds the number of tokens S = ${tokens}.`);
  }
  const keep = readMask(op, options.mask, tokens);

  const position = new Int32Array(tokens * experts).fill(-1);
  const taken = new Uint8Array(tokens * experts);
  const candidates: number[] = [];
  for (let s = 0; s < tokens; s++) if (keep == null || keep[s]) candidates.push(s);
  const order = new Array<number>(candidates.length);
  for (let e = 0; e < experts; e++) {
    for (let i = 0; i < candidates.length; i++) order[i] = candidates[i];
    // Stable sort by descending gate: equal gates keep the lower token index first.
    order.sort((a, b) => {
      const ga = values[a * experts + e];
      const gb = values[b * experts + e];
      return ga === gb ? 0 : ga < gb ? 1 : -1;
    });
    const n = Math.min(capacity, order.length);
    for (let r = 0; r < n; r++) {
      position[order[r] * experts + e] = r;
      taken[order[r] * experts + e] = 1;
    }
  }

  const index = new Int32Array(tokens * experts);
  for (let i = 0; i < index.length; i++) index[i] = i % experts;
  return tf.tidy(() => {
    const mask = tf.tensor2d(taken, [tokens, experts], 'bool');
    return {
      expertIndex: tf.tensor2d(index, [tokens, experts], 'int32'),
      position: tf.tensor2d(position, [tokens, experts], 'int32'),
      combineWeights: tf.where(mask, gates, tf.zerosLike(gates)) as tf.Tensor2D,
    };
  });
}
