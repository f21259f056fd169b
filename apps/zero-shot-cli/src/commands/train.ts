import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { matmulPath } from '@moevl/core';
import {
  type PairsDataSpec,
  modelConfigLabel,
  resolveLIMoEModelConfig,
  trainLIMoEOnPairs,
} from '@moevl/limoe';
import { describeSkips } from '@moevl/vision';
import { UsageError } from '../errors.js';
import { flagReader, parseChoiceFlag, parseIntegerFlag, parsePositiveNumberFlag } from '../flags/numbers.js';
import { parseRouterOptions, routerFromFlags } from '../flags/router_flags.js';
import { loadRouterPlugins } from '../models/router_plugins.js';
import { duration, toJson } from '../render/format.js';
import { prepareTrainingOut, runUntilStopped } from './training_run.js';
import { COMMON_OPTIONS, type IO, logger, startBackend } from './common.js';
import { writeTrainOutputs, writeTrainSummary } from './train_outputs.js';

export const TRAIN_HELP = `zero-shot train — train LIMoE (or a dense / two-tower baseline) on your own image–caption data

Usage:
  zero-shot train --train-data DATA --model NAME|CONFIG.json (--steps N | --epochs E) [--out DIR] [options]

Trains contrastively the way open_clip's trainer does (random resized crop 0.9–1, AdamW, warmup-cosine,
CLIP loss) and writes DIR/model.safetensors, which "zero-shot eval --model DIR/model.safetensors --data
FOLDER" evaluates. DATA is a CSV/TSV (a header row; image paths relative to the file), a JSONL of
{"image": path, "caption": text}, WebDataset shards ("shards-{000000..000099}.tar"), or an ImageNet-style
image folder (captions from class names); "a.tsv::b.tsv" reads several. Unusable samples (missing or
corrupt images, empty captions) are skipped, counted and reported. Checkpoints go to DIR/checkpoints: a
stopped run continues exactly with --resume (same samples, crops and order), and Ctrl-C (or SIGTERM)
finishes the current step, writes a checkpoint and exits 130. Also in DIR: log.jsonl (in checkpoints/),
curves.svg/png (loss, validation, zero-shot), routing.json and routing-block<i>.svg/png (which experts
image and text tokens go to), summary.json.

Data:
  --train-data DATA         the training pairs (required)
  --val-data DATA           held-out pairs: contrastive loss and open_clip's retrieval metrics (image→text
                            and text→image mean/median rank, R@1/5/10) every --val-every steps and at the end
  --dataset-type TYPE       auto (default: from the name) | csv | jsonl | webdataset | folder
  --csv-img-key NAME        column (or JSONL key) of image paths (default filepath; JSONL: image, file, filepath)
  --csv-caption-key NAME    column (or JSONL key) of captions (default title; JSONL: caption, text, title)
  --csv-separator SEP       one character, or "tab" (default tab, as open_clip)
  --shuffle-buffer N        WebDataset: samples held to shuffle across (default 1000; 0: shard order only)
  --workers N               image-decoding threads (default: cores − 1, at most 4)

Model:
  --model NAME|FILE         a model config: a preset (zero-shot models lists them: limoe-ti-16, limoe-s-16,
                            limoe-b-16, dense-*, two-tower-*, limoe-cpu-tiny) or a JSON file of that form
  --router NAME             the MoE router strategy (default: the config's, top-k); a plugin's by its name
  --router-option K=V       a router option (e.g. capacityFactor=1.25, k=2); repeatable
  --router-plugin SPEC      load a router plugin (a file or a package) first; repeatable

Optimisation:
  --batch-size N            pairs per step (default 64)
  --lr X                    peak learning rate (default 5e-4)
  --wd X                    weight decay (default 0.2)
  --warmup N                warmup steps (default min(10000, 10% of the steps))
  --steps N | --epochs E    training length (one of them; an epoch is one pass over the captioned samples)
  --seed N                  initialisation, data order and crops (default 0)

Run:
  --out DIR                 output folder (default train-MODEL-sSEED)
  --resume                  continue the run in DIR from its last checkpoint
  --checkpoint-every N      steps between checkpoints (default 100)
  --val-every N             steps between validations (default: at the end only)
  --val-limit N             validate on the first N pairs of --val-data (default all)
  --zeroshot-data DIR       an image folder (ImageNet layouts): zero-shot top-1 during training, as
                            open_clip's --imagenet-val, with the 7 "simple" CLIP prompts
  --zeroshot-every N        steps between zero-shot evaluations (default: at the end only)
  --zeroshot-limit N        a class-balanced sample of N images of --zeroshot-data
  --backend NAME            tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --json                    print the summary as JSON on stdout
  --quiet                   no progress on stderr
  -h, --help                this text

Exit codes: 0 ok, 1 training failed (e.g. the loss diverged), 2 a usage or input error, 130 stopped.`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  'train-data': { type: 'string' },
  'val-data': { type: 'string' },
  'dataset-type': { type: 'string' },
  'csv-img-key': { type: 'string' },
  'csv-caption-key': { type: 'string' },
  'csv-separator': { type: 'string' },
  workers: { type: 'string' },
  'shuffle-buffer': { type: 'string' },
  model: { type: 'string' },
  router: { type: 'string' },
  'router-option': { type: 'string', multiple: true },
  'router-plugin': { type: 'string', multiple: true },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  wd: { type: 'string' },
  warmup: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean', default: false },
  'checkpoint-every': { type: 'string' },
  'val-every': { type: 'string' },
  'val-limit': { type: 'string' },
  'zeroshot-data': { type: 'string' },
  'zeroshot-every': { type: 'string' },
  'zeroshot-limit': { type: 'string' },
} as const;

