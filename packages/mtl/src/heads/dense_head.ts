import * as tf from '@tensorflow/tfjs';
import {
  assertPositiveInteger,
  Dense,
  type InitializerSpec,
  isIntegerIn,
  Layer,
  type LayerArgs,
} from '@moevl/core';
import { unpatchify } from './unpatchify.js';

export interface DenseHeadArgs extends LayerArgs {
  /** Token width D. */
  dim: number;
  /** Side p of the backbone's square patches; every token predicts a p×p block of pixels. */
  patchSize: number;
  /** Channels of the predicted image. */
  outChannels: number;
  /** Patch grid [gh, gw] of the backbone: tokens are its row-major cells. */
  grid: [number, number];
  /** Initialiser of `proj/kernel`. Default `xavierUniform`. */
  kernelInitializer?: InitializerSpec;
}

/**
 * Per-pixel task head, the simplest dense decoder of a ViT (MAE's and SETR-naive's linear head): one Linear
 * per token to its p·p·C pixel values, then the tokens are put back in place — the exact inverse of how
 * the patch embedding cut the image (`unpatchify`). Weights: `proj/kernel [D, C·p·p]`, `proj/bias`.
 * Output NHWC `[N, gh·p, gw·p, outChannels]`, the layout of dense targets and losses.
 */
export class DenseHead extends Layer {
  static className = 'MoevlDenseHead';
  readonly dim: number;
  readonly patchSize: number;
  readonly outChannels: number;
  readonly grid: [number, number];
  readonly kernelInitializer: InitializerSpec;
  readonly proj: Dense;

  constructor(args: DenseHeadArgs) {
    super(args);
    for (const key of ['dim', 'patchSize', 'outChannels'] as const) {
      assertPositiveInteger(`DenseHead ${this.name}: ${key}`, args[key]);
    }
    const grid = args.grid;
    if (!Array.isArray(grid) || grid.length !== 2 || !grid.every((g) => isIntegerIn(g, { min: 1 }))) {
      throw new Error(
        `DenseHead ${this.name}: grid must be [gh, gw], two positive integers, got ${JSON.stringify(grid)}.`,
      );
    }
    this.dim = args.dim;
    this.patchSize = args.patchSize;
    this.outChannels = args.outChannels;
    this.grid = [grid[0], grid[1]];
    this.kernelInitializer = args.kernelInitializer ?? 'xavierUniform';
    this.proj = this.addChild(
      'proj',
      new Dense({
        inputDim: this.dim,
        units: this.outChannels * this.patchSize * this.patchSize,
        kernelInitializer: this.kernelInitializer,
        name: `${this.name}/proj`,
        seed: this.childSeed('proj'),
      }),
    );
  }

  /** tokens `[N, gh·gw, D]` → image `[N, gh·p, gw·p, outChannels]`. */
  apply(tokens: tf.Tensor): tf.Tensor4D {
    this.ensureBuilt();
    const [gh, gw] = this.grid;
    if (tokens.rank !== 3 || tokens.shape[1] !== gh * gw || tokens.shape[2] !== this.dim) {
      throw new Error(
        `DenseHead ${this.name}: expected tokens [N, ${gh * gw}, ${this.dim}] (a ${gh}×${gw} patch grid), ` +
          `got [${tokens.shape}]; drop any class token before the head.`,
      );
    }
    return tf.tidy(() => unpatchify(this.proj.apply(tokens), this.grid, this.patchSize, this.outChannels));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dim: this.dim,
      patchSize: this.patchSize,
      outChannels: this.outChannels,
      grid: [...this.grid],
      kernelInitializer: this.kernelInitializer as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(DenseHead);
