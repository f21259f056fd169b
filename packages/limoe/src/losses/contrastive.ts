import * as tf from '@tensorflow/tfjs';
import { l2Normalize, logsumexp, softmaxCrossEntropy } from '@moevl/core';

/**
 * Which image–text pairs count as positives.
 * - `diagonal`: only the i-th caption for the i-th image (CLIP, open_clip `ClipLoss`).
 * - `same-class`: every pair whose class labels agree is a positive, with the target mass spread evenly
 *   over them. Batches drawn from 10 classes (Fashion-MNIST) hold many same-class pairs that plain CLIP
 *   loss pushes apart although their captions may be identical; this option stops that.
 */
export type ContrastivePositives = 'diagonal' | 'same-class';

export interface ClipLossOptions {
  positives?: ContrastivePositives;
  /** `[N]` int32 class labels, required for `same-class`. */
  labels?: tf.Tensor1D;
  /** Inputs are already L2-normalised (skip the normalisation). */
  normalized?: boolean;
}

/** Row-normalised same-class targets `[N, N]` from labels. */
function sameClassTargets(labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const eq = tf.cast(tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0)), 'float32');
    return tf.div(eq, tf.sum(eq, 1, true)) as tf.Tensor2D;
  });
}

/** Cross-entropy of softmax(rows of `logits`) against soft targets, averaged over rows. */
function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.sub(logsumexp(logits, -1), tf.sum(tf.mul(targets, logits), -1))) as tf.Scalar;
}

/**
 * CLIP's symmetric contrastive loss (open_clip `ClipLoss`): L2-normalise both embeddings,
 * logits = s·I·Tᵀ with s = exp(logitScale), loss = (CE(logits, arange) + CE(logitsᵀ, arange)) / 2.
 * `logitScale` is the log of the temperature inverse (learned, initialised at ln(1/0.07)).
 */
export function clipLoss(
  imageEmbeddings: tf.Tensor2D,
  textEmbeddings: tf.Tensor2D,
  logitScale: tf.Scalar | number,
  options: ClipLossOptions = {},
): tf.Scalar {
  const n = imageEmbeddings.shape[0];
  if (imageEmbeddings.rank !== 2 || textEmbeddings.rank !== 2 || textEmbeddings.shape[0] !== n) {
    throw new Error(
      `clipLoss: expected image [N, D] and text [N, D] embeddings, got [${imageEmbeddings.shape}] and [${textEmbeddings.shape}].`,
    );
  }
  const positives = options.positives ?? 'diagonal';
  if (positives === 'same-class' && (options.labels == null || options.labels.shape[0] !== n)) {
    throw new Error(`clipLoss: positives 'same-class' needs labels [${n}].`);
  }
  return tf.tidy(() => {
    const img = options.normalized ? imageEmbeddings : l2Normalize(imageEmbeddings, -1);
    const txt = options.normalized ? textEmbeddings : l2Normalize(textEmbeddings, -1);
    const scale = tf.exp(typeof logitScale === 'number' ? tf.scalar(logitScale) : logitScale);
    const logits = tf.mul(tf.matMul(img, txt, false, true), scale) as tf.Tensor2D;
    const logitsT = tf.transpose(logits) as tf.Tensor2D;
    if (positives === 'diagonal') {
      const labels = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
      return tf.div(
        tf.add(softmaxCrossEntropy(logits, labels), softmaxCrossEntropy(logitsT, labels)),
        2,
      ) as tf.Scalar;
    }
    const targets = sameClassTargets(options.labels!);
    return tf.div(
      tf.add(softTargetCrossEntropy(logits, targets), softTargetCrossEntropy(logitsT, targets)),
      2,
    ) as tf.Scalar;
  });
}

export interface SigLipLossOptions {
  positives?: ContrastivePositives;
  labels?: tf.Tensor1D;
  normalized?: boolean;
}

/**
 * SigLIP's pairwise sigmoid loss (Zhai et al. 2023): −Σ log σ(z_ij·(s·I_i·T_j + b)) / N with z = +1 for
 * positives and −1 otherwise; s = exp(logitScale) (init ln 10), b a learned bias (init −10).
 */
export function sigLipLoss(
  imageEmbeddings: tf.Tensor2D,
  textEmbeddings: tf.Tensor2D,
  logitScale: tf.Scalar | number,
  logitBias: tf.Scalar | number,
  options: SigLipLossOptions = {},
): tf.Scalar {
  const n = imageEmbeddings.shape[0];
  if (textEmbeddings.shape[0] !== n)
    throw new Error(`sigLipLoss: ${n} images but ${textEmbeddings.shape[0]} texts.`);
  if ((options.positives ?? 'diagonal') === 'same-class' && options.labels == null) {
    throw new Error(`sigLipLoss: positives 'same-class' needs labels [${n}].`);
  }
  return tf.tidy(() => {
    const img = options.normalized ? imageEmbeddings : l2Normalize(imageEmbeddings, -1);
    const txt = options.normalized ? textEmbeddings : l2Normalize(textEmbeddings, -1);
    const scale = tf.exp(typeof logitScale === 'number' ? tf.scalar(logitScale) : logitScale);
    const bias = typeof logitBias === 'number' ? tf.scalar(logitBias) : logitBias;
    const logits = tf.add(tf.mul(tf.matMul(img, txt, false, true), scale), bias);
    const positive =
      (options.positives ?? 'diagonal') === 'same-class'
        ? tf.cast(tf.equal(tf.expandDims(options.labels!, 1), tf.expandDims(options.labels!, 0)), 'float32')
        : tf.eye(n);
    const z = tf.sub(tf.mul(positive, 2), 1);
    // log σ(x) = −softplus(−x), stable for large |x|.
    return tf.div(tf.sum(tf.softplus(tf.neg(tf.mul(z, logits)))), n) as tf.Scalar;
  });
}
