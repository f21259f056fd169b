import * as tf from '@tensorflow/tfjs';
import { Embedding, Layer, type LayerArgs } from '@moevl/core';

export interface TextStemArgs extends LayerArgs {
  vocabSize: number;
  contextLength: number;
  dim: number;
}

/** Token embedding plus learned absolute position embedding: ids `[B, L]` → `[B, L, D]` (CLIP's text stem). */
export class TextStem extends Layer {
  static className = 'LIMoETextStem';
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly dim: number;
  readonly tokens: Embedding;
  private position!: tf.Variable;

  constructor(args: TextStemArgs) {
    super(args);
    this.vocabSize = args.vocabSize;
    this.contextLength = args.contextLength;
    this.dim = args.dim;
    this.tokens = this.addChild(
      'tokens',
      new Embedding({ vocabSize: args.vocabSize, dim: args.dim, seed: this.childSeed('tokens') }),
    );
  }

  protected override build(): void {
    this.position = this.addWeight('position', [1, this.contextLength, this.dim], { truncatedNormal: 0.01 });
  }

  apply(ids: tf.Tensor): tf.Tensor3D {
    this.ensureBuilt();
    if (ids.rank !== 2 || ids.shape[1] !== this.contextLength) {
      throw new Error(`TextStem: expected ids [B, ${this.contextLength}], got [${ids.shape}].`);
    }
    return tf.tidy(() => tf.add(this.tokens.apply(ids), this.position) as tf.Tensor3D);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      contextLength: this.contextLength,
      dim: this.dim,
    };
  }
}
tf.serialization.registerClass(TextStem);
