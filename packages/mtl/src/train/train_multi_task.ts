import * as tf from '@tensorflow/tfjs';
import { AdamW, Rng, type RunTrainingResult, type StepRecord, runTraining, warmupCosine } from '@moevl/core';
import { type AesDecision, type AesState, AdaptiveExpertSelection } from '../aes/index.js';
import type { MultiTaskBatch, MultiTaskData, MultiTaskEvalSource } from '../data/index.js';
import { UncertaintyWeighting } from '../losses/index.js';
import { ExpertUsageEMA, type TaskMoEViT } from '../model/index.js';
import { validationLosses } from './evaluate_multi_task.js';
import { multiTaskForward } from './multi_task_forward.js';
import { perTaskLosses } from './task_losses.js';

/** Adaptive Expert Selection settings (REFERENCE §4; upstream every 2000 steps, patience 5000). */
export interface AesTrainingOptions {
  /** Validation check every this many steps (Δn). */
  every: number;
  /** Steps without improvement before k_t += 1. */
  patience: number;
  /** Default 2 (upstream k₀). Applied to every task's router at the start. */
  initialK?: number;
  /** Default 8 (upstream k_max), capped by the number of experts. */
  maxK?: number;
  minDelta?: number;
}

export interface TrainMultiTaskOptions {
  model: TaskMoEViT;
  /** Training stream; its tasks must be the model's, in the same order. */
  data: MultiTaskData;
  /** Held-out split for AES (and `validateEvery`); required with `aes`. */
  validation?: MultiTaskEvalSource;
  steps: number;
  peakLr?: number;
  /** Default min(200, steps/10). */
  warmupSteps?: number;
  weightDecay?: number;
  /** Global-norm clipping; default 1. */
  clipNorm?: number;
  /** Fixed weight per task (by name; missing tasks weigh 1). Ignored with `uncertainty`. */
  taskWeights?: Record<string, number>;
  /** Learn the task weights (Kendall et al., Mod-Squad's choice): Σ 0.5/σ²·L + ln(1+σ²). */
  uncertainty?: boolean;
  aes?: AesTrainingOptions;
  /** Keep Mod-Squad's per-task expert-usage EMA (for `extractSingleTask`); saved with checkpoints. */
  usageEma?: boolean;
  /** Validation losses logged every N steps without AES (0 = never). With AES they come with each check. */
  validateEvery?: number;
  /** Batch size of validation passes. Default 256. */
  validationBatchSize?: number;
  seed?: number;
  dir?: string;
  checkpointEvery?: number;
  resume?: boolean | string;
  stopAfter?: number;
  progress?: boolean;
  onStep?: (record: StepRecord) => void;
}

export interface TrainMultiTaskResult {
  run: RunTrainingResult;
  /** Every AES decision, in order (empty without AES). */
  aesHistory: AesDecision[];
  /** Each task's k at the end in the MoE MLP layers (empty for a model without them). */
  finalK: Record<string, number>;
  usageEma?: ExpertUsageEMA;
  /** The learned task weights 0.5/σ² with `uncertainty`. */
  uncertaintyWeights?: Record<string, number>;
}

/**
 * Multi-task training of a `TaskMoEViT` on core's `runTraining` (schedule, clipping, NaN guard, JSONL log,
 * checkpoints, exact resume). One step sends every task's batch through the model in one pass; the loss is
 * the weighted (or uncertainty-weighted) sum of the task losses plus every auxiliary loss the model returns
 * (MI, importance, load — already weighted by the model). Each task loss and each aux loss is logged on its
 * own (`aux['task/<name>']`, `aux['block3/mlp/mutualInformation']`, …).
 *
 * With `aes`, every `every` steps the validation loss of each task decides its k (AdaMV-MoE's AES); the
 * decisions are applied with `model.setTaskK`, logged (`aes`, `aesEvents`), and the controller's state is
 * saved with every checkpoint together with the usage EMA, so a resumed run repeats the same decisions.
 */
