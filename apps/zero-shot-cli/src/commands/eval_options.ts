import { resolve } from 'node:path';
import type { BackendName, EvalRouting } from '@moevl/core';
import { canonicalDtype, defaultClassifierCacheDir } from '@moevl/vision';
import type { ClipDtype, LayoutOption } from '@moevl/vision';
import { UsageError } from '../errors.js';
import { type ClassesChoice, resolveClassesFlag } from '../flags/classes.js';
import { checkDatasetNameUsed, parseDatasetNameFlag } from '../flags/dataset_name.js';
import {
  parseByteSizeFlag,
  parseChoiceFlag,
  parseIntegerFlag,
  parsePositiveNumberFlag,
} from '../flags/numbers.js';
import { type ResolvedShard, fillShardPlaceholder, resolveShardFlags } from '../flags/shard.js';
import { checkWritableFile, checkWritableFolder, resolveWorkDir } from '../flags/paths.js';
import { type TemplatesChoice, resolveTemplatesFlag } from '../flags/templates.js';
import { readListFile } from '../flags/list_files.js';
import { COMMON_OPTIONS, parseBackendFlag } from './common.js';

/** The flags of `zero-shot eval` (parseArgs options). */
export const EVAL_OPTIONS = {
  ...COMMON_OPTIONS,
  model: { type: 'string' },
  data: { type: 'string' },
  layout: { type: 'string' },
  'labels-file': { type: 'string' },
  classes: { type: 'string' },
  subset: { type: 'string' },
  templates: { type: 'string' },
  'dataset-name': { type: 'string' },
  'batch-size': { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  dtype: { type: 'string' },
  threads: { type: 'string' },
  'max-image-bytes': { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  'cache-dir': { type: 'string' },
  out: { type: 'string' },
  predictions: { type: 'string' },
  resume: { type: 'boolean', default: false },
  'work-dir': { type: 'string' },
  shard: { type: 'string' },
  shards: { type: 'string' },
  'classifier-only': { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
  'router-plugin': { type: 'string', multiple: true },
  'eval-capacity-factor': { type: 'string' },
  'check-router': { type: 'boolean', default: false },
  'model-cache-dir': { type: 'string' },
  offline: { type: 'boolean', default: false },
} as const;

export type EvalFlags = {
  [K in keyof typeof EVAL_OPTIONS]?: (typeof EVAL_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof EVAL_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

export const LAYOUTS: readonly LayoutOption[] = ['auto', 'folders', 'kaggle', 'labels', 'imagenetv2'];

/** Every eval flag checked and resolved; built before anything slow (model, images) is touched. */
export interface EvalPlan {
  model: string;
  data: string;
  layout?: LayoutOption;
  labelsFile?: string;
  classes?: ClassesChoice;
  subset?: string[];
  /** Undefined: the model's own templates (builtin LIMoE) or openai80. */
  templates?: TemplatesChoice;
  batchSize?: number;
  limit?: number;
  seed: number;
  backend?: BackendName;
  dtype?: ClipDtype;
  /** Images decoded in parallel. */
  threads?: number;
  /** Image files larger than this are skipped unread (`--max-image-bytes`; default the library's). */
  maxImageBytes?: number;
  cacheDir: string | null;
  out?: string;
  predictions?: string;
  resume: boolean;
  workDir?: string;
  /** `--shard I/N` or what `--shard auto` found, with where it came from (recorded in the result). */
  shard?: ResolvedShard;
  /** Build (or load) and cache the classifier, then stop: no image is read (`--classifier-only`). */
  classifierOnly: boolean;
  strict: boolean;
  quiet: boolean;
  json: boolean;
  routerPlugins: string[];
  /** MoE routing at evaluation: dropless (default) or capacity-limited (`--eval-capacity-factor`). */
  evalRouting?: EvalRouting;
  /** Check every router result against the contract (`--check-router`); default: each layer's first. */
  checkRouter: boolean;
  /** Where downloaded models are cached (`--model-cache-dir`). */
  modelCacheDir?: string;
  /** Never download a model (`--offline`). */
  offline: boolean;
}

function required(flag: string, value: string | undefined, example: string): string {
  if (value === undefined || value.trim() === '') {
    throw new UsageError(`${flag} is required, e.g. ${example}.`);
  }
  return value;
}

/** `--dtype`: checked against the weight types transformers.js knows. */
function parseDtype(value: string | undefined): ClipDtype | undefined {
  if (value === undefined) return undefined;
  try {
    canonicalDtype(value as ClipDtype);
  } catch (err) {
    throw new UsageError(`--dtype: ${(err as Error).message}`);
  }
  return value as ClipDtype;
}

/**
 * Validates the flags of `eval` and resolves the cheap ones (class and template files, output paths, the
 * work dir), so every usage mistake is reported before a model is loaded or an image decoded.
 */
export async function planEval(flags: EvalFlags): Promise<EvalPlan> {
  const model = required('--model', flags.model, '--model Xenova/clip-vit-base-patch32');
  const data = required('--data', flags.data, '--data /data/imagenet/val or --data fashion-mnist');
  const layout = parseChoiceFlag('--layout', flags.layout, LAYOUTS);
  const batchSize = parseIntegerFlag('--batch-size', flags['batch-size']);
  const limit = parseIntegerFlag('--limit', flags.limit);
  const seed = parseIntegerFlag('--seed', flags.seed, { min: 0 }) ?? 0;
  const threads = parseIntegerFlag('--threads', flags.threads, { max: 1024 });
  const maxImageBytes = parseByteSizeFlag('--max-image-bytes', flags['max-image-bytes']);
  const shard = resolveShardFlags(flags);
  const classifierOnly = flags['classifier-only'] ?? false;
  if (classifierOnly) {
    const given = (
      ['out', 'predictions', 'work-dir', 'shard', 'shards', 'resume', 'no-cache'] as const
    ).filter((f) => flags[f] !== undefined && flags[f] !== false);
    if (given.length > 0) {
      throw new UsageError(
        `--classifier-only reads no image and writes only the classifier cache, so ${given.map((f) => `--${f}`).join(', ')} ` +
          `${given.length === 1 ? 'does' : 'do'} not apply; drop ${given.length === 1 ? 'it' : 'them'}.`,
      );
    }
  }
  const backend = parseBackendFlag(flags.backend);
  const dtype = parseDtype(flags.dtype);
  const capacityFactor = parsePositiveNumberFlag('--eval-capacity-factor', flags['eval-capacity-factor']);
  if (flags['no-cache'] && flags['cache-dir'] !== undefined) {
    throw new UsageError('--no-cache and --cache-dir contradict each other; pass one of them.');
  }
  const cacheDir = flags['no-cache'] ? null : resolve(flags['cache-dir'] ?? defaultClassifierCacheDir());
  // `results-{shard}.json`: one command line for every task of a job array.
  const outFlag = fillShardPlaceholder('--out', flags.out, shard);
  const predictionsFlag = fillShardPlaceholder('--predictions', flags.predictions, shard);
  const workDirFlag = fillShardPlaceholder('--work-dir', flags['work-dir'], shard);
  const out = outFlag === undefined ? undefined : await checkWritableFile('--out', outFlag);
  const predictions =
    predictionsFlag === undefined ? undefined : await checkWritableFile('--predictions', predictionsFlag);
  if (out !== undefined && out === predictions) {
    throw new UsageError('--out and --predictions name the same file; give them different paths.');
  }
  // One --dataset-name for every list file, as CLIP_benchmark keys its class and template files alike.
  const datasetName = parseDatasetNameFlag(flags['dataset-name']);
  const classes =
    flags.classes === undefined ? undefined : await resolveClassesFlag(flags.classes, { datasetName });
  const subsetFile =
    flags.subset === undefined
      ? undefined
      : await readListFile(flags.subset, { flag: '--subset', noun: 'synset', datasetName });
  const subset = subsetFile?.entries;
  const templates =
    flags.templates === undefined ? undefined : await resolveTemplatesFlag(flags.templates, { datasetName });
  checkDatasetNameUsed(datasetName, [classes, subsetFile, templates]);
  const resume = flags.resume ?? false;
  const workDir = classifierOnly
    ? undefined
    : resolveWorkDir({
        workDir: workDirFlag,
        out: outFlag,
        cacheDir,
        key: {
          model,
          data: data === 'fashion-mnist' ? data : resolve(data),
          layout,
          labelsFile: flags['labels-file'],
          classes: classes?.names,
          subset,
          templates: templates?.templates,
          limit,
          seed,
          shard: shard && { index: shard.index, count: shard.count },
          evalCapacityFactor: capacityFactor ?? null,
        },
      });
  if (workDir !== undefined) {
    await checkWritableFolder(
      workDirFlag !== undefined ? '--work-dir' : `the work dir ${workDir} (derived from --out)`,
      workDir,
    );
  }
  if (cacheDir !== null && flags['cache-dir'] !== undefined)
    await checkWritableFolder('--cache-dir', cacheDir);
  if (resume && workDir === undefined) {
    throw new UsageError(
      '--resume needs a work dir to continue from; pass --work-dir DIR or --out FILE (with --no-cache none is derived).',
    );
  }
  return {
    model,
    data,
    layout,
    labelsFile: flags['labels-file'],
    classes,
    subset,
    templates,
    batchSize,
    limit,
    seed,
    backend,
    dtype,
    threads,
    maxImageBytes,
    cacheDir,
    out,
    predictions,
    resume,
    workDir,
    shard,
    classifierOnly,
    strict: flags.strict ?? false,
    quiet: flags.quiet ?? false,
    json: flags.json ?? false,
    routerPlugins: flags['router-plugin'] ?? [],
    evalRouting: capacityFactor === undefined ? undefined : { mode: 'capacity', capacityFactor },
    checkRouter: flags['check-router'] ?? false,
    modelCacheDir:
      flags['model-cache-dir'] === undefined
        ? undefined
        : await checkWritableFolder('--model-cache-dir', flags['model-cache-dir']),
    offline: flags.offline ?? false,
  };
}
