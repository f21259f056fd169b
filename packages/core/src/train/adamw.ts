import * as tf from '@tensorflow/tfjs';
import { fusedAdamWUpdate, hasOptimizerKernels } from '../backend/optimizer_kernels.js';
import { assertInteger } from '../config/integer_checks.js';

/**
 * AdamW with decoupled weight decay, written to match `torch.optim.AdamW` (amsgrad=False, maximize=False)
 * step for step, so recipes and checkpoints from PyTorch sparse-MoE work (LIMoE, V-MoE) carry over.
 *
 * Why not tfjs' `tf.train.adam`: it has no decoupled weight decay, no per-step learning rate, and its
 * moment variables cannot be saved and restored, which exact resumption from a checkpoint needs.
 *
 * Per variable, at its step t (1-based), with learning rate lr and weight decay wd:
 *   p ← p − lr·wd·p                    (decoupled decay, before the Adam update)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr·m̂ / (√v̂ + eps),  m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 * The last line is evaluated as PyTorch does: p − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps).
 *
 * On wasm and cpu the update is one fused kernel per variable (`backend/optimizer_kernels.ts`), bitwise
 * equal to the composed tfjs ops used elsewhere.
 *
 * Like PyTorch, each variable keeps its own step count, advanced only when it receives a gradient. A
 * variable without a gradient in a step (a task head absent from a multi-task batch, a parameter that did
 * not reach the loss) is left untouched: no decay, no moment update, no step.
 */

export interface AdamWOptions {
  /** Learning rate; default 1e-3. Can be overridden per call of `applyGradients` (schedules). */
  lr?: number;
  /** Decay of the first-moment average; default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average; default 0.999. */
  beta2?: number;
  /** Added to √v̂ in the denominator; default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 1e-2 (PyTorch's AdamW default). */
  weightDecay?: number;
  /** Variables for which this returns true get no weight decay (commonly biases, norms, embeddings). */
  excludeFromWeightDecay?: (name: string) => boolean;
}

/**
 * Optimizer state for checkpoints. `moments` holds, per variable name `<var>`: `m/<var>` and `v/<var>`
 * (float32, the variable's shape) and `step/<var>` (int32 scalar, that variable's own step count).
 * Tensor names use `/` so the record can be written as-is into a safetensors file.
 */
export interface AdamWState {
  /** Number of `applyGradients` calls made. */
  step: number;
  moments: Record<string, tf.Tensor>;
}

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

function zerosVariable(like: tf.Tensor): tf.Variable {
  return tf.variable(tf.zerosLike(like), false);
}

function copyVariable(x: tf.Tensor): tf.Variable {
  return tf.variable(tf.cast(x, 'float32'), false);
}

function checkNumber(name: string, value: number, lo: number, hi: number, hiOpen: boolean): number {
  const ok = Number.isFinite(value) && value >= lo && (hiOpen ? value < hi : value <= hi);
  if (!ok) {
    throw new Error(`AdamW: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}`);
  }
  return value;
}

