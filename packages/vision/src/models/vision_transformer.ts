import * as tf from '@tensorflow/tfjs';
import {
  type ActivationName,
  Dense,
  Layer,
  type LayerArgs,
  LayerNorm,
  type MetricValue,
  type TokenContext,
  TransformerBlock,
  assertModelFits,
  assertPositiveInteger,
  checkActivation,
  runBlocks,
} from '@moevl/core';
import { MoELayer } from '@moevl/router';
import { type VMoESpec, moeBlockIndices } from './moe_placement.js';
import { PatchEmbedding, patchGridOf } from './patch_embedding.js';
import { type GridSize, gridPair, interpolatePositionEmbeddings } from './position_embedding.js';
import { RESIZE_METHODS, type ResizeMethod } from './resize_matrix.js';
import { estimateViTActivationBytes, estimateViTParameters, vitShapeOf } from './vit_size.js';

/** How the token sequence becomes one vector: the class token (ViT, CLIP) or the mean of patch tokens. */
export type ViTPooling = 'cls' | 'gap';

export interface VisionTransformerArgs extends LayerArgs {
  /** Training resolution, `H` or `[H, W]`; sets the size of the position embeddings. Multiple of patchSize. */
  imageSize: GridSize;
  /** Patch side p (ViT-B/16: 16). */
  patchSize: number;
  /** Token width D. */
  dim: number;
  /** Number of transformer blocks. */
  depth: number;
  numHeads: number;
  /** MLP hidden width = mlpRatio·dim. Default 4. */
  mlpRatio?: number;
  /** Default `gelu`; OpenAI CLIP checkpoints use `quickGelu`. */
  activation?: ActivationName;
  /** LayerNorm epsilon. Default 1e-6 (ViT/flax); open_clip uses 1e-5. */
  epsilon?: number;
  /** Image channels. Default 3. */
  inChannels?: number;
  /** Prepend a learned class token. Default true. */
  classToken?: boolean;
  /** Default `cls` with a class token (ViT, V-MoE, CLIP), `gap` without (mean over the patch tokens). */
  pooling?: ViTPooling;
  /** LayerNorm after adding position embeddings (CLIP's `ln_pre`). Default false. */
  preNorm?: boolean;
  /** Bias in the patch projection. Default true; CLIP has none. */
  patchBias?: boolean;
  /** Linear projection (no bias) of the pooled vector to this width, as CLIP's `proj`. Default none. */
  projectionDim?: number | null;
  /** Classifier head on the features (after the projection, if any). Default none. */
  numClasses?: number | null;
  /** Zero-initialise the classifier head (big_vision / vmoe `head_zeroinit`). Default true. */
  headZeroInit?: boolean;
  /**
   * Accept images of another size than `imageSize` by resizing the position embeddings on the fly (timm's
   * `dynamic_img_size`). Default true; when false, another size is an error.
   */
  dynamicImageSize?: boolean;
  /** Interpolation for position embeddings at another resolution. Default `bicubic` (timm). */
  posEmbedInterpolation?: ResizeMethod;
  /** V-MoE: which blocks get a sparse MoE MLP and how it routes. Default none (a dense ViT). */
  moe?: VMoESpec | null;
}

export interface VisionForwardOptions {
  /** Training mode: routers add noise and use the training capacity factor. Default false. */
  training?: boolean;
  /** Seeded randomness for routing noise (core's `Rng`), so a resumed run repeats it. */
  rng?: TokenContext['rng'];
  /** Also return the final (normalised) token sequence. Default false. */
  returnTokens?: boolean;
  /** V-MoE routing when not training: dropless (default, batch-independent) or capacity-limited. */
  evalRouting?: TokenContext['evalRouting'];
}

export interface VisionTransformerOutput {
  /** `[B, D]`, or `[B, projectionDim]` with a projection head. */
  features: tf.Tensor2D;
  /** `[B, numClasses]` when the model has a classifier head. */
  logits?: tf.Tensor2D;
  /** `[B, T, D]` after the final LayerNorm (class token first), when `returnTokens` was set. */
  tokens?: tf.Tensor3D;
  /** MoE auxiliary losses, already weighted, keyed `block<i>/<loss>` (e.g. `block3/importance`). */
  auxLosses: Record<string, tf.Scalar>;
  /** Routing metrics per MoE block, keyed `block<i>`. */
  metrics: Record<string, MetricValue>;
}

