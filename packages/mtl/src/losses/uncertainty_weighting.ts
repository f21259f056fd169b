import * as tf from '@tensorflow/tfjs';
import { Layer, type LayerArgs } from '@moevl/core';

export interface UncertaintyWeightingArgs extends LayerArgs {
  /** Task names, in the order `combine` receives their losses. One weight `log_var/<task>` each. */
  tasks: string[];
}

/**
 * Homoscedastic-uncertainty task weighting (Kendall et al. 2018) in Mod-Squad's form:
 * L = Σ_i 0.5/σ_i²·L_i + ln(1 + σ_i²), learned per task. The weight stored is s_i = ln σ_i², so
 * L = Σ_i 0.5·exp(−s_i)·L_i + softplus(s_i); s is unconstrained and σ² = exp(s) stays positive. The
 * ln(1 + σ²) regulariser (instead of Kendall's ln σ) is bounded below by 0, so the total loss cannot run
 * to −∞ when a task's loss reaches 0. Initialised at s = 0 (σ = 1): every task starts at weight 0.5.
 */
export class UncertaintyWeighting extends Layer {
  static className = 'MoevlUncertaintyWeighting';
  readonly tasks: string[];
  logVars: tf.Variable[] = [];

  constructor(args: UncertaintyWeightingArgs) {
    super(args);
    const tasks = args.tasks;
    if (!Array.isArray(tasks) || tasks.length === 0 || tasks.some((t) => typeof t !== 'string' || t === '')) {
      throw new Error(`UncertaintyWeighting ${this.name}: tasks must be a non-empty list of task names.`);
    }
    const dup = tasks.find((t, i) => tasks.indexOf(t) !== i);
    if (dup !== undefined) {
      throw new Error(
        `UncertaintyWeighting ${this.name}: task "${dup}" is listed twice; names must be unique.`,
      );
    }
    this.tasks = [...tasks];
  }

  protected override build(): void {
    this.logVars = this.tasks.map((t) => this.addWeight(`log_var/${t}`, [], 'zeros'));
  }

  /** Σ_i 0.5·exp(−s_i)·L_i + ln(1 + exp(s_i)) over the tasks' losses, given in the order of `tasks`. */
  combine(losses: readonly tf.Scalar[]): tf.Scalar {
    this.ensureBuilt();
    if (losses.length !== this.tasks.length) {
      throw new Error(
        `UncertaintyWeighting ${this.name}: expected ${this.tasks.length} losses (${this.tasks.join(', ')}), ` +
          `got ${losses.length}.`,
      );
    }
    return tf.tidy(
      () =>
        tf.addN(
          losses.map((l, i) => {
            const s = this.logVars[i];
            return tf.add(tf.mul(tf.mul(0.5, tf.exp(tf.neg(s))), l), tf.softplus(s));
          }),
        ) as tf.Scalar,
    );
  }

  /** Current weights 0.5/σ_i² = 0.5·exp(−s_i), in the order of `tasks` (for logging). */
  weights(): number[] {
    this.ensureBuilt();
    return this.logVars.map((s) => 0.5 * Math.exp(-s.dataSync()[0]));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), tasks: [...this.tasks] };
  }
}
tf.serialization.registerClass(UncertaintyWeighting);
