import * as tf from '@tensorflow/tfjs';
import { assertPositiveInteger, type InitializerSpec, Layer, type LayerArgs } from '@moevl/core';

export interface PatchEmbeddingArgs extends LayerArgs {
  /** Side p of the square patches; the stride is p too (non-overlapping patches, as in ViT). */
  patchSize: number;
  /** Token width D. */
  dim: number;
  /** Image channels. Default 3 (RGB). */
  inChannels?: number;
  /** Add a bias to every token. Default true (ViT, V-MoE); CLIP's `conv1` has none. */
  useBias?: boolean;
  /** Default `lecunNormal`, flax's default for ViT's patch conv (fan-in = C·p·p). */
  kernelInitializer?: InitializerSpec;
}

/** Patch grid of an image: `gridH × gridW` patches of `patchSize²` pixels. */
export interface PatchGrid {
  gridH: number;
  gridW: number;
}

/**
 * Checks that `images` is `[B, C, H, W]` with H and W multiples of `patchSize`, and returns the patch grid.
 * Errors name the caller and say what to change, because a wrong image size is the most common mistake.
 */
export function patchGridOf(
  images: tf.Tensor,
  patchSize: number,
  inChannels: number,
  who: string,
): PatchGrid {
  if (images.rank !== 4 || images.shape[1] !== inChannels) {
    throw new Error(
      `${who}: expected NCHW images [B, ${inChannels}, H, W], got [${images.shape}]. ` +
        `Images from sharp or a canvas are NHWC: transpose them with tf.transpose(x, [0, 3, 1, 2]).`,
    );
  }
  const [, , h, w] = images.shape;
  if (h % patchSize !== 0 || w % patchSize !== 0) {
    throw new Error(
      `${who}: image size ${h}×${w} is not a multiple of the patch size ${patchSize}; ` +
        `resize or crop to a multiple of ${patchSize} (e.g. ${Math.max(1, Math.round(h / patchSize)) * patchSize}×` +
        `${Math.max(1, Math.round(w / patchSize)) * patchSize}).`,
    );
  }
  return { gridH: h / patchSize, gridW: w / patchSize };
}

/**
 * im2col for non-overlapping patches: `[B, C, H, W] → [B·N, C·p·p]`, patches in row-major grid order and the
 * features of a patch ordered (channel, row, column), i.e. PyTorch's conv weight `[D, C, p, p]` flattened.
 * Only rank-4 transposes: the wasm Transpose kernel is ~100× slower at rank 5 and 6 than at rank 4.
 */
export function extractPatches(images: tf.Tensor4D, patchSize: number): tf.Tensor2D {
  const [b, c, h, w] = images.shape;
  const p = patchSize;
  const [gh, gw] = [h / p, w / p];
  return tf.tidy(() => {
    // [B·C·gh, p(row), gw, p(col)] → [B·C·gh, gw, p, p]: now ordered (B, C, gh, gw, row, col).
    const rows = tf.transpose(tf.reshape(images, [b * c * gh, p, gw, p]), [0, 2, 1, 3]);
    // [B, C, N, p·p] → [B, N, C, p·p]: the channel moves inside the patch vector.
    const patches = tf.transpose(tf.reshape(rows, [b, c, gh * gw, p * p]), [0, 2, 1, 3]);
    return tf.reshape(patches, [b * gh * gw, c * p * p]) as tf.Tensor2D;
  });
}

/**
 * ViT's patch embedding ("An Image is Worth 16x16 Words", Dosovitskiy et al. 2021): split the image into
 * p×p patches and project each linearly to D. Written as im2col + one matMul with `kernel [C·p·p, D]` and
 * `bias [D]` instead of `conv2d`: for stride = kernel size the two are the same linear map, but the matMul
 * is one fast XNNPACK call on wasm and its gradient works on every backend. A PyTorch conv weight
 * `[D, C, p, p]` loads as `weight.reshape(D, -1).T`.
 *
 * Input NCHW `[B, C, H, W]` (the layout of this package's preprocessing and of CLIP); output `[B, N, D]`
 * with N = (H/p)·(W/p) tokens in row-major order.
 */
export class PatchEmbedding extends Layer {
  static className = 'MoevlPatchEmbedding';
  readonly patchSize: number;
  readonly dim: number;
  readonly inChannels: number;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  kernel!: tf.Variable;
  bias: tf.Variable | null = null;

  constructor(args: PatchEmbeddingArgs) {
    super(args);
    for (const key of ['patchSize', 'dim'] as const) {
      assertPositiveInteger(`PatchEmbedding ${this.name}: ${key}`, args[key]);
    }
    this.patchSize = args.patchSize;
    this.dim = args.dim;
    this.inChannels = args.inChannels ?? 3;
    assertPositiveInteger(`PatchEmbedding ${this.name}: inChannels`, this.inChannels);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? 'lecunNormal';
  }

  protected override build(): void {
    const patchDim = this.inChannels * this.patchSize * this.patchSize;
    this.kernel = this.addWeight('kernel', [patchDim, this.dim], this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.dim], 'zeros');
  }

  /** Patch grid the layer produces for `images`, after checking their shape. */
  gridOf(images: tf.Tensor): PatchGrid {
    return patchGridOf(images, this.patchSize, this.inChannels, `PatchEmbedding ${this.name}`);
  }

  /** `[B, C, H, W] → [B, (H/p)·(W/p), D]`. */
  apply(images: tf.Tensor): tf.Tensor3D {
    this.ensureBuilt();
    const { gridH, gridW } = this.gridOf(images);
    const b = images.shape[0];
    return tf.tidy(() => {
      let y: tf.Tensor = tf.matMul(
        extractPatches(images as tf.Tensor4D, this.patchSize),
        this.kernel as tf.Tensor2D,
      );
      if (this.bias != null) y = tf.add(y, this.bias);
      return tf.reshape(y, [b, gridH * gridW, this.dim]) as tf.Tensor3D;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      patchSize: this.patchSize,
      dim: this.dim,
      inChannels: this.inChannels,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(PatchEmbedding);
