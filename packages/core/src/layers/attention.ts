import * as tf from '@tensorflow/tfjs';
import { attentionSoftmax } from '../ops/attention_softmax.js';
import { splitHeads } from '../ops/split_heads.js';
import { Dense } from './dense.js';
import { Layer, type LayerArgs } from './layer.js';
import { assertPositiveInteger } from '../config/integer_checks.js';

export interface MultiHeadSelfAttentionArgs extends LayerArgs {
  /** Model width; must be divisible by `numHeads`. */
  dim: number;
  numHeads: number;
  /** Each token attends only to itself and earlier tokens (CLIP's text tower). Default false. */
  causal?: boolean;
  /** Bias on the q/k/v projection. Default true. */
  qkvBias?: boolean;
}

// Large but finite: a fully masked row then softmaxes to uniform instead of NaN.
const MASKED = -1e9;

/**
 * Multi-head self-attention with a key-padding mask: softmax(q·kᵀ/√d_head + mask)·v. Children `qkv`
 * (one Dense to 3·dim, as timm/open_clip fuse it) and `out`.
 */
export class MultiHeadSelfAttention extends Layer {
  static className = 'MoevlMultiHeadSelfAttention';
  readonly dim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly causal: boolean;
  readonly qkvBias: boolean;
  readonly qkv: Dense;
  readonly out: Dense;

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    assertPositiveInteger(`MultiHeadSelfAttention ${this.name}: numHeads`, args.numHeads);
    if (args.dim % args.numHeads !== 0) {
      throw new Error(
        `MultiHeadSelfAttention ${this.name}: dim ${args.dim} must be divisible by numHeads ${args.numHeads}.`,
      );
    }
    this.dim = args.dim;
    this.numHeads = args.numHeads;
    this.headDim = args.dim / args.numHeads;
    this.causal = args.causal ?? false;
    this.qkvBias = args.qkvBias ?? true;
    this.qkv = this.addChild(
      'qkv',
      new Dense({
        inputDim: args.dim,
        units: 3 * args.dim,
        useBias: this.qkvBias,
        seed: this.childSeed('qkv'),
      }),
    );
    this.out = this.addChild(
      'out',
      new Dense({ inputDim: args.dim, units: args.dim, seed: this.childSeed('out') }),
    );
  }

  /**
   * @param x [B, T, D]
   * @param keyPaddingMask [B, T], 1 (or true) for real tokens, 0 for padding that no query may attend to.
   * @param attentionMask [B or 1, T, T], 1 where query i may attend to key j. LIMoE packs an image and its
   *   caption into one sequence (so MoE layers route both modalities in one group) and uses a
   *   block-diagonal mask so neither attends to the other.
   */
  apply(x: tf.Tensor, keyPaddingMask?: tf.Tensor, attentionMask?: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`MultiHeadSelfAttention ${this.name}: expected [B, T, ${this.dim}], got [${x.shape}].`);
    }
    const [b, t] = x.shape;
    if (
      keyPaddingMask != null &&
      (keyPaddingMask.rank !== 2 || keyPaddingMask.shape[0] !== b || keyPaddingMask.shape[1] !== t)
    ) {
      throw new Error(
        `MultiHeadSelfAttention ${this.name}: keyPaddingMask must be [${b}, ${t}], got [${keyPaddingMask.shape}].`,
      );
    }
    if (
      attentionMask != null &&
      (attentionMask.rank !== 3 ||
        (attentionMask.shape[0] !== b && attentionMask.shape[0] !== 1) ||
        attentionMask.shape[1] !== t ||
        attentionMask.shape[2] !== t)
    ) {
      throw new Error(
        `MultiHeadSelfAttention ${this.name}: attentionMask must be [${b} or 1, ${t}, ${t}], got [${attentionMask.shape}].`,
      );
    }
    return tf.tidy(() => {
      const h = this.numHeads;
      const hd = this.headDim;
      // One product for q, k and v (the fused qkv Dense, bias inside it), then one kernel that moves the three
      // column blocks to heads (`splitHeads`; its gradient is the reverse move).
      const x2d = tf.reshape(x, [b * t, this.dim]) as tf.Tensor2D;
      const [q, k, v] = splitHeads(this.qkv.apply(x2d) as tf.Tensor2D, b, t, h);
      const scores = tf.reshape(tf.matMul(q, k, false, true), [b, h, t, t]);
      // The masks become one additive bias [B or 1, 1, T or 1, T] shared by the heads; the scale, the bias and
      // the softmax are one fused kernel (and one for the gradient).
      const masks: tf.Tensor[] = [];
      if (keyPaddingMask != null) {
        const keep = tf.reshape(tf.cast(keyPaddingMask, 'float32'), [b, 1, 1, t]);
        masks.push(tf.mul(tf.sub(1, keep), MASKED));
      }
      if (attentionMask != null) {
        const allowed = tf.expandDims(tf.cast(attentionMask, 'float32'), 1); // [B|1, 1, T, T]
        masks.push(tf.mul(tf.sub(1, allowed), MASKED));
      }
      if (this.causal) {
        const lower = tf.reshape(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), [1, 1, t, t]);
        masks.push(tf.mul(tf.sub(1, lower), MASKED));
      }
      // Broadcasting adds, not broadcastTo: wasm's Tile takes ~9 ms for a [128, 1, 40, 40] mask.
      const bias = masks.length === 0 ? undefined : (masks.reduce((a, m) => tf.add(a, m)) as tf.Tensor4D);
      const attn = tf.reshape(attentionSoftmax(scores as tf.Tensor4D, bias, 1 / Math.sqrt(hd)), [
        b * h,
        t,
        t,
      ]);
      const ctx = tf.reshape(tf.matMul(attn, v), [b, h, t, hd]);
      return this.out.apply(tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, t, this.dim]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dim: this.dim,
      numHeads: this.numHeads,
      causal: this.causal,
      qkvBias: this.qkvBias,
    };
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);
