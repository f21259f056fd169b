import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultClassifierCacheDir, zeroShotClassifier } from '@moevl/vision';
import { InputError, UsageError } from '../errors.js';
import { type ClassesChoice, parseLabelsFlag, resolveClassesFlag } from '../flags/classes.js';
import { checkDatasetNameUsed, parseDatasetNameFlag } from '../flags/dataset_name.js';
import { parseIntegerFlag } from '../flags/numbers.js';
import { type TemplatesChoice, resolveTemplatesFlag } from '../flags/templates.js';
import { resolveModel } from '../models/resolve_model.js';
import { loadRouterPlugins } from '../models/router_plugins.js';
import { toJson } from '../render/format.js';
import { COMMON_OPTIONS, type IO, logger, parseBackendFlag, startBackend } from './common.js';

/** The model `classify` uses without --model: the standard CLIP ViT-B/32 (downloaded once, then cached). */
export const DEFAULT_CLASSIFY_MODEL = 'Xenova/clip-vit-base-patch32';
const DEFAULT_TEMPLATE = 'a photo of a {}.';
/** Images per embedding call. */
const BATCH = 32;

export const CLASSIFY_HELP = `zero-shot classify — the most likely labels of some images, zero-shot

Usage:
  zero-shot classify IMAGE... --labels "cat,dog,car" [options]
  zero-shot classify IMAGE... --classes imagenet [options]

Options:
  --labels LIST        class names separated by commas
  --classes WHAT       imagenet | fashion-mnist | FILE (a JSON list, a JSON object of lists keyed by
                       dataset as in CLIP_benchmark, or one class name per line) — instead of --labels
  --templates WHAT     openai80 | simple7 | FILE (same formats) | "a photo of a {}." (default
                       "${DEFAULT_TEMPLATE}", or a builtin model's own templates); {c} works as {} does
  --dataset-name NAME  the key to read from JSON object files of --classes and --templates
  --top N              labels shown per image (default 5)
  --model MODEL        builtin:NAME, a LIMoE .safetensors file, a CLIP folder or a hub id
                       (default ${DEFAULT_CLASSIFY_MODEL})
  --dtype TYPE         CLIP weight type: fp32 (default), q8, fp16, …
  --backend NAME       tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --cache-dir DIR      where text classifiers are cached; --no-cache to build every time
  --model-cache-dir DIR  where downloaded models are kept (default ~/.cache/moevl/models)
  --offline            never download: local folders and the model cache only
  --router-plugin SPEC load a router plugin before the model; repeatable
  --json               print only JSON on stdout
  --quiet              no notes on stderr
  -h, --help           this text

Probabilities are the softmax of the model's logits over the given labels (CLIP's convention).

Exit codes: 0 ok, 1 an image could not be decoded, 2 a usage or input error (missing image, bad flags).`;

interface ImageResult {
  image: string;
  top?: Array<{ label: string; probability: number; score: number }>;
  error?: string;
}

async function checkImages(images: string[]): Promise<string[]> {
  const paths = images.map((p) => resolve(p));
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (!info?.isFile()) throw new InputError(`classify: the image ${p} does not exist or is not a file.`);
  }
  return paths;
}

export async function runClassifyCommand(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      ...COMMON_OPTIONS,
      labels: { type: 'string' },
      classes: { type: 'string' },
      templates: { type: 'string' },
      'dataset-name': { type: 'string' },
      top: { type: 'string' },
      model: { type: 'string' },
      dtype: { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      'router-plugin': { type: 'string', multiple: true },
      'model-cache-dir': { type: 'string' },
      offline: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0)
    throw new UsageError(
      'classify needs at least one image, e.g. zero-shot classify cat.jpg --labels "cat,dog".',
    );
  if ((values.labels === undefined) === (values.classes === undefined)) {
    throw new UsageError(
      'classify needs the candidate classes: pass either --labels "cat,dog" or --classes FILE.',
    );
  }
  const top = parseIntegerFlag('--top', values.top) ?? 5;
  parseBackendFlag(values.backend);
  const paths = await checkImages(positionals);
  const datasetName = parseDatasetNameFlag(values['dataset-name']);
  const classes: ClassesChoice =
    values.labels !== undefined
      ? parseLabelsFlag(values.labels)
      : await resolveClassesFlag(values.classes!, { datasetName });
  const explicitTemplates =
    values.templates === undefined
      ? undefined
      : await resolveTemplatesFlag(values.templates, { datasetName });
  checkDatasetNameUsed(datasetName, [classes, explicitTemplates]);
  const cacheDir = values['no-cache'] ? null : resolve(values['cache-dir'] ?? defaultClassifierCacheDir());
  const log = logger(values, io);

  const backend = await startBackend(values);
  log(`backend: ${backend.backend}`);
  await loadRouterPlugins(values['router-plugin'] ?? []);
  const resolved = await resolveModel(values.model ?? DEFAULT_CLASSIFY_MODEL, {
    dtype: values.dtype,
    modelCacheDir: values['model-cache-dir'],
    offline: values.offline,
  });
  const templates: TemplatesChoice =
    explicitTemplates ??
    (resolved.builtin
      ? { templates: [...resolved.builtin.templates], name: resolved.builtin.name }
      : { templates: [DEFAULT_TEMPLATE], name: 'custom' });
  let results: ImageResult[];
  try {
    // The library's one-call zero-shot: class texts embedded once, images ranked as torch.topk does.
    const classify = await zeroShotClassifier(resolved.model, {
      classNames: classes.names,
      templates: templates.templates,
      modelId: resolved.modelId,
      cacheDir,
      batchSize: BATCH,
      onWarning: (m) => log(`warning: ${m}`),
    });
    try {
      const ranked = await classify(paths, { topK: top });
      results = ranked.map((r, i) =>
        'labels' in r ? { image: paths[i], top: r.labels } : { image: paths[i], error: r.error },
      );
    } finally {
      classify.dispose();
    }
  } finally {
    await resolved.model.dispose();
  }
  const failed = results.filter((r) => r.error !== undefined).length;
  if (values.json) {
    io.out.write(
      toJson({ model: resolved.modelId, templates: templates.templates, classes: classes.names, results }),
    );
  } else {
    for (const r of results) {
      io.out.write(`${r.image}\n`);
      if (r.error !== undefined) io.out.write(`  cannot read it: ${r.error}\n`);
      for (const t of r.top ?? [])
        io.out.write(`  ${(100 * t.probability).toFixed(1).padStart(5)}%  ${t.label}\n`);
    }
  }
  if (failed > 0) log(`${failed} of ${results.length} image(s) could not be read.`);
  return failed > 0 ? 1 : 0;
}
