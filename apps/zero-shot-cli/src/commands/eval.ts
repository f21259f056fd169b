import { parseArgs } from 'node:util';
import { setRouterChecks } from '@moevl/router';
import {
  imagenetTemplates,
  prepareZeroShotClassifier,
  runZeroShotEval,
  writeEvalResult,
  writePredictionsCsv,
} from '@moevl/vision';
import type { PreparedClassifier, ZeroShotEvalResult } from '@moevl/vision';
import { type ResolvedData, resolveData } from '../data/resolve_data.js';
import type { TemplatesChoice } from '../flags/templates.js';
import { type ResolvedModel, resolveModel } from '../models/resolve_model.js';
import { loadRouterPlugins } from '../models/router_plugins.js';
import { evalResultJson, formatEvalReport } from '../render/eval_report.js';
import { duration, toJson } from '../render/format.js';
import { phaseProgress } from '../render/progress.js';
import { type IO, logger, startBackend } from './common.js';
import { EVAL_OPTIONS, type EvalPlan, planEval } from './eval_options.js';

export const EVAL_HELP = `zero-shot eval — zero-shot classification accuracy of a model on an image dataset

Usage:
  zero-shot eval --model MODEL --data PATH [options]

Model (--model):
  builtin:NAME              a model shipped with moevl (builtin:limoe-fashion-mnist)
  path/to/model.safetensors a LIMoE model file (from zero-shot train-limoe)
  path/to/folder            a CLIP model exported for transformers.js (config.json, onnx/…)
  OWNER/NAME[@REVISION]     a Hugging Face Hub id, e.g. Xenova/clip-vit-base-patch32 (downloaded once into
                            --model-cache-dir); hf-hub:OWNER/NAME works too
  (zero-shot models lists the model families and the builtin models)

Data:
  --data PATH               an image folder, or "fashion-mnist" for the official Fashion-MNIST test set (shipped)
  --layout NAME             auto | folders | kaggle | labels | imagenetv2 (default auto: detected, and said why)
  --labels-file FILE        labels of a flat folder (Kaggle LOC_val_solution.csv, "file,wnid" or "file,index")
  --classes WHAT            imagenet | fashion-mnist | FILE: a JSON list of names, a JSON object of lists keyed
                            by dataset (CLIP_benchmark's en_classnames.json), or text with one class name, one
                            ImageNet synset or one "synset name" per line; default: from the data (ImageNet
                            for synsets)
  --subset FILE             only these synsets (one per line), predicting among them (ImageNet-A/R style)
  --limit N                 a seeded, class-balanced sample of N images
  --seed N                  seed of the sample and of sharding (default 0)
  --max-image-bytes SIZE    skip image files larger than SIZE without reading them (default 256M; K, M, G
                            are powers of 1024). Only regular files are read: FIFOs, sockets and devices
                            in the folder are skipped and counted, folder links are followed once

Prompts:
  --templates WHAT          openai80 | simple7 | FILE | "a photo of a {}." (default openai80; builtin and LIMoE
                            models on fashion-mnist default to their held-out templates). FILE: a JSON list, a
                            JSON object of lists keyed by dataset (CLIP_benchmark's templates file), or one
                            template per line; {c} and {} both stand for the class name
  --dataset-name NAME       the key to read from JSON object files of --classes and --templates (e.g. cifar10);
                            not needed when the object has a single key

Running:
  --batch-size N            images per batch (default 32)
  --backend NAME            tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --dtype TYPE              CLIP weight type: fp32 (default), q8, fp16, int8, uint8, q4, q4f16, bnb4
  --threads N               images decoded in parallel (default 4); decoding runs on libuv's thread pool,
                            so set UV_THREADPOOL_SIZE=N as well for more than 4. ONNX Runtime's own threads
                            are not changed by this flag.
  --cache-dir DIR           where built text classifiers are cached (default ~/.cache/moevl/zero-shot-classifiers,
                            or $MOEVL_CACHE_DIR/zero-shot-classifiers)
  --no-cache                build the classifier every time and cache nothing
  --model-cache-dir DIR     where downloaded models are kept (default ~/.cache/moevl/models, or
                            $MOEVL_CACHE_DIR/models)
  --offline                 never download: load models from local folders or the model cache only
  --router-plugin SPEC      load a router plugin (file or package) before the model; repeatable
  --check-router            check every router result against the plugin contract (shapes, index and
                            position ranges, finite weights); by default each MoE layer's first batch is
  --eval-capacity-factor X  MoE models: capacity-limited routing at this capacity factor, as V-MoE evaluates;
                            an image's tokens then compete with the rest of its batch for expert slots, so
                            results depend on --batch-size and data order (recorded in the result). Default:
                            dropless routing, where no token is dropped and nothing depends on the batch
  --strict                  stop at the first unreadable image (exit 1) instead of skipping it

Long runs:
  --work-dir DIR            where partial predictions are kept (default: next to --out, results.json →
                            results.work; else a folder in the cache dir named by a hash of the run)
  --resume                  continue from the work dir instead of starting over
  --shard I/N               evaluate only shard I of N (0-based); combine the N --out files with merge
  --shard auto              the shard from the scheduler: a Slurm job array (SLURM_ARRAY_TASK_ID − _MIN of
                            SLURM_ARRAY_TASK_COUNT), a Kubernetes Indexed Job (JOB_COMPLETION_INDEX of
                            --shards N or MOEVL_SHARD_COUNT) or MOEVL_SHARD=I/N; the result records which
  --shards N                the shard count for --shard auto in a Kubernetes Indexed Job (its completions)
  --classifier-only         build (or load) the text classifier into the cache and stop, reading no image:
                            a job that runs before a job array so that no task waits for another's build

Output:
  --out FILE                write the full result (with per-image predictions) as JSON; {shard} in FILE (and
                            in --predictions, --work-dir) is the shard index, zero-padded to the width of
                            the largest (results-{shard}.json → results-07.json for shard 7 of 12)
  --predictions FILE        write per-image predictions as CSV
  --json                    print the result as JSON on stdout (logs and progress go to stderr)
  --quiet                   no progress or logs on stderr
  -h, --help                this text

Exit codes: 0 ok, 1 the evaluation failed (also: an unreadable image with --strict), 2 a usage or input error.`;

