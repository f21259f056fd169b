import * as tf from '@tensorflow/tfjs';
import type { ActivationName } from './activations.js';
import { MultiHeadSelfAttention } from './attention.js';
import type { FeedForwardLayer, FeedForwardOutput, MetricValue, TokenContext } from './feed_forward.js';
import { Layer, type LayerArgs, type SerializedLayer, deserializeLayer, serializeLayer } from './layer.js';
import { LayerNorm } from './layer_norm.js';
import { MLP } from './mlp.js';

export interface TransformerBlockContext extends TokenContext {
  /** [B, T] 1 for real tokens; forwarded to attention as the key-padding mask. */
  tokenMask?: tf.Tensor;
  /** [B or 1, T, T] 1 where query i may attend to key j (e.g. block-diagonal for packed modalities). */
  attentionMask?: tf.Tensor;
}

/**
 * The contract of the attention slot of `TransformerBlock` other than core's dense
 * `MultiHeadSelfAttention`: `[B, T, D] → [B, T, D]` with the block's context, losses and metrics as data
 * (e.g. Mod-Squad's mixture of attention heads).
 */
export interface AttentionLayer extends Layer {
  forward(x: tf.Tensor, ctx: TransformerBlockContext): FeedForwardOutput;
}

export interface TransformerBlockArgs extends LayerArgs {
  dim: number;
  numHeads: number;
  /** Hidden width of the default MLP = mlpRatio·dim. Default 4. */
  mlpRatio?: number;
  /** Activation of the default MLP. Default `gelu`. */
  activation?: ActivationName;
  /**
   * The layer in the attention slot: an instance or its serialised form. Default: a dense
   * `MultiHeadSelfAttention` (with `causal`). It receives `ln1(x)` and the block's context.
   */
  attention?: AttentionLayer | MultiHeadSelfAttention | SerializedLayer;
  /**
   * The layer in the MLP slot: an instance (e.g. an MoE layer) or its serialised form. Default: a dense
   * `MLP`. It receives `ln2(x)` and the block's `TokenContext`.
   */
  mlp?: FeedForwardLayer | SerializedLayer;
  causal?: boolean;
  /** LayerNorm epsilon. Default 1e-6. */
  epsilon?: number;
}

/** What one slot of a block returned besides its tokens. */
export interface BlockSlotOutput {
  auxLosses: Record<string, tf.Scalar>;
  metrics: Record<string, MetricValue>;
}

export interface TransformerBlockOutput extends FeedForwardOutput {
  y: tf.Tensor;
  /** The MLP slot's aux losses under their own names, the attention slot's under `attention/<name>`. */
  auxLosses: Record<string, tf.Scalar>;
  /** The MLP slot's metrics. */
  metrics: Record<string, MetricValue>;
  /** Each slot's losses and metrics, unprefixed (the same tensors as in `auxLosses`). */
  slots: { attention: BlockSlotOutput; mlp: BlockSlotOutput };
}

function hasForward(layer: Layer): boolean {
  return typeof (layer as Partial<FeedForwardLayer>).forward === 'function';
}

function slotLayer(value: Layer | SerializedLayer): Layer {
  return value instanceof Layer ? value : deserializeLayer<Layer>(value);
}

/**
 * Pre-LN transformer block (ViT, CLIP, V-MoE, LIMoE, Mod-Squad): x + attn(ln1(x)), then x + mlp(ln2(x)).
 * Both slots are pluggable; whatever they return as aux losses and metrics comes back with the output.
 * Children `ln1`, `attn`, `ln2`, `mlp`.
 */
export class TransformerBlock extends Layer {
  static className = 'MoevlTransformerBlock';
  readonly dim: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly activation: ActivationName;
  readonly causal: boolean;
  readonly epsilon: number;
  readonly ln1: LayerNorm;
  readonly attn: AttentionLayer | MultiHeadSelfAttention;
  readonly ln2: LayerNorm;
  readonly mlp: FeedForwardLayer;
  /** Whether the attention slot was given (else the block built its dense attention). */
  private readonly configuredAttention: boolean;