export async function trainMultiTask(options: TrainMultiTaskOptions): Promise<TrainMultiTaskResult> {
  const { model, data } = options;
  const specs = model.config.tasks;
  const names = specs.map((s) => s.name);
  const dataNames = data.taskSpecs.map((s) => s.name);
  if (dataNames.join('\u0000') !== names.join('\u0000')) {
    throw new Error(
      `trainMultiTask: the data's tasks (${dataNames.join(', ')}) differ from the model's (${names.join(', ')}); build both from the same task list.`,
    );
  }
  if (options.aes && options.validation == null) {
    throw new Error(
      'trainMultiTask: option aes needs a validation split; pass validation (held out from train).',
    );
  }
  for (const name of Object.keys(options.taskWeights ?? {})) {
    if (!names.includes(name)) {
      throw new Error(
        `trainMultiTask: taskWeights names unknown task "${name}"; the tasks are ${names.join(', ')}.`,
      );
    }
  }
  const seed = options.seed ?? model.config.seed;
  const weights = names.map((n) => options.taskWeights?.[n] ?? 1);
  const uncertainty = options.uncertainty ? new UncertaintyWeighting({ tasks: names }) : undefined;
  const aes = options.aes
    ? new AdaptiveExpertSelection({
        tasks: names,
        initialK: options.aes.initialK ?? 2,
        maxK: Math.min(options.aes.maxK ?? 8, model.config.moeMlp.numExperts),
        patience: options.aes.patience,
        minDelta: options.aes.minDelta,
      })
    : undefined;
  const applyK = () => {
    if (aes) names.forEach((n, t) => model.setTaskK(t, aes.k(n)));
  };
  applyK();
  const usage = options.usageEma ? new ExpertUsageEMA() : undefined;

  const optimizer = new AdamW({
    lr: options.peakLr ?? 1e-3,
    weightDecay: options.weightDecay ?? 0.05,
    // No decay on gains, biases, embeddings, the zero-initialised Mod-Squad gates or the task log-variances.
    excludeFromWeightDecay: (name) => /(bias|gamma|beta|position|embedding|log_var)/.test(name),
  });
  const prefixed = (prefix: string, ws: Record<string, tf.Variable>) =>
    Object.fromEntries(Object.entries(ws).map(([k, v]) => [`${prefix}/${k}`, v]));
  const allWeights = () => ({
    ...model.namedWeights(),
    ...(uncertainty ? prefixed('uncertainty', uncertainty.namedWeights()) : {}),
  });
  const validationBatch = options.validationBatchSize ?? 256;
  const validateEvery = options.aes?.every ?? options.validateEvery ?? 0;
  const uncertaintyByTask = () => {
    const w = uncertainty!.weights();
    return Object.fromEntries(names.map((n, t) => [n, w[t]]));
  };
  let lastMetrics: ReturnType<typeof multiTaskForward>['metrics'] | undefined;

  const run = await runTraining<MultiTaskBatch>({
    model: {
      namedWeights: allWeights,
      trainableWeights: () => Object.fromEntries(Object.entries(allWeights()).filter(([, v]) => v.trainable)),
      loadWeights: (tensors, o) => {
        const own: Record<string, tf.Tensor> = {};
        const unc: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(tensors)) {
          if (k.startsWith('uncertainty/')) unc[k.slice('uncertainty/'.length)] = v;
          else own[k] = v;
        }
        model.loadWeights(own, o);
        if (uncertainty) uncertainty.loadWeights(unc, o);
      },
    },
    config: {
      taskMoEViT: model.getConfig(),
      tasks: names,
      aes: options.aes ?? null,
      uncertainty: !!uncertainty,
    },
    optimizer,
    schedule: warmupCosine({
      peakLr: options.peakLr ?? 1e-3,
      warmupSteps: options.warmupSteps ?? Math.min(200, Math.floor(options.steps / 10)),
      totalSteps: options.steps,
    }),
    totalSteps: options.steps,
    data,
    rng: new Rng(seed),
    clipNorm: options.clipNorm ?? 1,
    dir: options.dir,
    checkpointEvery: options.checkpointEvery,
    resume: options.resume,
    stopAfter: options.stopAfter,
    progress: options.progress,
    extraState: {
      get: () => ({ aes: aes?.getState() ?? null, usage: usage?.getState() ?? null }),
      set: (state) => {
        if (aes && state.aes != null) aes.setState(state.aes as AesState);
        if (usage && state.usage != null) usage.setState(state.usage as never);
        applyK();
      },
    },
    lossFn: (batch, ctx) => {
      const out = multiTaskForward(model, batch, { training: true, rng: ctx.rng });
      lastMetrics = out.metrics;
      const losses = perTaskLosses(specs, out.outputs, batch.targets);
      const taskTotal = uncertainty
        ? uncertainty.combine(losses)
        : (tf.addN(losses.map((l, t) => (weights[t] === 1 ? l : tf.mul(l, weights[t])))) as tf.Scalar);
      const aux = Object.values(out.auxLosses);
      const loss = (aux.length > 0 ? tf.addN([taskTotal, ...aux]) : taskTotal) as tf.Scalar;
      const perTask = Object.fromEntries(names.map((n, t) => [`task/${n}`, losses[t]]));
      return { loss, aux: { ...perTask, ...out.auxLosses } };
    },
    onStep: async (record) => {
      const extra: Record<string, unknown> = {};
      if (usage && lastMetrics) usage.update(lastMetrics);
      if (uncertainty) extra.uncertaintyWeights = uncertaintyByTask();
      if (validateEvery > 0 && record.step % validateEvery === 0 && options.validation) {
        const validation = validationLosses(model, options.validation, validationBatch);
        extra.validation = validation;
        if (aes) {
          const before = aes.history.length;
          aes.update(record.step, validation);
          applyK();
          extra.aes = Object.fromEntries(names.map((n) => [n, aes.k(n)]));
          const events = aes.history
            .slice(before)
            .filter((d) => d.event !== 'improved' && d.event !== 'frozen');
          if (events.length > 0) extra.aesEvents = events;
        }
      }
      options.onStep?.({ ...record, ...extra });
      return extra;
    },
  });
  optimizer.dispose();
  const uncertaintyWeights = uncertainty ? uncertaintyByTask() : undefined;
  uncertainty?.dispose();
  return {
    run,
    aesHistory: aes?.history ?? [],
    finalK:
      model.mlpRouters().length > 0 ? Object.fromEntries(names.map((n, t) => [n, model.getTaskK(t)])) : {},
    usageEma: usage,
    uncertaintyWeights,
  };
}
