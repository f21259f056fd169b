import * as tf from '@tensorflow/tfjs';
import { customGrad } from './custom_grad.js';
import { logsumexp } from './logsumexp.js';
import { oneHot } from './one_hot.js';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Cross-entropy of softmax(logits) against integer class labels (`torch.nn.functional.cross_entropy`,
 * `optax.softmax_cross_entropy_with_integer_labels`): loss_i = lse(logits_i) − logits_i[label_i].
 * Labels are checked (an out-of-range label is an error, not a silent zero row); the gradient is
 * (softmax − onehot)·dy in closed form. The CLIP loss is this, applied to rows and columns.
 */
function softmaxCrossEntropy_(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  reduction: Reduction = 'mean',
): tf.Tensor {
  if (logits.rank !== 2)
    throw new Error(`softmaxCrossEntropy: logits must be [N, C], got [${logits.shape}].`);
  if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `softmaxCrossEntropy: labels must be int32 [${logits.shape[0]}], got ${labels.dtype} [${labels.shape}].`,
    );
  }
  const [n, c] = logits.shape;
  const ids = labels.dataSync();
  for (let i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= c) {
      throw new Error(`softmaxCrossEntropy: label ${ids[i]} at row ${i} is out of range [0, ${c}).`);
    }
  }
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(
      `softmaxCrossEntropy: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'.`,
    );
  }
  // Tensors a gradFunc uses must come through save(): anything else made here is freed when this op
  // returns, before the backward pass runs.
  const f = customGrad(([z, lab], save) => {
    const target = oneHot(lab as tf.Tensor1D, c);
    const lse = logsumexp(z, -1, true);
    save([z, lse, lab]);
    const perRow = tf.squeeze(tf.sub(lse, tf.sum(tf.mul(z, target), -1, true)), [1]);
    const value = reduction === 'none' ? perRow : reduction === 'sum' ? tf.sum(perRow) : tf.mean(perRow);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [zs, lseS, labS] = saved;
        const diff = tf.sub(tf.exp(tf.sub(zs, lseS)), oneHot(labS as tf.Tensor1D, c));
        const scale =
          reduction === 'none' ? tf.reshape(dy, [n, 1]) : reduction === 'sum' ? dy : tf.div(dy, n);
        return [tf.mul(diff, scale), tf.zerosLike(labS)];
      },
    };
  });
  return f(logits, labels);
}

export const softmaxCrossEntropy = tf.op({ softmaxCrossEntropy_ });
