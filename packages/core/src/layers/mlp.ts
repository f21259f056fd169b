import * as tf from '@tensorflow/tfjs';
import { biasGelu } from '../ops/bias_gelu.js';
import { type ActivationName, activation, checkActivation } from './activations.js';
import { Dense } from './dense.js';
import type { FeedForwardLayer, FeedForwardOutput, TokenContext } from './feed_forward.js';
import { Layer, type LayerArgs } from './layer.js';

export interface MLPArgs extends LayerArgs {
  /** Input and output width. */
  dim: number;
  /** Hidden width; ViT uses 4·dim. */
  hiddenDim: number;
  /** Default `gelu`. */
  activation?: ActivationName;
}

/** The transformer MLP: Dense(dim→hidden) → activation → Dense(hidden→dim). Children `fc1`, `fc2`. */
export class MLP extends Layer implements FeedForwardLayer {
  static className = 'MoevlMLP';
  readonly dim: number;
  readonly hiddenDim: number;
  readonly activation: ActivationName;
  readonly fc1: Dense;
  readonly fc2: Dense;

  constructor(args: MLPArgs) {
    super(args);
    this.dim = args.dim;
    this.hiddenDim = args.hiddenDim;
    this.activation = checkActivation(args.activation ?? 'gelu', `MLP ${this.name}`);
    this.fc1 = this.addChild(
      'fc1',
      new Dense({ inputDim: args.dim, units: args.hiddenDim, seed: this.childSeed('fc1') }),
    );
    this.fc2 = this.addChild(
      'fc2',
      new Dense({ inputDim: args.hiddenDim, units: args.dim, seed: this.childSeed('fc2') }),
    );
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gelu = this.activation === 'gelu' || this.activation === 'geluTanh';
      if (!gelu || !this.fc1.useBias) return this.fc2.apply(activation(this.activation, this.fc1.apply(x)));
      // The first bias and the GELU are one fused kernel each way (the bias gradient comes with GELU's).
      const xw = this.fc1.applyKernel(x);
      return this.fc2.apply(biasGelu(xw, this.fc1.bias!, this.activation === 'gelu' ? 'none' : 'tanh'));
    });
  }

  forward(x: tf.Tensor, _ctx?: TokenContext): FeedForwardOutput {
    return { y: this.apply(x) };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, hiddenDim: this.hiddenDim, activation: this.activation };
  }
}
tf.serialization.registerClass(MLP);