/** Decoupled-weight-decay Adam matching `torch.optim.AdamW`; see the file comment for the update rule. */
export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly exclude: (name: string) => boolean;
  private slots = new Map<string, Slot>();
  private stepCount = 0;

  constructor(options: AdamWOptions = {}) {
    this.lr = checkNumber('lr', options.lr ?? 1e-3, 0, Infinity, true);
    this.beta1 = checkNumber('beta1', options.beta1 ?? 0.9, 0, 1, true);
    this.beta2 = checkNumber('beta2', options.beta2 ?? 0.999, 0, 1, true);
    this.eps = checkNumber('eps', options.eps ?? 1e-8, 0, Infinity, true);
    this.weightDecay = checkNumber('weightDecay', options.weightDecay ?? 1e-2, 0, Infinity, true);
    this.exclude = options.excludeFromWeightDecay ?? (() => false);
  }

  /** Number of `applyGradients` calls so far (0 before the first update); the index a schedule uses. */
  get step(): number {
    return this.stepCount;
  }

  /**
   * Updates every variable named in `grads` in place (`Variable.assign`). Variables in `vars` without a
   * gradient are skipped, as PyTorch skips parameters whose `.grad` is None. Inputs are not disposed.
   *
   * @param lr learning rate for this step only (for schedules); defaults to the constructor's.
   * @param gradScale every gradient is multiplied by this first (a global-norm clip coefficient, see
   *   `clipCoefficient`), as if the clipped gradients had been passed; 1 leaves them as they are.
   */
  applyGradients(
    grads: Record<string, tf.Tensor>,
    vars: Record<string, tf.Variable>,
    lr = this.lr,
    gradScale = 1,
  ): void {
    checkNumber('lr', lr, 0, Infinity, true);
    checkNumber('gradScale', gradScale, 0, 1, false);
    const names = Object.keys(grads);
    // Validate everything before touching any variable so a bad call leaves no half-applied update.
    for (const name of names) {
      const g = grads[name];
      const p = vars[name];
      if (p == null) {
        throw new Error(`AdamW.applyGradients: gradient for '${name}' but no variable of that name`);
      }
      if (p.dtype !== 'float32' || g.dtype !== 'float32') {
        throw new Error(
          `AdamW.applyGradients: '${name}' must be float32 (variable ${p.dtype}, gradient ${g.dtype})`,
        );
      }
      if (!tf.util.arraysEqual(p.shape, g.shape)) {
        throw new Error(
          `AdamW.applyGradients: gradient shape [${g.shape}] does not match variable '${name}' [${p.shape}]`,
        );
      }
      const slot = this.slots.get(name);
      if (slot != null && !tf.util.arraysEqual(slot.m.shape, p.shape)) {
        throw new Error(
          `AdamW.applyGradients: moments of '${name}' have shape [${slot.m.shape}], not [${p.shape}]`,
        );
      }
    }
    const fused = hasOptimizerKernels();
    for (const name of names) this.update(name, grads[name], vars[name], lr, gradScale, fused);
    this.stepCount++;
  }

  private update(
    name: string,
    g: tf.Tensor,
    p: tf.Variable,
    lr: number,
    gradScale: number,
    fused: boolean,
  ): void {
    let slot = this.slots.get(name);
    if (slot == null) {
      // Not trainable, so tf.variableGrads without an explicit var list never differentiates the moments.
      // tidy frees the zeros; variables are never tracked by tidy scopes, so they survive it.
      slot = tf.tidy(() => ({ m: zerosVariable(p), v: zerosVariable(p), step: 0 }));
      this.slots.set(name, slot);
    }
    const t = slot.step + 1;
    const { beta1, beta2, eps } = this;
    const wd = this.exclude(name) ? 0 : this.weightDecay;
    // Scalar factors in float64, as PyTorch computes them in Python floats.
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const { m, v } = slot;
    if (fused) {
      const decay = 1 - lr * wd;
      const [pNew, mNew, vNew] = fusedAdamWUpdate(p, m, v, g, {
        gradScale,
        decay,
        beta1,
        beta2,
        stepSize,
        bc2Sqrt,
        eps,
      });
      m.assign(mNew);
      v.assign(vNew);
      p.assign(pNew);
      tf.dispose([pNew, mNew, vNew]);
      slot.step = t;
      return;
    }
    tf.tidy(() => {
      if (gradScale !== 1) g = tf.mul(g, gradScale);
      const decayed = wd !== 0 ? tf.mul(p, 1 - lr * wd) : p;
      const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), eps);
      m.assign(mNew);
      v.assign(vNew);
      p.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize)));
    });
    slot.step = t;
  }

  /**
   * Snapshot for checkpoints. The tensors are new (clones of the moments), owned by the caller, and do not
   * change when training continues; dispose them after saving.
   */
  getState(): AdamWState {
    const moments: Record<string, tf.Tensor> = {};
    for (const [name, slot] of this.slots) {
      moments[`m/${name}`] = tf.clone(slot.m);
      moments[`v/${name}`] = tf.clone(slot.v);
      moments[`step/${name}`] = tf.scalar(slot.step, 'int32');
    }
    return { step: this.stepCount, moments };
  }

  /**
   * Restores a snapshot from {@link AdamW.getState} (possibly read back from a file). The tensors are copied;
   * the caller keeps ownership of `state`. A missing `step/<var>` falls back to `state.step`, which is right
   * whenever every variable received a gradient at every step.
   */
  setState(state: AdamWState): void {
    const { step, moments } = state;
    assertInteger('AdamW.setState: step', step, { min: 0 });
    const parsed = new Map<string, { m?: tf.Tensor; v?: tf.Tensor; step?: tf.Tensor }>();
    for (const [key, tensor] of Object.entries(moments)) {
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash);
      const name = key.slice(slash + 1);
      if (slash < 0 || (kind !== 'm' && kind !== 'v' && kind !== 'step') || name === '') {
        throw new Error(
          `AdamW.setState: unexpected moment name '${key}' (expected m/<var>, v/<var> or step/<var>)`,
        );
      }
      const entry = parsed.get(name) ?? {};
      entry[kind] = tensor;
      parsed.set(name, entry);
    }
    const slots = new Map<string, Slot>();
    const stepOf = new Map<string, number>();
    for (const [name, entry] of parsed) {
      if (entry.m == null || entry.v == null) {
        throw new Error(`AdamW.setState: variable '${name}' needs both m/${name} and v/${name}`);
      }
      if (!tf.util.arraysEqual(entry.m.shape, entry.v.shape)) {
        throw new Error(
          `AdamW.setState: m/${name} [${entry.m.shape}] and v/${name} [${entry.v.shape}] differ in shape`,
        );
      }
      let varStep = step;
      if (entry.step != null) {
        if (entry.step.size !== 1) throw new Error(`AdamW.setState: step/${name} must be a scalar`);
        varStep = entry.step.dataSync()[0];
        assertInteger(`AdamW.setState: step/${name}`, varStep, { min: 0 });
      }
      stepOf.set(name, varStep);
    }
    // All checks passed: only now replace the live state.
    for (const [name, entry] of parsed) {
      const { m, v } = entry as { m: tf.Tensor; v: tf.Tensor };
      slots.set(
        name,
        tf.tidy(() => ({ m: copyVariable(m), v: copyVariable(v), step: stepOf.get(name) ?? step })),
      );
    }
    this.disposeSlots();
    this.slots = slots;
    this.stepCount = step;
  }

  /** Frees the moment variables. The optimizer can keep being used; moments restart from zero. */
  dispose(): void {
    this.disposeSlots();
    this.stepCount = 0;
  }

  private disposeSlots(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }
}
