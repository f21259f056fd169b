import * as tf from '@tensorflow/tfjs';
import { deriveSeed, oneHot } from '@moevl/core';
import { readMask } from '../assignment/gates_input.js';
import { bufferPositions, droplessCapacity } from '../assignment/buffer_positions.js';
import { computeCapacity } from '../assignment/capacity.js';
import type {
  Router,
  RouterContext,
  RouterOptions,
  RouterStrategy,
  SparseRoutingResult,
} from './contract.js';
import { OptionReader } from './option_checks.js';
import { sparseResult } from './sparse_result.js';

export interface HashRouterOptions extends RouterOptions {
  /** Picks the hash table: the same seed gives the same token-id → expert map everywhere. */
  seed: number;
  /**
   * Capacity factor (default 1.25). A hash balances load only on average over the vocabulary; a batch
   * with many repeats of one token (punctuation, padding-like ids) overflows its expert, so some slack is
   * needed.
   */
  capacityFactor: number;
  /** Round capacity up to a multiple of this (vmoe: 4). */
  capacityMultipleOf: number;
}

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability ≈ 1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Expert of vocabulary id `id` for a seeded hash (a 31-bit mix of id and seed, mod E). This is Roller et
 * al.'s "random hash": a fixed, data-independent table over the whole vocabulary, here computed on demand
 * instead of stored, so it needs no vocabulary size and costs no memory.
 */
export function hashExpert(id: number, seed: number, numExperts: number): number {
  return mix(id, deriveSeed(seed, 'hash')) % numExperts;
}

/** The 31-bit hash of `id` under an already derived key (ids are taken modulo 2^32). */
function mix(id: number, key: number): number {
  return fmix32(fmix32(id ^ key) ^ Math.imul(key, 0x9e3779b1)) & 0x7fffffff;
}

/**
 * Hash routing (Roller et al. 2021, "Hash Layers For Large Sparse Models"): each token goes to the one
 * expert its vocabulary id hashes to. There is no router weight, nothing to learn and no auxiliary loss;
 * the paper found this competitive with learned routing in language models. Tokens claim buffer slots in
 * token order and are dropped past capacity like top-1 routing; a kept token's weight is the constant 1
 * (no gradient), and the reported gates are the one-hot of the hashed expert.
 */
class HashRouter implements Router {
  readonly strategy = 'hash';
  readonly batchIndependent = true;
  readonly numExperts: number;
  readonly inputDim: number;

  constructor(private readonly options: HashRouterOptions) {
    this.numExperts = options.numExperts;
    this.inputDim = options.inputDim;
  }

  route(x: tf.Tensor2D, ctx: RouterContext): SparseRoutingResult {
    if (x.rank !== 2 || x.shape[1] !== this.inputDim) {
      throw new Error(`router "hash": expected tokens [S, ${this.inputDim}], got [${x.shape}].`);
    }
    const o = this.options;
    const [s, e] = [x.shape[0], this.numExperts];
    const ids = readTokenIds(ctx.tokenIds, s);
    const keep = readMask('router "hash"', ctx.mask, s);
    const index = new Int32Array(s);
    const key = deriveSeed(o.seed, 'hash');
    for (let t = 0; t < s; t++) index[t] = mix(ids[t], key) % e;
    const order: number[] = [];
    for (let t = 0; t < s; t++) if (keep == null || keep[t] === 1) order.push(t);
    const layout = { expertIndex: index, tokens: s, k: 1, numExperts: e, order };
    const capacity =
      ctx.dropless && !ctx.training
        ? droplessCapacity(layout, o.capacityMultipleOf)
        : computeCapacity({
            tokens: s,
            experts: e,
            k: 1,
            capacityFactor: ctx.training ? o.capacityFactor : (ctx.capacityFactor ?? o.capacityFactor),
            multipleOf: o.capacityMultipleOf,
          });
    const position = bufferPositions({ ...layout, capacity });
    const weights = new Float32Array(s);
    for (let t = 0; t < s; t++) weights[t] = position[t] >= 0 ? 1 : 0;
    const result = tf.tidy(() => {
      const expertIndex = tf.tensor2d(index, [s, 1], 'int32');
      return {
        expertIndex,
        position: tf.tensor2d(position, [s, 1], 'int32'),
        combineWeights: tf.tensor2d(weights, [s, 1], 'float32'),
        gates: oneHot(tf.reshape(expertIndex, [s]), e) as tf.Tensor2D,
      };
    });
    const { gates, ...assignment } = result;
    return sparseResult({
      numExperts: e,
      assignment: { ...assignment, capacity },
      gates,
      auxLosses: {},
      ctx,
    });
  }

  namedWeights(): Record<string, tf.Variable> {
    return {};
  }

  getOptions(): HashRouterOptions {
    return { ...this.options };
  }

  dispose(): void {}
}

/** Reads `ctx.tokenIds` as integers ≥ 0, one per token; hash routing cannot run without them. */
function readTokenIds(tokenIds: tf.Tensor1D | undefined, tokens: number): ArrayLike<number> {
  if (tokenIds == null) {
    throw new Error(
      'router "hash": hash routing needs token ids; pass ctx.tokenIds ([S] int32 vocabulary ids).',
    );
  }
  if (tokenIds.rank !== 1 || tokenIds.shape[0] !== tokens) {
    throw new Error(
      `router "hash": ctx.tokenIds must be 1-D [S] with S = ${tokens}, got shape [${tokenIds.shape}].`,
    );
  }
  const ids = tokenIds.dataSync();
  for (let t = 0; t < tokens; t++) {
    if (!Number.isInteger(ids[t]) || ids[t] < 0) {
      throw new Error(`router "hash": ctx.tokenIds[${t}] = ${ids[t]} is not an integer ≥ 0.`);
    }
  }
  return ids;
}

export const hashRouter: RouterStrategy<HashRouterOptions> = {
  specificationVersion: 'v1',
  name: 'hash',
  version: '1.0.0',
  description: 'Hash routing (Roller et al. 2021): a fixed seeded token-id → expert table, no weights',
  validateOptions(raw) {
    const r = new OptionReader('hash', raw, ['capacityFactor', 'capacityMultipleOf']);
    return {
      ...r.common(),
      capacityFactor: r.number('capacityFactor', 1.25, { exclusiveMin: 0 }),
      capacityMultipleOf: r.int('capacityMultipleOf', 4, 1),
    };
  },
  create: (options) => new HashRouter(options),
};
