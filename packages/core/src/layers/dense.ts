import * as tf from '@tensorflow/tfjs';
import type { InitializerSpec } from './initializers.js';
import { Layer, type LayerArgs } from './layer.js';
import { assertPositiveInteger } from '../config/integer_checks.js';

export interface DenseArgs extends LayerArgs {
  /** Size of the last input dimension. */
  inputDim: number;
  /** Size of the output. */
  units: number;
  /** Add a bias. Default true. */
  useBias?: boolean;
  /** Default `xavierUniform` (ViT / flax). */
  kernelInitializer?: InitializerSpec;
  /** Default `zeros`. */
  biasInitializer?: InitializerSpec;
}

/** y = x·W + b over the last axis of an input of any rank. Weights: `kernel` [in, out], `bias` [out]. */
export class Dense extends Layer {
  static className = 'MoevlDense';
  readonly inputDim: number;
  readonly units: number;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;

  constructor(args: DenseArgs) {
    super(args);
    for (const key of ['inputDim', 'units'] as const) {
      assertPositiveInteger(`Dense ${this.name}: ${key}`, args[key]);
    }
    this.inputDim = args.inputDim;
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? 'xavierUniform';
    this.biasInitializer = args.biasInitializer ?? 'zeros';
  }

  protected override build(): void {
    this.kernel = this.addWeight('kernel', [this.inputDim, this.units], this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.forwardWith(x, true);
  }

  /** x·W without the bias, for a caller that fuses the bias into what follows (`MLP`: `biasGelu`). */
  applyKernel(x: tf.Tensor): tf.Tensor {
    return this.forwardWith(x, false);
  }

  private forwardWith(x: tf.Tensor, withBias: boolean): tf.Tensor {
    this.ensureBuilt();
    const last = x.shape[x.rank - 1];
    if (last !== this.inputDim) {
      throw new Error(
        `Dense ${this.name}: expected last dimension ${this.inputDim}, got input [${x.shape}].`,
      );
    }
    return tf.tidy(() => {
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, this.inputDim]);
      // The bias rides in the product (`_FusedMatMul`: on the native path sgemm accumulates onto it), and its
      // gradient is one Sum over the rows.
      const bias = withBias && this.bias != null ? this.bias : undefined;
      const y: tf.Tensor = bias
        ? tf.fused.matMul({ a: flat as tf.Tensor2D, b: this.kernel as tf.Tensor2D, bias })
        : tf.matMul(flat as tf.Tensor2D, this.kernel as tf.Tensor2D);
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      units: this.units,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer as tf.serialization.ConfigDictValue,
      biasInitializer: this.biasInitializer as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(Dense);