const DATASET_TYPES = ['auto', 'csv', 'jsonl', 'webdataset', 'folder'] as const;

function separator(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === 'tab' || value === '\\t') return '\t';
  if (value.length !== 1) {
    throw new UsageError(`--csv-separator must be one character or "tab", got "${value}".`);
  }
  return value;
}

/** `--val-every` and friends need the data they are about. */
function needs(values: Record<string, unknown>, flag: string, on: string): void {
  if (values[flag] !== undefined && values[on] === undefined) {
    throw new UsageError(`--${flag} needs --${on}.`);
  }
}

export async function runTrainCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  if (values['train-data'] === undefined)
    throw new UsageError('--train-data is required: the training pairs.');
  if (values.model === undefined) {
    throw new UsageError(
      '--model is required: a preset (zero-shot models lists them) or a JSON config file.',
    );
  }
  const steps = parseIntegerFlag('--steps', values.steps);
  const epochs = parsePositiveNumberFlag('--epochs', values.epochs);
  if ((steps === undefined) === (epochs === undefined)) {
    throw new UsageError('give the training length as --steps N or as --epochs E (one of them).');
  }
  needs(values, 'val-every', 'val-data');
  needs(values, 'val-limit', 'val-data');
  needs(values, 'zeroshot-every', 'zeroshot-data');
  needs(values, 'zeroshot-limit', 'zeroshot-data');
  const type = parseChoiceFlag('--dataset-type', values['dataset-type'], DATASET_TYPES) ?? 'auto';
  const batchSize = parseIntegerFlag('--batch-size', values['batch-size'], { min: 2 }) ?? 64;
  const seed = parseIntegerFlag('--seed', values.seed, { min: 0 }) ?? 0;
  const plan = {
    peakLr: parsePositiveNumberFlag('--lr', values.lr),
    weightDecay: flagReader('--wd', values.wd).optionalNumber('--wd', { min: 0 }),
    warmupSteps: parseIntegerFlag('--warmup', values.warmup, { min: 0 }),
    checkpointEvery: parseIntegerFlag('--checkpoint-every', values['checkpoint-every']) ?? 100,
    valEvery: parseIntegerFlag('--val-every', values['val-every']),
    valLimit: parseIntegerFlag('--val-limit', values['val-limit']),
    workers: parseIntegerFlag('--workers', values.workers, { min: 0 }),
    shuffleBuffer: parseIntegerFlag('--shuffle-buffer', values['shuffle-buffer'], { min: 0 }),
  };
  const routerOptions = parseRouterOptions(values['router-option'] ?? []);
  // Plugins first: --router may name one of their strategies, and the model is built with it.
  await loadRouterPlugins(values['router-plugin'] ?? []);
  const modelConfig = resolveLIMoEModelConfig(values.model);
  const router = routerFromFlags(values.router, routerOptions, modelConfig.model.moe?.router, {
    dim: modelConfig.model.dim,
    numExperts: modelConfig.model.moe?.numExperts,
    model: modelConfigLabel(modelConfig),
  });
  const data = (path: string): PairsDataSpec => ({
    path,
    type,
    imageKey: values['csv-img-key'],
    captionKey: values['csv-caption-key'],
    separator: separator(values['csv-separator']),
  });
  const out = resolve(
    values.out ?? `train-${modelConfigLabel(modelConfig).replace(/\.json$/i, '')}-s${seed}`,
  );
  const modelPath = await prepareTrainingOut(out, values.resume === true);
  const log = logger(values, io);
  const tty = (io.err as NodeJS.WriteStream).isTTY === true;
  const note = (m: string) => log(tty ? `\r\x1b[K${m}` : m);
  const backend = await startBackend(values);
  log(
    `backend: ${backend.backend}; model ${modelConfigLabel(modelConfig)}${router ? `, router ${router.name}` : ''}; out ${out}`,
  );
  const start = performance.now();
  const zeroShot = values['zeroshot-data']
    ? {
        data: values['zeroshot-data'],
        every: parseIntegerFlag('--zeroshot-every', values['zeroshot-every']),
        limit: parseIntegerFlag('--zeroshot-limit', values['zeroshot-limit']),
      }
    : undefined;
  const trainData = { ...data(values['train-data']), shuffleBuffer: plan.shuffleBuffer };
  const valData = values['val-data'] ? data(values['val-data']) : undefined;
  const run = await runUntilStopped(io, log, (signal) =>
    trainLIMoEOnPairs({
      modelConfig,
      router,
      train: trainData,
      val: valData,
      zeroShot,
      steps,
      epochs,
      batchSize,
      seed,
      peakLr: plan.peakLr,
      weightDecay: plan.weightDecay,
      warmupSteps: plan.warmupSteps,
      checkpointEvery: plan.checkpointEvery,
      valEvery: plan.valEvery,
      valLimit: plan.valLimit,
      workers: plan.workers,
      dir: join(out, 'checkpoints'),
      dirLabel: `--out ${out}`,
      resume: values.resume,
      signal,
      progress: !values.quiet,
      onLog: note,
    }),
  );
  if ('stopped' in run) return run.stopped;
  const { result } = run;
  const seconds = (performance.now() - start) / 1000;
  const outputs = await writeTrainOutputs(
    out,
    result,
    modelConfig,
    values['val-data'] ? data(values['val-data']) : data(values['train-data']),
  );
  const last = result.run.records[result.run.records.length - 1];
  const summary = {
    model: modelPath,
    config: modelConfig.name,
    router: result.model.config.moe?.router ?? null,
    steps: result.run.step,
    resumedFromStep: result.run.resumedFrom?.step ?? null,
    batchSize,
    seed,
    finalLoss: last?.loss ?? null,
    validation: result.validation ? { ...result.validation, skipped: undefined } : null,
    zeroShot: result.zeroShot ?? null,
    skipped: result.skipped,
    parameters: result.model.countParams(),
    seconds,
    backend: backend.backend,
    matmul: matmulPath().name,
    files: outputs,
  };
  result.model.dispose();
  await writeTrainSummary(out, summary);
  if (values.json) {
    io.out.write(toJson(summary));
    return 0;
  }
  const v = result.validation;
  io.out.write(
    `trained ${modelConfigLabel(modelConfig)} for ${summary.steps} steps in ${duration(seconds)} ` +
      `(${summary.parameters.toLocaleString('en-US')} parameters, final loss ${summary.finalLoss?.toFixed(4) ?? 'n/a'})\n` +
      (v
        ? `validation (${v.pairs} pairs): loss ${v.loss.toFixed(4)}; image→text R@1 ${v['image_to_text_R@1'].toFixed(3)}, ` +
          `R@5 ${v['image_to_text_R@5'].toFixed(3)}, mean rank ${v.image_to_text_mean_rank.toFixed(1)}; text→image R@1 ` +
          `${v['text_to_image_R@1'].toFixed(3)}, R@5 ${v['text_to_image_R@5'].toFixed(3)}, mean rank ${v.text_to_image_mean_rank.toFixed(1)}\n`
        : '') +
      (result.zeroShot
        ? `zero-shot top-1 ${result.zeroShot.top1?.toFixed(4) ?? 'n/a'} on ${values['zeroshot-data']}\n`
        : '') +
      `skipped training samples: ${describeSkips(result.skipped)}\n` +
      `model: ${modelPath}\n` +
      `evaluate it: zero-shot eval --model ${modelPath} --data FOLDER` +
      (values['router-plugin']?.length
        ? values['router-plugin'].map((p) => ` --router-plugin ${p}`).join('')
        : '') +
      '\n',
  );
  return 0;
}
