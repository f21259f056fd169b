import * as tf from '@tensorflow/tfjs';
import { layerNorm } from '../ops/layer_norm.js';
import { Layer, type LayerArgs } from './layer.js';
import { assertPositiveInteger } from '../config/integer_checks.js';

export interface LayerNormArgs extends LayerArgs {
  /** Size of the normalised (last) axis. */
  dim: number;
  /** Added to the variance. Default 1e-6 (ViT/flax); PyTorch's nn.LayerNorm default is 1e-5. */
  epsilon?: number;
}

/** Layer normalisation over the last axis with learned `gamma` (ones) and `beta` (zeros). */
export class LayerNorm extends Layer {
  static className = 'MoevlLayerNorm';
  readonly dim: number;
  readonly epsilon: number;
  gamma!: tf.Variable;
  beta!: tf.Variable;

  constructor(args: LayerNormArgs) {
    super(args);
    assertPositiveInteger(`LayerNorm ${this.name}: dim`, args.dim);
    this.dim = args.dim;
    this.epsilon = args.epsilon ?? 1e-6;
  }

  protected override build(): void {
    this.gamma = this.addWeight('gamma', [this.dim], 'ones');
    this.beta = this.addWeight('beta', [this.dim], 'zeros');
  }

  apply(x: tf.Tensor): tf.Tensor {
    this.ensureBuilt();
    if (x.shape[x.rank - 1] !== this.dim) {
      throw new Error(`LayerNorm ${this.name}: expected last dimension ${this.dim}, got input [${x.shape}].`);
    }
    return layerNorm(x, this.gamma, this.beta, this.epsilon);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(LayerNorm);
