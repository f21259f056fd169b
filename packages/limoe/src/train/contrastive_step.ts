import * as tf from '@tensorflow/tfjs';
import { AdamW, type LossFnResult, type StepContext, type StepRecord } from '@moevl/core';
import { clipLoss, sigLipLoss, type ContrastivePositives } from '../losses/contrastive.js';
import type { LIMoEModel, TextBatch } from '../model/limoe_model.js';

/** What one contrastive training step reads: images, their captions, and labels for same-class positives. */
export interface ContrastiveBatch {
  images: tf.Tensor4D;
  text: TextBatch;
  /** `[B]` int32 labels (pairs with equal labels are positives of each other under `same-class`). */
  labels?: tf.Tensor1D;
}

/** AdamW as CLIP trains it: no weight decay on gains, biases, embeddings and the temperature. */
export function limoeOptimizer(lr: number, weightDecay: number): AdamW {
  return new AdamW({
    lr,
    weightDecay,
    excludeFromWeightDecay: (name) => /(bias|gamma|beta|position|logit_scale|embeddings)$/.test(name),
  });
}

/**
 * The step both LIMoE trainers run (`trainLIMoE` on class-captioned images, `trainLIMoEOnPairs` on
 * image–caption data): the packed forward pass, CLIP or SigLIP loss plus every auxiliary loss (each logged on
 * its own), and after the step the logit-scale clamp and the logged extras (temperature, throughput,
 * routing success per modality, expert load).
 */
export class LIMoEContrastiveStep {
  /** SigLIP's learned bias (initialised at −10), trained with the model. */
  readonly logitBias: tf.Variable | undefined;
  private lastMetrics: Record<string, unknown> = {};

  constructor(
    readonly model: LIMoEModel,
    readonly lossKind: 'clip' | 'siglip',
    readonly positives: ContrastivePositives,
  ) {
    if (lossKind === 'siglip') this.logitBias = tf.variable(tf.scalar(-10), true, 'siglip_bias');
  }

  trainableWeights(): Record<string, tf.Variable> {
    return {
      ...this.model.trainableWeights(),
      ...(this.logitBias ? { siglip_bias: this.logitBias } : {}),
    };
  }

  lossFn = (batch: ContrastiveBatch, ctx: StepContext): LossFnResult => {
    const model = this.model;
    const out = model.forward(batch.images, batch.text, { training: true, rng: ctx.rng });
    this.lastMetrics = out.metrics as Record<string, unknown>;
    const options = { positives: this.positives, labels: batch.labels, normalized: true };
    const contrastive =
      this.lossKind === 'clip'
        ? clipLoss(out.imageEmbeddings, out.textEmbeddings, model.logitScale as tf.Scalar, options)
        : sigLipLoss(
            out.imageEmbeddings,
            out.textEmbeddings,
            model.logitScale as tf.Scalar,
            this.logitBias as tf.Scalar,
            options,
          );
    const aux = Object.values(out.auxLosses);
    const loss = (aux.length > 0 ? tf.addN([contrastive, ...aux]) : contrastive) as tf.Scalar;
    return { loss, aux: { contrastive, ...out.auxLosses } };
  };

  /** Clamps the temperature and returns what is logged beside the step's record. */
  afterStep(record: StepRecord, tokensPerStep: number, flopsPerStep: number): Record<string, unknown> {
    const model = this.model;
    model.clampLogitScale();
    const extra: Record<string, unknown> = {
      temperature: 1 / Math.exp(model.logitScale.dataSync()[0]),
      tokensPerSecond: tokensPerStep / (record.ms / 1000),
      gflopsPerSecond: flopsPerStep / (record.ms * 1e6),
    };
    const blocks = Object.values(this.lastMetrics) as Array<{
      routingSuccessRateByModality?: Array<number | null>;
      load?: number[] | null;
    }>;
    if (blocks.length > 0) {
      const mean = (xs: Array<number | null | undefined>) => {
        const v = xs.filter((x): x is number => x != null);
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
      };
      extra.routingSuccessImage = mean(blocks.map((b) => b.routingSuccessRateByModality?.[0]));
      extra.routingSuccessText = mean(blocks.map((b) => b.routingSuccessRateByModality?.[1]));
      extra.expertLoad = blocks.map((b) => b.load ?? null);
    }
    return extra;
  }

  dispose(): void {
    this.logitBias?.dispose();
  }
}