/** Class names and templates: the flags, else the model family's own for this data, else the data's. */
function promptSetup(
  plan: EvalPlan,
  model: ResolvedModel,
  data: ResolvedData,
): { classNames: string[]; templates: TemplatesChoice } {
  const own = model.defaults(data.isFashionMnist ? 'fashion-mnist' : 'folder');
  const classNames = plan.classes?.names ?? (own?.classNames ? [...own.classNames] : data.classNames);
  const templates =
    plan.templates ??
    (own?.templates
      ? { templates: [...own.templates], name: own.templatesName ?? `${model.family.name} templates` }
      : { templates: imagenetTemplates('openai80'), name: 'openai80' });
  return { classNames, templates };
}

/** Stops the run between batches on Ctrl-C (partial predictions stay in the work dir); a second one kills. */
function stopOnSignals(onStop: () => void): () => void {
  const handler = () => onStop();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export async function runEvalCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: EVAL_OPTIONS });
  const plan = await planEval(values);
  if (plan.classifierOnly) {
    const prepared = await withEvalInputs(plan, io, (inputs) => prepareClassifier(plan, inputs, io));
    io.out.write(plan.json ? toJson(prepared) : formatPrepared(prepared));
    return 0;
  }
  const result = await evaluate(plan, io);
  io.out.write(plan.json ? toJson(evalResultJson(result)) : formatEvalReport(result));
  return 0;
}

/** What both an evaluation and `--classifier-only` start from: the model, the data and the prompts. */
interface EvalInputs {
  model: ResolvedModel;
  data: ResolvedData;
  classNames: string[];
  templates: TemplatesChoice;
  signal: AbortSignal;
}

/**
 * Starts the engine, loads plugins, data and model, and runs `action` with them; Ctrl-C aborts the
 * action's signal, and the model is disposed whatever happens.
 */