  constructor(args: TransformerBlockArgs) {
    super(args);
    this.dim = args.dim;
    this.numHeads = args.numHeads;
    this.mlpRatio = args.mlpRatio ?? 4;
    this.activation = args.activation ?? 'gelu';
    this.causal = args.causal ?? false;
    this.epsilon = args.epsilon ?? 1e-6;
    const seed = (name: string) => this.childSeed(name);
    this.ln1 = this.addChild(
      'ln1',
      new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('ln1') }),
    );
    const attention = args.attention == null ? null : slotLayer(args.attention);
    if (attention != null && !(attention instanceof MultiHeadSelfAttention) && !hasForward(attention)) {
      throw new Error(
        `TransformerBlock ${this.name}: the attention slot needs a layer with forward(x, ctx).`,
      );
    }
    this.configuredAttention = attention != null;
    this.attn = this.addChild(
      'attn',
      (attention as AttentionLayer | MultiHeadSelfAttention | null) ??
        new MultiHeadSelfAttention({
          dim: this.dim,
          numHeads: this.numHeads,
          causal: this.causal,
          seed: seed('attn'),
        }),
    );
    this.ln2 = this.addChild(
      'ln2',
      new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('ln2') }),
    );
    const mlp =
      args.mlp == null
        ? new MLP({
            dim: this.dim,
            hiddenDim: Math.round(this.mlpRatio * this.dim),
            activation: this.activation,
            seed: seed('mlp'),
          })
        : slotLayer(args.mlp);
    if (!hasForward(mlp)) {
      throw new Error(`TransformerBlock ${this.name}: the mlp slot needs a layer with forward(x, ctx).`);
    }
    this.mlp = this.addChild('mlp', mlp as FeedForwardLayer);
  }

  /** x [B, T, D] → {y [B, T, D], auxLosses, metrics, slots} from both slots. */
  forward(x: tf.Tensor, ctx: TransformerBlockContext = { training: false }): TransformerBlockOutput {
    const slots: TransformerBlockOutput['slots'] = {
      attention: { auxLosses: {}, metrics: {} },
      mlp: { auxLosses: {}, metrics: {} },
    };
    const out = tf.tidy(() => {
      let attended: tf.Tensor;
      if (this.attn instanceof MultiHeadSelfAttention) {
        attended = this.attn.apply(this.ln1.apply(x), ctx.tokenMask, ctx.attentionMask);
      } else {
        const a = this.attn.forward(this.ln1.apply(x), ctx);
        attended = a.y;
        slots.attention = { auxLosses: a.auxLosses ?? {}, metrics: a.metrics ?? {} };
      }
      const h = tf.add(x, attended);
      const ff = this.mlp.forward(this.ln2.apply(h), ctx);
      slots.mlp = { auxLosses: ff.auxLosses ?? {}, metrics: ff.metrics ?? {} };
      return {
        y: tf.add(h, ff.y),
        attention: slots.attention.auxLosses,
        mlp: slots.mlp.auxLosses,
      } as unknown as tf.TensorContainer;
    }) as unknown as { y: tf.Tensor; attention: Record<string, tf.Scalar>; mlp: Record<string, tf.Scalar> };
    slots.attention.auxLosses = out.attention;
    slots.mlp.auxLosses = out.mlp;
    const auxLosses = { ...out.mlp };
    for (const [k, v] of Object.entries(out.attention)) auxLosses[`attention/${k}`] = v;
    return { y: out.y, auxLosses, metrics: slots.mlp.metrics, slots };
  }

  /** Forward pass returning only the tokens. */
  apply(x: tf.Tensor, ctx?: TransformerBlockContext): tf.Tensor {
    const out = this.forward(x, ctx);
    tf.dispose(Object.values(out.auxLosses));
    return out.y;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dim: this.dim,
      numHeads: this.numHeads,
      mlpRatio: this.mlpRatio,
      activation: this.activation,
      causal: this.causal,
      epsilon: this.epsilon,
      // A configured attention slot only: configs written before the slot existed stay as they were.
      ...(this.configuredAttention && {
        attention: serializeLayer(this.attn) as unknown as tf.serialization.ConfigDictValue,
      }),
      mlp: serializeLayer(this.mlp) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(TransformerBlock);
