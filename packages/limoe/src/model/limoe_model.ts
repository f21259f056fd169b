import * as tf from '@tensorflow/tfjs';
import {
  Dense,
  type EvalRouting,
  type FeedForwardLayer,
  Layer,
  LayerNorm,
  type MetricValue,
  type Rng,
  TransformerBlock,
  assertModelFits,
  l2Normalize,
  runBlocks,
} from '@moevl/core';
import { MoELayer } from '@moevl/router';
import { PatchEmbedding, moeBlockIndices } from '@moevl/vision';
import {
  type LIMoEConfig,
  estimateLIMoEActivationBytes,
  estimateLIMoEParameters,
  validateLIMoEConfig,
} from './config.js';
import { gatherTokenPool, maskedMeanPool } from './pooling.js';
import { TextStem } from './text_stem.js';

export const IMAGE = 0;
export const TEXT = 1;

export interface TextBatch {
  /** `[B, L]` int32 token ids. */
  ids: tf.Tensor2D;
  /** `[B, L]` 1 for real tokens (incl. <sot>/<eot>), 0 for padding. */
  mask: tf.Tensor2D;
  /** Position of <eot> per row, where `eot` pooling reads. */
  eotIndex: ArrayLike<number>;
}

export interface EncodeContext {
  training: boolean;
  rng?: Pick<Rng, 'normalTensor'>;
  /** How MoE layers route when not training (default dropless: batch-independent). */
  evalRouting?: EvalRouting;
}

export interface LIMoEOutput {
  /** `[B, E]` L2-normalised image embeddings. */
  imageEmbeddings: tf.Tensor2D;
  /** `[B, E]` L2-normalised text embeddings. */
  textEmbeddings: tf.Tensor2D;
  /** Weighted auxiliary losses by `block<i>/<name>`. */
  auxLosses: Record<string, tf.Scalar>;
  /** Routing metrics per MoE block (`block<i>` → metrics), plain data. */
  metrics: Record<string, MetricValue>;
}

export interface EncodedTower {
  /** `[B, E]` L2-normalised embeddings. */
  embeddings: tf.Tensor2D;
  auxLosses: Record<string, tf.Scalar>;
  metrics: Record<string, MetricValue>;
}

/**
 * LIMoE (Mustafa et al. 2022, "Multimodal Contrastive Learning with LIMoE"): an image stem (ViT patch
 * embedding) and a text stem feed ONE shared transformer with MoE MLPs; each modality is pooled, normalised
 * and projected into a shared embedding; a learned temperature scales the contrastive logits.
 *
 * In training, an image's patch tokens and its caption's tokens are packed into one sequence with a
 * block-diagonal attention mask: attention stays within a modality (as two separate forward passes would
 * give) while each MoE layer routes both modalities' tokens in one group, sharing capacity — the setting in
 * which the paper's per-modality entropy losses and BPR matter.
 */
export class LIMoEModel extends Layer {
  static className = 'LIMoEModel';
  readonly config: LIMoEConfig;
  readonly numPatches: number;
  readonly moeBlocks: number[];
  readonly patchEmbed: PatchEmbedding;
  readonly textStem: TextStem;
  readonly blocks: TransformerBlock[];
  /** Two-tower only: the text transformer (`blocks` is then the image transformer). */
  readonly textBlocks: TransformerBlock[];
  readonly imageNorm: LayerNorm;
  readonly textNorm: LayerNorm;
  readonly imageProjection: Dense;
  readonly textProjection: Dense;
  private imagePosition!: tf.Variable;
  private logitScaleVar!: tf.Variable;
  private readonly maskCache = new Map<string, tf.Tensor>();