/**
 * Vision Transformer (Dosovitskiy et al. 2021) and its sparse variant V-MoE (Riquelme et al. 2021) in one
 * class: patch embedding → optional class token → + learned position embeddings → `depth` pre-LN
 * `TransformerBlock`s → final LayerNorm → `cls` or `gap` pooling → optional projection / classifier.
 * With `moe`, the blocks it selects carry a `MoELayer` in their MLP slot, and the forward pass returns their
 * auxiliary losses and routing metrics as data for the trainer.
 *
 * Weight paths (safetensors keys): `patch/kernel`, `patch/bias`, `cls_token`, `pos_embed`, `ln_pre/...`,
 * `blocks/<i>/{ln1,attn,ln2,mlp}/...` (MoE: `blocks/<i>/mlp/experts/w1`, `blocks/<i>/mlp/router/...`),
 * `norm/{gamma,beta}`, `proj/kernel`, `head/{kernel,bias}`.
 */
export class VisionTransformer extends Layer {
  static className = 'MoevlVisionTransformer';
  readonly imageSize: GridSize;
  readonly patchSize: number;
  readonly dim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly activation: ActivationName;
  readonly epsilon: number;
  readonly inChannels: number;
  readonly classToken: boolean;
  readonly pooling: ViTPooling;
  readonly preNorm: boolean;
  readonly patchBias: boolean;
  readonly projectionDim: number | null;
  readonly numClasses: number | null;
  readonly headZeroInit: boolean;
  readonly dynamicImageSize: boolean;
  readonly posEmbedInterpolation: ResizeMethod;
  readonly moe: VMoESpec | null;
  /** The patch grid of `imageSize`, `[rows, cols]`: the layout of `pos_embed`. */
  readonly grid: [number, number];
  /** 0-based indices of the blocks whose MLP is an `MoELayer` (empty for a dense ViT). */
  readonly moeBlocks: number[];
  readonly patch: PatchEmbedding;
  readonly lnPre: LayerNorm | null;
  readonly blocks: TransformerBlock[];
  readonly norm: LayerNorm;
  readonly proj: Dense | null;
  readonly head: Dense | null;
  clsToken: tf.Variable | null = null;
  posEmbed!: tf.Variable;

