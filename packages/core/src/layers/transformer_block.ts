import * as tf from '@tensorflow/tfjs';
import type { ActivationName } from './activations.js';
import { MultiHeadSelfAttention } from './attention.js';
import type { FeedForwardLayer, FeedForwardOutput, TokenContext } from './feed_forward.js';
import { Layer, type LayerArgs, type SerializedLayer, deserializeLayer, serializeLayer } from './layer.js';
import { LayerNorm } from './layer_norm.js';
import { MLP } from './mlp.js';

export interface TransformerBlockArgs extends LayerArgs {
  dim: number;
  numHeads: number;
  /** Hidden width of the default MLP = mlpRatio·dim. Default 4. */
  mlpRatio?: number;
  /** Activation of the default MLP. Default `gelu`. */
  activation?: ActivationName;
  /**
   * The layer in the MLP slot: an instance (e.g. an MoE layer) or its serialised form. Default: a dense
   * `MLP`. It receives `ln2(x)` and the block's `TokenContext`.
   */
  mlp?: FeedForwardLayer | SerializedLayer;
  causal?: boolean;
  /** LayerNorm epsilon. Default 1e-6. */
  epsilon?: number;
}

export interface TransformerBlockContext extends TokenContext {
  /** [B, T] 1 for real tokens; forwarded to attention as the key-padding mask. */
  tokenMask?: tf.Tensor;
  /** [B or 1, T, T] 1 where query i may attend to key j (e.g. block-diagonal for packed modalities). */
  attentionMask?: tf.Tensor;
}

/**
 * Pre-LN transformer block (ViT, CLIP, V-MoE): x + attn(ln1(x)), then x + mlp(ln2(x)). The MLP slot is
 * pluggable; whatever it returns as aux losses and metrics comes back with the output. Children `ln1`,
 * `attn`, `ln2`, `mlp`.
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
  readonly attn: MultiHeadSelfAttention;
  readonly ln2: LayerNorm;
  readonly mlp: FeedForwardLayer;

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
    this.attn = this.addChild(
      'attn',
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
    let mlp: FeedForwardLayer;
    if (args.mlp == null) {
      const hiddenDim = Math.round(this.mlpRatio * this.dim);
      mlp = new MLP({ dim: this.dim, hiddenDim, activation: this.activation, seed: seed('mlp') });
    } else if (args.mlp instanceof Layer) {
      mlp = args.mlp;
    } else {
      mlp = deserializeLayer<FeedForwardLayer>(args.mlp);
    }
    if (typeof (mlp as Partial<FeedForwardLayer>).forward !== 'function') {
      throw new Error(`TransformerBlock ${this.name}: the mlp slot needs a layer with forward(x, ctx).`);
    }
    this.mlp = this.addChild('mlp', mlp);
  }

  /** x [B, T, D] → {y [B, T, D], auxLosses, metrics} from the MLP slot. */
  forward(x: tf.Tensor, ctx: TransformerBlockContext = { training: false }): FeedForwardOutput {
    let metrics: FeedForwardOutput['metrics'] = {};
    const out = tf.tidy(() => {
      const h = tf.add(x, this.attn.apply(this.ln1.apply(x), ctx.tokenMask, ctx.attentionMask));
      const ff = this.mlp.forward(this.ln2.apply(h), ctx);
      metrics = ff.metrics ?? {};
      return { y: tf.add(h, ff.y), auxLosses: ff.auxLosses ?? {} };
    });
    return { y: out.y, auxLosses: out.auxLosses, metrics };
  }

  /** Forward pass returning only the tokens. */
  apply(x: tf.Tensor, ctx?: TransformerBlockContext): tf.Tensor {
    const out = this.forward(x, ctx);
    tf.dispose(Object.values(out.auxLosses ?? {}));
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
      mlp: serializeLayer(this.mlp) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(TransformerBlock);