async function withEvalInputs<T>(
  plan: EvalPlan,
  io: IO,
  action: (inputs: EvalInputs) => Promise<T>,
): Promise<T> {
  const log = logger(plan, io);
  setRouterChecks(plan.checkRouter ? 'always' : 'first');
  const backend = await startBackend({ backend: plan.backend, quiet: plan.quiet });
  log(`backend: ${backend.backend}`);
  await loadRouterPlugins(plan.routerPlugins);
  const controller = new AbortController();
  const release = stopOnSignals(() => {
    log('\nstopping after the current batch (press Ctrl-C again to quit at once)…');
    controller.abort();
  });
  let data: ResolvedData;
  let model: ResolvedModel;
  try {
    data = await resolveData({ ...plan, signal: controller.signal });
    log(data.summary);
    model = await resolveModel(plan.model, {
      dtype: plan.dtype,
      evalRouting: plan.evalRouting,
      digestCacheDir: plan.cacheDir,
      modelCacheDir: plan.modelCacheDir,
      offline: plan.offline,
    });
  } catch (err) {
    release();
    throw err;
  }
  try {
    const { classNames, templates } = promptSetup(plan, model, data);
    log(
      `model: ${model.modelId}; ${classNames.length} classes × ${templates.templates.length} templates (${templates.name})`,
    );
    return await action({ model, data, classNames, templates, signal: controller.signal });
  } finally {
    release();
    await model.model.dispose();
  }
}

/** `--classifier-only`: the run's classifier into the cache, exactly as the evaluation would look it up. */
async function prepareClassifier(plan: EvalPlan, inputs: EvalInputs, io: IO): Promise<PreparedClassifier> {
  const log = logger(plan, io);
  const progress = phaseProgress(io.err, plan.quiet);
  try {
    const prepared = await prepareZeroShotClassifier({
      model: inputs.model.model,
      modelId: inputs.model.modelId,
      modelFingerprint: inputs.model.fingerprint,
      source: inputs.data.source,
      classNames: inputs.classNames,
      templates: inputs.templates.templates,
      cacheDir: plan.cacheDir,
      onProgress: (e) => progress.update(e),
      onWarning: (m) => log(`warning: ${m}`),
      onLog: log,
    });
    progress.finish();
    return prepared;
  } finally {
    progress.finish();
  }
}

function formatPrepared(p: PreparedClassifier): string {
  const how = p.cached
    ? `already in the cache (loaded in ${duration(p.seconds)})`
    : `built and cached in ${duration(p.seconds)}`;
  return (
    `classifier: ${p.classes} classes × ${p.templates} templates, ${how}\n` +
    `  ${p.file}\n` +
    p.warnings.map((w) => `  warning: ${w}\n`).join('')
  );
}

/** Runs a planned evaluation and writes --out / --predictions; shared with `demo`. */
export async function evaluate(plan: EvalPlan, io: IO): Promise<ZeroShotEvalResult> {
  return withEvalInputs(plan, io, (inputs) => evaluateInputs(plan, inputs, io));
}

async function evaluateInputs(plan: EvalPlan, inputs: EvalInputs, io: IO): Promise<ZeroShotEvalResult> {
  const log = logger(plan, io);
  const { model, data, classNames, templates } = inputs;
  const progress = phaseProgress(io.err, plan.quiet);
  try {
    if (plan.shard !== undefined && plan.shard.source !== 'flag')
      log(`shard ${plan.shard.index}/${plan.shard.count} (from the ${plan.shard.source} environment)`);
    if (plan.workDir !== undefined) log(`work dir: ${plan.workDir}${plan.resume ? ' (resuming)' : ''}`);
    const result = await runZeroShotEval({
      model: model.model,
      modelId: model.modelId,
      modelFingerprint: model.fingerprint,
      source: data.source,
      classNames,
      templates: templates.templates,
      templatesName: templates.name,
      batchSize: plan.batchSize,
      limit: plan.limit,
      seed: plan.seed,
      // Only index and count decide the items and the work dir: a shard resumed by hand (--shard 2/8)
      // continues what the scheduler's task (--shard auto) left.
      shard: plan.shard && { index: plan.shard.index, count: plan.shard.count },
      workDir: plan.workDir,
      resume: plan.resume,
      cacheDir: plan.cacheDir,
      strict: plan.strict,
      onProgress: (e) => progress.update(e),
      onWarning: (m) => log(`warning: ${m}`),
      onLog: log,
      signal: inputs.signal,
    });
    progress.finish();
    if (result.shard && plan.shard) Object.assign(result.shard, { source: plan.shard.source });
    if (result.timing.classifierCached) log('classifier: loaded from the cache');
    if (plan.out !== undefined) {
      await writeEvalResult(plan.out, result);
      log(`wrote ${plan.out}`);
    }
    if (plan.predictions !== undefined) {
      await writePredictionsCsv(plan.predictions, result, classNames);
      log(`wrote ${plan.predictions}`);
    }
    return result;
  } finally {
    progress.finish();
  }
}
