import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  FASHION_CAPTION_NAMES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  saveLIMoE,
  trainLIMoE,
} from '@moevl/limoe';
import { loadFashionMnist } from '@moevl/vision';
import { parseChoiceFlag, parseIntegerFlag, parsePositiveNumberFlag } from '../flags/numbers.js';
import { duration, toJson } from '../render/format.js';
import { LIMOE_VARIANTS, limoeVariantConfig } from '@moevl/limoe';
import { matmulPath } from '@moevl/core';
import { prepareTrainingOut, runUntilStopped } from './training_run.js';
import { COMMON_OPTIONS, type IO, logger, startBackend } from './common.js';

export const TRAIN_LIMOE_HELP = `zero-shot train-limoe — train a LIMoE image-text model on Fashion-MNIST

Usage:
  zero-shot train-limoe [--variant NAME] [--steps N] [--out DIR] [options]

Trains contrastively on the official Fashion-MNIST training set (60,000 images, captions from class names
with the training templates) and writes DIR/model.safetensors, which "zero-shot eval --model
DIR/model.safetensors --data fashion-mnist" evaluates on the official test set with held-out templates.
Checkpoints go to DIR/checkpoints, so an interrupted run continues with --resume; Ctrl-C (or SIGTERM)
finishes the current step, writes a checkpoint and exits 130. An --out that already holds a run is refused
without --resume, and --resume continues only a run of the same configuration, data and seed.

Options:
  --variant NAME      limoe (default) | dense | two-tower | limoe-no-entropy
  --steps N           training steps (default 1400, about 3 epochs at batch 128)
  --batch-size N      images per step (default 128)
  --lr X              peak learning rate (default 1e-3)
  --seed N            seed of initialisation and data order (default 0)
  --positives WHAT    same-class (default: images of the same class are positives) | diagonal
  --per-class N       use only the first N training images of each class (quick experiments)
  --fashion-mnist-dir DIR  folder with the official train-*-ubyte.gz files (default
                      $MOEVL_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist, where
                      "apt-get install dataset-fashion-mnist" puts them)
  --checkpoint-every N  steps between checkpoints (default 100)
  --out DIR           output folder (default limoe-VARIANT-sSEED)
  --resume            continue from the last checkpoint in DIR/checkpoints
  --backend NAME      tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --json              print the summary as JSON on stdout
  --quiet             no progress on stderr
  -h, --help          this text

Exit codes: 0 ok, 1 training failed (e.g. the loss diverged), 2 a usage or input error, 130 stopped.`;

export async function runTrainLimoeCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...COMMON_OPTIONS,
      variant: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      positives: { type: 'string' },
      'per-class': { type: 'string' },
      'fashion-mnist-dir': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
  });
  const variant = parseChoiceFlag('--variant', values.variant, LIMOE_VARIANTS) ?? 'limoe';
  const steps = parseIntegerFlag('--steps', values.steps) ?? 1400;
  const batchSize = parseIntegerFlag('--batch-size', values['batch-size'], { min: 2 }) ?? 128;
  const lr = parsePositiveNumberFlag('--lr', values.lr) ?? 1e-3;
  const seed = parseIntegerFlag('--seed', values.seed, { min: 0 }) ?? 0;
  const positives =
    parseChoiceFlag('--positives', values.positives, ['same-class', 'diagonal'] as const) ?? 'same-class';
  const perClass = parseIntegerFlag('--per-class', values['per-class']);
  const checkpointEvery = parseIntegerFlag('--checkpoint-every', values['checkpoint-every']) ?? 100;
  const out = resolve(values.out ?? `limoe-${variant}-s${seed}`);
  const modelPath = await prepareTrainingOut(out, values.resume === true);
  const log = logger(values, io);
  const backend = await startBackend(values);
  log(`backend: ${backend.backend}; variant ${variant}; out ${out}`);

  const train = await loadFashionMnist({ split: 'train', perClass, dir: values['fashion-mnist-dir'] });
  const start = performance.now();
  // Ctrl-C or SIGTERM: finish the current step, write a checkpoint, say how to resume (exit 130).
  const run = await runUntilStopped(io, log, (signal) =>
    trainLIMoE({
      config: limoeVariantConfig(variant, seed),
      data: { images: train.images, labels: train.labels, count: train.count, side: train.width },
      classNames: FASHION_CAPTION_NAMES,
      steps,
      batchSize,
      peakLr: lr,
      seed,
      positives,
      dir: join(out, 'checkpoints'),
      dirLabel: `--out ${out}`,
      checkpointEvery,
      resume: values.resume,
      signal,
      progress: !values.quiet,
    }),
  );
  if ('stopped' in run) return run.stopped;
  const { result } = run;
  const seconds = (performance.now() - start) / 1000;
  await saveLIMoE(modelPath, result.model, result.tokenizer, {
    imageMean: FASHION_MNIST_MEAN,
    imageStd: FASHION_MNIST_STD,
    trainedOn: `fashion-mnist official train (${train.count} images), ${variant}, ${steps} steps`,
  });
  const last = result.run.records[result.run.records.length - 1];
  const summary = {
    variant,
    model: modelPath,
    steps: result.run.step,
    resumedFromStep: result.run.resumedFrom?.step ?? null,
    batchSize,
    lr,
    seed,
    positives,
    trainImages: train.count,
    finalLoss: last?.loss ?? null,
    parameters: result.model.countParams(),
    seconds,
    tokensPerSecond: Number.isFinite(result.tokensPerSecond) ? result.tokensPerSecond : null,
    backend: backend.backend,
    matmul: matmulPath().name,
  };
  result.model.dispose();
  if (values.json) {
    io.out.write(toJson(summary));
  } else {
    io.out.write(
      `trained ${variant} for ${summary.steps} steps in ${duration(seconds)} ` +
        `(${summary.parameters.toLocaleString('en-US')} parameters, final loss ${summary.finalLoss?.toFixed(4) ?? 'n/a'}, ` +
        `${summary.tokensPerSecond === null ? '?' : Math.round(summary.tokensPerSecond).toLocaleString('en-US')} tokens/s on ${backend.backend})\n` +
        `model: ${modelPath}\n` +
        `evaluate it: zero-shot eval --model ${modelPath} --data fashion-mnist\n`,
    );
  }
  return 0;
}
