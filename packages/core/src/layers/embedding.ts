import * as tf from '@tensorflow/tfjs';
import '../backend/wasm_kernels.js';
import type { InitializerSpec } from './initializers.js';
import { Layer, type LayerArgs } from './layer.js';
import { assertPositiveInteger } from '../config/integer_checks.js';

export interface EmbeddingArgs extends LayerArgs {
  /** Number of rows (token ids 0..vocabSize-1). */
  vocabSize: number;
  /** Width of each row. */
  dim: number;
  /** Default `{truncatedNormal: 0.02}` (CLIP/BERT). */
  initializer?: InitializerSpec;
}

/**
 * Lookup table `embeddings` [vocabSize, dim]. Ids are checked before the gather, because tfjs' gather
 * returns zeros (cpu) or garbage (wasm) for out-of-range ids instead of failing. The gradient (an
 * `UnsortedSegmentSum`) works on wasm through the kernel @moevl/core registers.
 */
export class Embedding extends Layer {
  static className = 'MoevlEmbedding';
  readonly vocabSize: number;
  readonly dim: number;
  readonly initializer: InitializerSpec;
  embeddings!: tf.Variable;

  constructor(args: EmbeddingArgs) {
    super(args);
    assertPositiveInteger(`Embedding ${this.name}: vocabSize`, args.vocabSize);
    assertPositiveInteger(`Embedding ${this.name}: dim`, args.dim);
    this.vocabSize = args.vocabSize;
    this.dim = args.dim;
    this.initializer = args.initializer ?? { truncatedNormal: 0.02 };
  }

  protected override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.vocabSize, this.dim], this.initializer);
  }

  /** ids (int32, any shape) → [...ids.shape, dim]. */
  apply(ids: tf.Tensor): tf.Tensor {
    this.ensureBuilt();
    if (ids.dtype !== 'int32')
      throw new Error(`Embedding ${this.name}: ids must be int32, got ${ids.dtype}.`);
    const values = ids.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= this.vocabSize) {
        throw new Error(`Embedding ${this.name}: id ${values[i]} is out of range [0, ${this.vocabSize}).`);
      }
    }
    return tf.tidy(() =>
      tf.reshape(tf.gather(this.embeddings, tf.reshape(ids, [-1])), [...ids.shape, this.dim]),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      dim: this.dim,
      initializer: this.initializer as tf.serialization.ConfigDictValue,
    };
  }
}
tf.serialization.registerClass(Embedding);