  constructor(config: LIMoEConfig) {
    super({ name: 'limoe', seed: config.seed });
    this.config = validateLIMoEConfig({ ...config });
    const c = this.config;
    // Sized before any tensor exists: a config from a file can ask for more than the machine has.
    assertModelFits(
      `LIMoE model (dim ${c.dim}, depth ${c.depth})`,
      estimateLIMoEParameters(c),
      estimateLIMoEActivationBytes(c, 32),
    );
    this.numPatches = (c.imageSize / c.patchSize) ** 2;
    this.moeBlocks = c.moe != null ? moeBlockIndices(c.depth, c.moe) : [];
    this.patchEmbed = this.addChild(
      'image_stem',
      new PatchEmbedding({
        patchSize: c.patchSize,
        dim: c.dim,
        inChannels: c.channels,
        seed: this.childSeed('image_stem'),
      }),
    );
    this.textStem = this.addChild(
      'text_stem',
      new TextStem({
        vocabSize: c.vocabSize,
        contextLength: c.contextLength,
        dim: c.dim,
        seed: this.childSeed('text_stem'),
      }),
    );
    const makeBlocks = (prefix: string, withMoE: boolean) =>
      Array.from({ length: c.depth }, (_, i) => {
        const seed = this.childSeed(`${prefix}/${i}`);
        let mlp: FeedForwardLayer | undefined;
        if (withMoE && c.moe != null && this.moeBlocks.includes(i)) {
          mlp = new MoELayer({
            dim: c.dim,
            hiddenDim: c.moe.hiddenDim ?? Math.round(c.mlpRatio * c.dim),
            numExperts: c.moe.numExperts,
            router: c.moe.router ?? { name: 'top-k', options: {} },
            seed: this.childSeed(`${prefix}/${i}/moe`),
          });
        }
        return this.addChild(
          `${prefix}/${i}`,
          new TransformerBlock({ dim: c.dim, numHeads: c.numHeads, mlpRatio: c.mlpRatio, mlp, seed }),
        );
      });
    this.blocks = makeBlocks('blocks', true);
    this.textBlocks = c.towers === 'two' ? makeBlocks('text_blocks', false) : [];
    this.imageNorm = this.addChild(
      'image_norm',
      new LayerNorm({ dim: c.dim, seed: this.childSeed('image_norm') }),
    );
    this.textNorm = this.addChild(
      'text_norm',
      new LayerNorm({ dim: c.dim, seed: this.childSeed('text_norm') }),
    );
    const proj = (name: string) =>
      this.addChild(
        name,
        new Dense({ inputDim: c.dim, units: c.embedDim, useBias: false, seed: this.childSeed(name) }),
      );
    this.imageProjection = proj('image_projection');
    this.textProjection = proj('text_projection');
  }

  protected override build(): void {
    this.imagePosition = this.addWeight('image_position', [1, this.numPatches, this.config.dim], {
      truncatedNormal: 0.02,
    });
    this.logitScaleVar = this.addWeight('logit_scale', [], 'zeros');
    tf.tidy(() => this.logitScaleVar.assign(tf.scalar(this.config.logitScaleInit)));
  }

  /** ln of the contrastive temperature inverse (a trainable scalar). */
  get logitScale(): tf.Variable {
    this.ensureBuilt();
    return this.logitScaleVar;
  }

  /** Clamps the logit scale to [0, ln 100] after an optimiser step (CLIP's guard against collapse). */
  clampLogitScale(): void {
    const v = this.logitScale;
    tf.tidy(() => v.assign(tf.clipByValue(v, 0, Math.log(100))));
  }

  private imageTokens(images: tf.Tensor4D): tf.Tensor3D {
    this.ensureBuilt();
    return tf.tidy(() => tf.add(this.patchEmbed.apply(images), this.imagePosition) as tf.Tensor3D);
  }

  private poolImages(tokens: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(
      () =>
        l2Normalize(
          this.imageProjection.apply(this.imageNorm.apply(maskedMeanPool(tokens))),
          -1,
        ) as tf.Tensor2D,
    );
  }

  private poolTexts(tokens: tf.Tensor3D, text: TextBatch): tf.Tensor2D {
    return tf.tidy(() => {
      const pooled =
        this.config.textPooling === 'eot'
          ? gatherTokenPool(tokens, text.eotIndex)
          : maskedMeanPool(tokens, text.mask);
      return l2Normalize(this.textProjection.apply(this.textNorm.apply(pooled)), -1) as tf.Tensor2D;
    });
  }

