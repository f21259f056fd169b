import * as tf from '@tensorflow/tfjs';
import type { AdamW } from './adamw.js';
import { clipCoefficient, globalNorm } from './clip.js';

/**
 * One optimisation step: loss and gradients, optional global-norm clipping, AdamW update, and numbers
 * (not tensors) back for logging. It owns every tensor it creates, so a training loop that only calls
 * `trainStep` holds tensor count constant, and it refuses to update the weights when the loss or the
 * gradients are NaN/Inf: one bad batch would otherwise silently destroy a long run.
 */

/** What `lossFn` returns: the loss alone, or the loss with auxiliary scalars (e.g. MoE load-balancing). */
export type LossFnResult = tf.Scalar | { loss: tf.Scalar; aux?: Record<string, tf.Scalar> };

export interface TrainStepOptions {
  /**
   * Builds the loss from the variables. It runs under the gradient tape; every tensor it makes, including
   * the returned loss and aux scalars, is freed by `trainStep`, so return fresh tensors, not ones you keep.
   */
  lossFn: () => LossFnResult;
  /** Trainable variables by name, the same names the optimizer uses for its moments. */
  vars: Record<string, tf.Variable>;
  optimizer: AdamW;
  /** Learning rate for this step (e.g. `schedule(optimizer.step)`); defaults to the optimizer's. */
  lr?: number;
  /** Clip gradients to this global L2 norm before the update; no clipping when omitted. */
  clipNorm?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Auxiliary scalars returned by `lossFn`, read to numbers. */
  aux: Record<string, number>;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
}

/** The loss or the gradient norm was NaN/Inf; the step was refused and no weight changed. */
export class NonFiniteLossError extends Error {}

/**
 * When the loss function throws, tfjs (4.22, `Engine.gradients`) leaves its gradient tape behind with every
 * tensor saved for the backward pass kept alive — 392 tensors for a small LIMoE step. Free them, so a
 * failed step leaks nothing (tfjs only frees the tape after a completed backward pass).
 */
function freeAbandonedTape(): void {
  const state = (
    tf.engine() as unknown as {
      state: { gradientDepth: number; activeTape: Array<{ saved?: tf.Tensor[] }> | null };
    }
  ).state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

function readScalar(t: tf.Tensor): number {
  return t.dataSync()[0];
}

/**
 * Runs one step and returns the loss, auxiliary values and gradient norm as numbers.
 *
 * Variables that do not reach the loss get no gradient and are left untouched (see `AdamW`). Throws, with
 * the weights and optimizer unchanged, when the loss or the gradient norm is not finite; the message gives
 * the 0-based step (`optimizer.step`) and the value.
 */
export function trainStep(options: TrainStepOptions): TrainStepResult {
  const { lossFn, vars, optimizer, lr, clipNorm } = options;
  // tf.variableGrads keys gradients by the tfjs variable name, which is not the key in `vars`.
  const keyOf = new Map<string, string>();
  for (const [key, v] of Object.entries(vars)) {
    const other = keyOf.get(v.name);
    if (other != null) throw new Error(`trainStep: vars '${other}' and '${key}' are the same variable`);
    keyOf.set(v.name, key);
  }
  if (clipNorm != null && !(clipNorm > 0)) {
    throw new Error(`trainStep: clipNorm must be a number > 0, got ${clipNorm}`);
  }
  const varList = Object.values(vars).filter((v) => v.trainable);
  if (varList.length === 0) throw new Error('trainStep: vars holds no trainable variable');

  // Aux scalars are made inside the gradient tape's tidy scope; keep them past it and free them below.
  const auxTensors: Record<string, tf.Tensor> = {};
  const created: tf.Tensor[] = [];
  try {
    let computed;
    try {
      computed = tf.variableGrads(() => {
        const out = lossFn();
        if (out instanceof tf.Tensor) return out;
        for (const [name, t] of Object.entries(out.aux ?? {})) {
          auxTensors[name] = tf.keep(t);
          created.push(t);
        }
        return out.loss;
      }, varList);
    } catch (err) {
      freeAbandonedTape();
      throw err;
    }
    const { value, grads } = computed;
    created.push(value);
    const named: Record<string, tf.Tensor> = {};
    for (const [tfName, g] of Object.entries(grads)) {
      if (g == null) continue;
      created.push(g);
      named[keyOf.get(tfName)!] = g;
    }

    const step = optimizer.step;
    const loss = readScalar(value);
    if (!Number.isFinite(loss)) {
      throw new NonFiniteLossError(`trainStep: loss is ${loss} at step ${step}; weights were not updated`);
    }
    // Clipping is folded into the update (AdamW's gradScale): no clipped copy of every gradient is made.
    const gradNorm = globalNorm(named);
    const gradScale = clipNorm != null ? clipCoefficient(gradNorm, clipNorm) : 1;
    if (!Number.isFinite(gradNorm)) {
      throw new NonFiniteLossError(
        `trainStep: gradient norm is ${gradNorm} at step ${step} (loss ${loss}); weights were not updated`,
      );
    }

    const aux: Record<string, number> = {};
    for (const [name, t] of Object.entries(auxTensors)) {
      if (t.size !== 1) throw new Error(`trainStep: aux '${name}' must be a scalar, got shape [${t.shape}]`);
      aux[name] = readScalar(t);
    }

    optimizer.applyGradients(named, vars, lr, gradScale);
    return { loss, aux, gradNorm };
  } finally {
    tf.dispose(created);
  }
}
