import * as tf from '@tensorflow/tfjs';
import {
  assertPositiveInteger,
  Dense,
  type InitializerSpec,
  Layer,
  type LayerArgs,
  LayerNorm,
} from '@moevl/core';

export interface ClassificationHeadArgs extends LayerArgs {
  /** Token width D. */
  dim: number;
  /** Number of classes C. */
  numClasses: number;
  /** Initialiser of `proj/kernel`. Default `xavierUniform`; vmoe's ViT zero-initialises its head (`'zeros'`). */
  kernelInitializer?: InitializerSpec;
}

/**
 * Image-level task head: global average pooling over the tokens, LayerNorm, Linear (vmoe's `'gap'`
 * classifier). Pooling instead of a class token keeps the backbone the same for dense and image-level
 * tasks. Weights: `norm/gamma`, `norm/beta`, `proj/kernel [D, C]`, `proj/bias [C]`.
 */
export class ClassificationHead extends Layer {
  static className = 'MoevlClassificationHead';
  readonly dim: number;
  readonly numClasses: number;
  readonly kernelInitializer: InitializerSpec;
  readonly norm: LayerNorm;
  readonly proj: Dense;

  constructor(args: ClassificationHeadArgs) {
    super(args);
    for (const key of ['dim', 'numClasses'] as const) {
      assertPositiveInteger(`ClassificationHead ${this.name}: ${key}`, args[key]);
    }
    this.dim = args.dim;
    this.numClasses = args.numClasses;
    this.kernelInitializer = args.kernelInitializer ?? 'xavierUniform';
    this.norm = this.addChild(
      'norm',
      new LayerNorm({ dim: this.dim, name: `${this.name}/norm`, seed: this.childSeed('norm') }),
    );
    this.proj = this.addChild(
      'proj',
      new Dense({
        inputDim: this.dim,
        units: this.numClasses,
        kernelInitializer: this.kernelInitializer,
        name: `${this.name}/proj`,
        seed: this.childSeed('proj'),
      }),
    );
  }

  /** tokens `[N, P, D]` → logits `[N, numClasses]`. */
  apply(tokens: tf.Tensor): tf.Tensor2D {
    this.ensureBuilt();
    if (tokens.rank !== 3 || tokens.shape[2] !== this.dim) {
      throw new Error(
        `ClassificationHead ${this.name}: expected tokens [N, P, ${this.dim}], got [${tokens.shape}].`,
      );
    }
    return tf.tidy(() => this.proj.apply(this.norm.apply(tf.mean(tokens, 1))) as tf.Tensor2D);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dim: this.dim,
      numClasses: this.numClasses,
      kernelInitializer: this.kernelInitializer as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(ClassificationHead);