  /** Images alone → L2-normalised embeddings (evaluation; routing groups hold image tokens only). */
  encodeImages(images: tf.Tensor4D, ctx: EncodeContext = { training: false }): EncodedTower {
    let metrics: Record<string, MetricValue> = {};
    const out = tf.tidy(() => {
      const tower = runBlocks(this.blocks, this.imageTokens(images), {
        ...ctx,
        modality: IMAGE,
        numModalities: 2,
      });
      metrics = tower.metrics;
      return { embeddings: this.poolImages(tower.tokens as tf.Tensor3D), auxLosses: tower.auxLosses };
    });
    return { ...out, metrics };
  }

  /** Texts alone → L2-normalised embeddings. */
  encodeTexts(text: TextBatch, ctx: EncodeContext = { training: false }): EncodedTower {
    let metrics: Record<string, MetricValue> = {};
    const out = tf.tidy(() => {
      const blocks = this.config.towers === 'two' ? this.textBlocks : this.blocks;
      const tower = runBlocks(blocks, this.textStem.apply(text.ids), {
        ...ctx,
        tokenMask: text.mask,
        modality: TEXT,
        numModalities: 2,
      });
      metrics = tower.metrics;
      return { embeddings: this.poolTexts(tower.tokens as tf.Tensor3D, text), auxLosses: tower.auxLosses };
    });
    return { ...out, metrics };
  }

  /** Block-diagonal mask `[1, N+L, N+L]`: image tokens attend to image tokens, text to text. */
  private packedAttentionMask(n: number, l: number): tf.Tensor {
    const key = `${n}:${l}`;
    let mask = this.maskCache.get(key);
    if (mask == null) {
      const t = n + l;
      const data = new Float32Array(t * t);
      for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) data[i * t + j] = i < n === j < n ? 1 : 0;
      mask = tf.keep(tf.tensor3d(data, [1, t, t]));
      this.maskCache.set(key, mask);
    }
    return mask;
  }

  /**
   * Image–caption pairs → both embeddings, with the modalities packed into one routing group (single
   * tower) or run through their own towers (two-tower baseline).
   */
  forward(images: tf.Tensor4D, text: TextBatch, ctx: EncodeContext): LIMoEOutput {
    if (images.shape[0] !== text.ids.shape[0]) {
      throw new Error(`LIMoEModel: ${images.shape[0]} images but ${text.ids.shape[0]} captions.`);
    }
    if (this.config.towers === 'two') {
      const img = this.encodeImages(images, ctx);
      const txt = this.encodeTexts(text, ctx);
      return {
        imageEmbeddings: img.embeddings,
        textEmbeddings: txt.embeddings,
        auxLosses: {
          ...img.auxLosses,
          ...Object.fromEntries(Object.entries(txt.auxLosses).map(([k, v]) => [`text_${k}`, v])),
        },
        metrics: { ...img.metrics, ...txt.metrics },
      };
    }
    const [b, n, l] = [images.shape[0], this.numPatches, this.config.contextLength];
    const attentionMask = this.packedAttentionMask(n, l);
    let metrics: Record<string, MetricValue> = {};
    const out = tf.tidy(() => {
      const tokens = tf.concat([this.imageTokens(images), this.textStem.apply(text.ids)], 1) as tf.Tensor3D;
      const tokenMask = tf.concat([tf.ones([b, n]), tf.cast(text.mask, 'float32')], 1);
      const modality = tf.concat([tf.fill([b, n], IMAGE, 'int32'), tf.fill([b, l], TEXT, 'int32')], 1);
      const tower = runBlocks(this.blocks, tokens, {
        ...ctx,
        tokenMask,
        attentionMask,
        modality,
        numModalities: 2,
      });
      metrics = tower.metrics;
      const imageTokens = tf.slice(tower.tokens, [0, 0, 0], [b, n, -1]) as tf.Tensor3D;
      const textTokens = tf.slice(tower.tokens, [0, n, 0], [b, l, -1]) as tf.Tensor3D;
      return {
        imageEmbeddings: this.poolImages(imageTokens),
        textEmbeddings: this.poolTexts(textTokens, text),
        auxLosses: tower.auxLosses,
      };
    });
    return { ...out, metrics };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { config: this.config as unknown as tf.serialization.ConfigDictValue };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.config as never);
  }

  override dispose(): void {
    for (const m of this.maskCache.values()) m.dispose();
    this.maskCache.clear();
    super.dispose();
  }
}
tf.serialization.registerClass(LIMoEModel);