  constructor(args: VisionTransformerArgs) {
    super(args);
    const who = `VisionTransformer ${this.name}`;
    for (const key of ['patchSize', 'dim', 'depth', 'numHeads'] as const)
      assertPositiveInteger(`${who}: ${key}`, args[key]);
    for (const key of ['projectionDim', 'numClasses'] as const) {
      if (args[key] != null) assertPositiveInteger(`${who}: ${key}`, args[key]);
    }
    this.imageSize = args.imageSize;
    this.patchSize = args.patchSize;
    const [h, w] = gridPair(args.imageSize, `${who}: imageSize`);
    if (h % this.patchSize !== 0 || w % this.patchSize !== 0) {
      throw new Error(`${who}: imageSize ${h}×${w} is not a multiple of the patch size ${this.patchSize}.`);
    }
    this.grid = [h / this.patchSize, w / this.patchSize];
    this.dim = args.dim;
    this.depth = args.depth;
    this.numHeads = args.numHeads;
    this.mlpRatio = args.mlpRatio ?? 4;
    this.activation = checkActivation(args.activation ?? 'gelu', who);
    this.epsilon = args.epsilon ?? 1e-6;
    this.inChannels = args.inChannels ?? 3;
    this.classToken = args.classToken ?? true;
    this.pooling = args.pooling ?? (this.classToken ? 'cls' : 'gap');
    if (this.pooling !== 'cls' && this.pooling !== 'gap') {
      throw new Error(`${who}: pooling must be "cls" or "gap", got "${this.pooling}".`);
    }
    if (this.pooling === 'cls' && !this.classToken) {
      throw new Error(
        `${who}: pooling "cls" needs classToken: true; use pooling "gap" without a class token.`,
      );
    }
    this.preNorm = args.preNorm ?? false;
    this.patchBias = args.patchBias ?? true;
    this.projectionDim = args.projectionDim ?? null;
    this.numClasses = args.numClasses ?? null;
    this.headZeroInit = args.headZeroInit ?? true;
    this.dynamicImageSize = args.dynamicImageSize ?? true;
    this.posEmbedInterpolation = args.posEmbedInterpolation ?? 'bicubic';
    if (!RESIZE_METHODS.includes(this.posEmbedInterpolation)) {
      throw new Error(`${who}: posEmbedInterpolation must be ${RESIZE_METHODS.join(' or ')}.`);
    }
    this.moe = args.moe ?? null;
    this.moeBlocks = this.moe != null ? moeBlockIndices(this.depth, this.moe) : [];
    // Sized before any tensor exists: a config from a file can ask for more than the machine has.
    const shape = vitShapeOf(this);
    assertModelFits(
      `${this.moe != null ? 'V-MoE' : 'ViT'} ${this.name} (dim ${this.dim}, depth ${this.depth})`,
      estimateViTParameters(shape),
      estimateViTActivationBytes(shape, 32),
    );

    const seed = (name: string) => this.childSeed(name);
    this.patch = this.addChild(
      'patch',
      new PatchEmbedding({
        patchSize: this.patchSize,
        dim: this.dim,
        inChannels: this.inChannels,
        useBias: this.patchBias,
        seed: seed('patch'),
      }),
    );
    this.lnPre = this.preNorm
      ? this.addChild('ln_pre', new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('ln_pre') }))
      : null;
    this.blocks = [];
    for (let i = 0; i < this.depth; i++) {
      this.blocks.push(this.addChild(`blocks/${i}`, this.makeBlock(i)));
    }
    this.norm = this.addChild(
      'norm',
      new LayerNorm({ dim: this.dim, epsilon: this.epsilon, seed: seed('norm') }),
    );
    this.proj =
      this.projectionDim != null
        ? this.addChild(
            'proj',
            new Dense({
              inputDim: this.dim,
              units: this.projectionDim,
              useBias: false,
              // CLIP initialises its projection with std width^-½, which is lecun normal.
              kernelInitializer: 'lecunNormal',
              seed: seed('proj'),
            }),
          )
        : null;
    this.head =
      this.numClasses != null
        ? this.addChild(
            'head',
            new Dense({
              inputDim: this.featureDim,
              units: this.numClasses,
              kernelInitializer: this.headZeroInit ? 'zeros' : 'xavierUniform',
              seed: seed('head'),
            }),
          )
        : null;
  }

  private makeBlock(i: number): TransformerBlock {
    const base = {
      dim: this.dim,
      numHeads: this.numHeads,
      mlpRatio: this.mlpRatio,
      activation: this.activation,
      epsilon: this.epsilon,
      seed: this.childSeed(`blocks/${i}`),
    };
    if (this.moe == null || !this.moeBlocks.includes(i)) return new TransformerBlock(base);
    const mlp = new MoELayer({
      dim: this.dim,
      hiddenDim: this.moe.hiddenDim ?? Math.round(this.mlpRatio * this.dim),
      numExperts: this.moe.numExperts,
      router: this.moe.router,
      activation: this.activation,
      seed: this.childSeed(`blocks/${i}/mlp`),
    });
    return new TransformerBlock({ ...base, mlp });
  }

  protected override build(): void {
    if (this.classToken) this.clsToken = this.addWeight('cls_token', [1, 1, this.dim], 'zeros');
    const tokens = this.grid[0] * this.grid[1] + this.numPrefixTokens;
    // vmoe / the original ViT: position embeddings ~ N(0, 0.02²).
    this.posEmbed = this.addWeight('pos_embed', [1, tokens, this.dim], { normal: 0.02 });
  }

  /** Tokens before the patch tokens: 1 with a class token, else 0. */
  get numPrefixTokens(): number {
    return this.classToken ? 1 : 0;
  }

  /** Width of `features`: `projectionDim` with a projection head, else `dim`. */
  get featureDim(): number {
    return this.projectionDim ?? this.dim;
  }

  /** Checks `images` and returns their patch grid; rejects another size unless `dynamicImageSize`. */
  gridOf(images: tf.Tensor): [number, number] {
    const who = `VisionTransformer ${this.name}`;
    const { gridH, gridW } = patchGridOf(images, this.patchSize, this.inChannels, who);
    if (!this.dynamicImageSize && (gridH !== this.grid[0] || gridW !== this.grid[1])) {
      const [h, w] = [this.grid[0] * this.patchSize, this.grid[1] * this.patchSize];
      throw new Error(
        `${who}: expected ${h}×${w} images, got ${images.shape[2]}×${images.shape[3]}. Resize the images, or ` +
          `create the model with dynamicImageSize: true to interpolate the position embeddings.`,
      );
    }
    return [gridH, gridW];
  }

  /** Position embeddings for a patch grid: the stored ones, or resized for another resolution. */
  private positionEmbeddingsFor(gridH: number, gridW: number): tf.Tensor {
    if (gridH === this.grid[0] && gridW === this.grid[1]) return this.posEmbed;
    return interpolatePositionEmbeddings(this.posEmbed, this.grid, [gridH, gridW], {
      hasClassToken: this.classToken,
      method: this.posEmbedInterpolation,
    });
  }

  /**
   * `[B, C, H, W]` images → features (and logits, tokens), plus MoE aux losses and metrics. Every tensor in
   * the result belongs to the caller.
   */
  forward(images: tf.Tensor, options: VisionForwardOptions = {}): VisionTransformerOutput {
    this.ensureBuilt();
    const [gridH, gridW] = this.gridOf(images);
    const b = images.shape[0];
    const ctx: TokenContext = {
      training: options.training ?? false,
      rng: options.rng,
      ...(options.evalRouting && { evalRouting: options.evalRouting }),
    };
    const metrics: Record<string, MetricValue> = {};
    const out = tf.tidy(() => {
      let x: tf.Tensor = this.patch.apply(images);
      if (this.clsToken != null) {
        x = tf.concat([tf.broadcastTo(this.clsToken, [b, 1, this.dim]), x], 1);
      }
      x = tf.add(x, this.positionEmbeddingsFor(gridH, gridW));
      if (this.lnPre != null) x = this.lnPre.apply(x);
      const stack = runBlocks(this.blocks, x, ctx);
      Object.assign(metrics, stack.metrics);
      const auxLosses = stack.auxLosses;
      const tokens = this.norm.apply(stack.tokens) as tf.Tensor3D;
      const t = tokens.shape[1];
      const pooled =
        this.pooling === 'cls'
          ? tf.reshape(tf.slice(tokens, [0, 0, 0], [b, 1, this.dim]), [b, this.dim])
          : tf.mean(
              tf.slice(tokens, [0, this.numPrefixTokens, 0], [b, t - this.numPrefixTokens, this.dim]),
              1,
            );
      const features = (this.proj != null ? this.proj.apply(pooled) : pooled) as tf.Tensor2D;
      const result: VisionTransformerOutput = { features, auxLosses, metrics };
      if (this.head != null) result.logits = this.head.apply(features) as tf.Tensor2D;
      if (options.returnTokens) result.tokens = tokens;
      return result as unknown as tf.TensorContainer;
    }) as unknown as VisionTransformerOutput;
    return { ...out, metrics };
  }

  /** Images → features `[B, featureDim]` (eval mode), the encoder as a plain function. */
  apply(images: tf.Tensor): tf.Tensor2D {
    const out = this.forward(images);
    tf.dispose([out.logits, ...Object.values(out.auxLosses)].filter((t) => t != null));
    return out.features;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      imageSize: this.imageSize as tf.serialization.ConfigDictValue,
      patchSize: this.patchSize,
      dim: this.dim,
      depth: this.depth,
      numHeads: this.numHeads,
      mlpRatio: this.mlpRatio,
      activation: this.activation,
      epsilon: this.epsilon,
      inChannels: this.inChannels,
      classToken: this.classToken,
      pooling: this.pooling,
      preNorm: this.preNorm,
      patchBias: this.patchBias,
      projectionDim: this.projectionDim,
      numClasses: this.numClasses,
      headZeroInit: this.headZeroInit,
      dynamicImageSize: this.dynamicImageSize,
      posEmbedInterpolation: this.posEmbedInterpolation,
      moe: this.moe as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(VisionTransformer);
