import * as tf from '@tensorflow/tfjs';
import { checkSameShape } from './check_same_shape.js';

/** Σ|pred − target|, Σ(pred − target)² and the element count of one batch, summed in float64. */
export interface ErrorSums {
  absolute: number;
  squared: number;
  count: number;
}

/**
 * The error sums of a dense prediction, read from the tensors once. Per-batch means cannot be averaged
 * exactly when batches differ in size; these sums can be added (`addErrorSums`) and divided at the end
 * (`meanAbsoluteErrorOf`, `psnrOf`).
 */
export function errorSums(pred: tf.Tensor, target: tf.Tensor): ErrorSums {
  checkSameShape('errorSums', pred, target);
  const diff = tf.sub(pred, target);
  const d = diff.dataSync();
  diff.dispose();
  let absolute = 0;
  let squared = 0;
  for (const v of d) {
    absolute += Math.abs(v);
    squared += v * v;
  }
  return { absolute, squared, count: d.length };
}

export function addErrorSums(...parts: ErrorSums[]): ErrorSums {
  return parts.reduce(
    (a, p) => ({
      absolute: a.absolute + p.absolute,
      squared: a.squared + p.squared,
      count: a.count + p.count,
    }),
    { absolute: 0, squared: 0, count: 0 },
  );
}

/** Mean absolute error from accumulated sums (NaN when nothing was counted). */
export function meanAbsoluteErrorOf(sums: ErrorSums): number {
  return sums.count === 0 ? NaN : sums.absolute / sums.count;
}

/**
 * PSNR = 10·log10(maxValue² / MSE) in dB from accumulated sums: the PSNR of the pooled MSE over everything
 * counted, not the mean of per-image PSNRs. `Infinity` for a perfect prediction (JSON writes it as null).
 */
export function psnrOf(sums: ErrorSums, maxValue = 1): number {
  if (!(maxValue > 0) || !Number.isFinite(maxValue)) {
    throw new Error(
      `psnr: maxValue must be a positive number (1 for images in [0, 1], 255 for bytes), got ${maxValue}.`,
    );
  }
  if (sums.count === 0) return NaN;
  const mse = sums.squared / sums.count;
  return mse === 0 ? Infinity : 10 * Math.log10((maxValue * maxValue) / mse);
}

/** Mean absolute error of one batch, as a number. */
export function meanAbsoluteError(pred: tf.Tensor, target: tf.Tensor): number {
  return meanAbsoluteErrorOf(errorSums(pred, target));
}

/** PSNR in dB of one batch (pooled MSE), as a number. */
export function psnr(pred: tf.Tensor, target: tf.Tensor, maxValue = 1): number {
  return psnrOf(errorSums(pred, target), maxValue);
}
