import path from 'node:path';
import { assertPositiveInteger } from '@moevl/core';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import type { ImageTextModel } from '../model/image_text_model.js';
import type { PreprocessConfig } from '../preprocess/config.js';
import { readPreprocessorConfig } from '../preprocess/index.js';
import { ClipLoadError, describeError, isNetworkError, offlineHubError } from './clip_load_error.js';
import { clipMaxLength } from './clip_tokenize.js';
import { canonicalDtype, clipOnnxFiles } from './dtypes.js';
import type { ClipDtype, TransformersDtype } from './dtypes.js';
import { CLIP_METADATA_FILES, inspectLocalFolder, readJsonFile, resolveClipSource } from './model_source.js';
import type { ClipLayout, ClipSource } from './model_source.js';
import { TransformersClipModel } from './transformers_clip_model.js';
import type { ClipGraphs } from './transformers_clip_model.js';
import { withTransformersEnv } from './transformers_env.js';
import { transformers } from './transformers_module.js';

export interface TransformersClipOptions {
  /**
   * Weight type, as transformers.js names it: `fp32` (default; `onnx/*.onnx`), `q8` (or its 2.x name
   * `quantized`; `onnx/*_quantized.onnx`), `fp16`, `int8`, `uint8`, `q4`, `q4f16`, `bnb4`.
   */
  dtype?: ClipDtype;
  /**
   * Never touch the network. A local folder never does anyway; a hub id then loads only from the cache.
   * Defaults to `true` when transformers.js's `env.allowRemoteModels` is already `false` (respecting a
   * process that was put offline on purpose), else `false`.
   */
  localOnly?: boolean;
  /**
   * Where hub downloads are cached. transformers.js's own default is a `.cache` folder inside its package,
   * which `npm ci` wipes; callers should pass a lasting folder (the CLI uses `defaultModelCacheDir()`).
   */
  cacheDir?: string;
  /** A hub revision (branch, tag or commit); `OWNER/NAME@REVISION` in the model id sets it too. */
  revision?: string;
  /** Images or texts per ONNX Runtime call. Default 32. */
  batchSize?: number;
  /**
   * `auto` (default): the separate `text_model`/`vision_model` graphs when both exist, else the combined
   * `model` graph; `true`/`false` force one layout.
   */
  combined?: 'auto' | boolean;
  /**
   * Override the logit scale. By default: 100 when config.json has no `logit_scale_init_value` or has
   * CLIP's initial 2.6592 (trained CLIPs end at 100), else exp of that value. Rankings do not depend on it.
   */
  logitScale?: number;
}

/**
 * Load a CLIP model exported for transformers.js (a local folder, or a Hugging Face Hub id when online)
 * as an {@link ImageTextModel}.
 *
 * A local folder loads fully offline: transformers.js is switched to local-only for the duration of the
 * load (and its file cache off), and its settings are put back afterwards. Files are checked up front, so
 * a missing file is reported with the full list of what a CLIP folder needs. Images are not run through
 * transformers.js's image processor — callers preprocess with this package using `model.preprocess`
 * (read from the model's preprocessor_config.json), which matches open_clip's PIL pipeline.
 */
export async function loadTransformersClip(
  modelIdOrPath: string,
  options: TransformersClipOptions = {},
): Promise<ImageTextModel> {
  const dtype = canonicalDtype(options.dtype ?? 'fp32');
  const combined = options.combined ?? 'auto';
  if (combined !== 'auto' && typeof combined !== 'boolean') {
    throw new Error(`loadTransformersClip: combined must be 'auto', true or false, got ${String(combined)}.`);
  }
  const batchSize = options.batchSize ?? 32;
  assertPositiveInteger('loadTransformersClip: batchSize', batchSize);
  if (options.logitScale !== undefined && !(options.logitScale > 0 && Number.isFinite(options.logitScale))) {
    throw new Error(`loadTransformersClip: logitScale must be a positive number, got ${options.logitScale}.`);
  }
  // `OWNER/NAME@REVISION` (as transformers.js and the Hub write it) pins a revision of a hub model.
  const at = /^([^@\s]+\/[^@\s]+)@([\w.\-/]+)$/.exec(modelIdOrPath);
  if (at && options.revision === undefined) {
    return loadTransformersClip(at[1], { ...options, revision: at[2] });
  }
  const source = resolveClipSource(modelIdOrPath);
  const loaded =
    source.kind === 'local'
      ? await loadLocal(source.dir, dtype, combined)
      : await loadHub(source, dtype, combined, options);

  const config = loaded.config;
  const projection =
    config.projection_dim ?? (config.text_config as Record<string, unknown> | undefined)?.projection_dim;
  const scale = config.logit_scale_init_value;
  const model = new TransformersClipModel({
    name: source.kind === 'local' ? source.dir : source.id,
    embeddingDim: typeof projection === 'number' && projection > 0 ? projection : undefined,
    logitScale: options.logitScale ?? defaultLogitScale(scale),
    preprocess: loaded.preprocess,
    graphs: loaded.graphs,
    tokenizer: loaded.tokenizer,
    maxLength: clipMaxLength(loaded.tokenizer, config),
    batchSize,
    Tensor: (await transformers()).Tensor,
  });
  try {
    return await model.init();
  } catch (e) {
    await model.dispose();
    throw e;
  }
}

interface LoadedParts {
  config: Record<string, unknown>;
  preprocess: PreprocessConfig;
  tokenizer: PreTrainedTokenizer;
  graphs: ClipGraphs;
}

async function loadLocal(
  dir: string,
  dtype: TransformersDtype,
  combined: 'auto' | boolean,
): Promise<LoadedParts> {
  const { AutoConfig } = await transformers();
  const layout = inspectLocalFolder(dir, dtype, combined);
  // Parse every JSON file here so a broken one is reported by its path, not as a bare SyntaxError.
  const json = Object.fromEntries(CLIP_METADATA_FILES.map((f) => [f, readJsonFile(path.join(dir, f))]));
  const config = json['config.json'];
  const preprocessorPath = path.join(dir, 'preprocessor_config.json');
  const preprocess = toPreprocess(preprocessorPath, preprocessorPath);
  const overrides = {
    allowLocalModels: true,
    allowRemoteModels: false,
    localModelPath: path.dirname(dir),
    useFSCache: false,
  };
  try {
    // An absolute path is never a valid hub id, so transformers.js reads it as a folder, not from the Hub.
    const opts = { local_files_only: true };
    const { tokenizer, graphs } = await withTransformersEnv(overrides, async () => {
      const cfg = await AutoConfig.from_pretrained(dir, opts);
      return loadModelParts(dir, { ...opts, config: cfg }, layout, dtype);
    });
    return { config, preprocess, tokenizer, graphs };
  } catch (e) {
    if (e instanceof ClipLoadError) throw e; // already names the file
    throw new ClipLoadError(`Failed to load the CLIP model in ${dir}: ${describeError(e)}`, dir, {
      cause: e,
    });
  }
}

async function loadHub(
  source: Extract<ClipSource, { kind: 'hub' }>,
  dtype: TransformersDtype,
  combined: 'auto' | boolean,
  options: TransformersClipOptions,
): Promise<LoadedParts> {
  const { AutoConfig, AutoImageProcessor, env } = await transformers();
  const { id } = source;
  const localOnly = options.localOnly ?? env.allowRemoteModels === false;
  const opts = {
    local_files_only: localOnly,
    cache_dir: options.cacheDir,
    ...(options.revision !== undefined && { revision: options.revision }),
  };
  // transformers.js looks for tokenizer_config.json in `env.cacheDir` whatever `cache_dir` says, so the
  // cache folder is set in both places.
  const overrides = { allowRemoteModels: !localOnly, cacheDir: options.cacheDir };
  let loaded: Omit<LoadedParts, 'preprocess'> & { preprocessorJson: Record<string, unknown> };
  try {
    loaded = await withTransformersEnv(overrides, async () => {
      const config = await AutoConfig.from_pretrained(id, opts);
      const layout = await hubLayout(id, dtype, combined, opts);
      const processor = await AutoImageProcessor.from_pretrained(id, opts);
      const parts = await loadModelParts(id, { ...opts, config }, layout, dtype);
      const preprocessorJson = (processor as unknown as { config: Record<string, unknown> }).config;
      return { config: config as unknown as Record<string, unknown>, preprocessorJson, ...parts };
    });
  } catch (e) {
    if (e instanceof ClipLoadError) throw e;
    if (isNetworkError(e)) throw offlineHubError(id, source.resolvedPath, e);
    const where = localOnly
      ? `the local cache (${options.cacheDir ?? env.cacheDir})`
      : 'the Hugging Face Hub';
    const hint = localOnly ? ' Offline (--offline, or localOnly), so nothing was downloaded.' : '';
    throw new ClipLoadError(
      `Failed to load "${id}" from ${where}: ${describeError(e)}.${hint} ` +
        `No local folder exists at ${source.resolvedPath}.`,
      id,
      { cause: e },
    );
  }
  const preprocess = toPreprocess(loaded.preprocessorJson, `${id}/preprocessor_config.json`);
  return { config: loaded.config, preprocess, tokenizer: loaded.tokenizer, graphs: loaded.graphs };
}

/** For a hub id: whether the separate tower graphs exist for this dtype (one small range request each). */
async function hubLayout(
  id: string,
  dtype: TransformersDtype,
  combined: 'auto' | boolean,
  opts: { local_files_only: boolean; cache_dir: string | undefined },
): Promise<ClipLayout> {
  const { ModelRegistry } = await transformers();
  if (combined !== 'auto') return combined ? 'combined' : 'separate';
  const files = clipOnnxFiles(dtype);
  const [text, vision, both] = await Promise.all(
    [files.text, files.vision, files.combined].map((f) => ModelRegistry.get_file_metadata(id, f, opts)),
  );
  if (text.exists && vision.exists) return 'separate';
  if (both.exists) return 'combined';
  throw new ClipLoadError(
    `"${id}" has neither ${files.text} + ${files.vision} nor ${files.combined} (dtype "${dtype}").`,
    id,
  );
}

async function loadModelParts(
  id: string,
  opts: Record<string, unknown>,
  layout: ClipLayout,
  dtype: TransformersDtype,
): Promise<{ tokenizer: PreTrainedTokenizer; graphs: ClipGraphs }> {
  const { AutoTokenizer, CLIPModel, CLIPTextModelWithProjection, CLIPVisionModelWithProjection } =
    await transformers();
  const modelOpts = { ...opts, dtype };
  const tokenizer = await AutoTokenizer.from_pretrained(id, opts);
  const files = clipOnnxFiles(dtype);
  if (layout === 'combined') {
    const model = await CLIPModel.from_pretrained(id, modelOpts);
    await checkGraphInputs(model, id, files.combined, ['input_ids', 'pixel_values']);
    return { tokenizer, graphs: { layout, model } };
  }
  const settled = await Promise.allSettled([
    CLIPTextModelWithProjection.from_pretrained(id, modelOpts),
    CLIPVisionModelWithProjection.from_pretrained(id, modelOpts),
  ]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const ok = settled.filter((r): r is PromiseFulfilledResult<PreTrainedModel> => r.status === 'fulfilled');
  if (failed) {
    // Release the tower that did load; nobody else holds it.
    await Promise.allSettled(ok.map((r) => r.value.dispose()));
    throw failed.reason;
  }
  const [text, vision] = [ok[0].value, ok[1].value];
  try {
    await checkGraphInputs(text, id, files.text, ['input_ids']);
    await checkGraphInputs(vision, id, files.vision, ['pixel_values']);
  } catch (err) {
    await Promise.allSettled([text.dispose(), vision.dispose()]);
    throw err;
  }
  return { tokenizer, graphs: { layout, text, vision } };
}

/**
 * A graph that lacks the inputs its role needs (the text and vision files swapped, or another model's
 * graph) fails here, naming the file, instead of at the first batch with ONNX Runtime's "Missing the
 * following inputs: pixel_values".
 */
async function checkGraphInputs(
  model: PreTrainedModel,
  id: string,
  file: string,
  needs: string[],
): Promise<void> {
  const inputs: string[] = Object.values(model.sessions ?? {}).flatMap(
    (session) => ((session as { inputNames?: string[] }).inputNames ?? []) as string[],
  );
  if (inputs.length === 0) return; // a runtime that does not expose input names: nothing to check
  const missing = needs.filter((n) => !inputs.includes(n));
  if (missing.length === 0) return;
  const swapped =
    (needs.includes('input_ids') && inputs.includes('pixel_values')) ||
    (needs.includes('pixel_values') && inputs.includes('input_ids'));
  throw new ClipLoadError(
    `${id}/${file} takes the inputs ${inputs.join(', ')}, not ${missing.join(', ')}` +
      (swapped
        ? '; the text and vision graphs look swapped — check which file is which.'
        : "; it is not this role's graph."),
    `${id}/${file}`,
  );
}

/**
 * The package's own reading of preprocessor_config.json (shortest-edge vs legacy number sizes, PIL filter
 * codes, ...). A local file is passed by path so its errors name it; a hub file arrives parsed.
 */
function toPreprocess(source: string | Record<string, unknown>, where: string): PreprocessConfig {
  try {
    return readPreprocessorConfig(source);
  } catch (e) {
    const message = describeError(e);
    throw new ClipLoadError(message.includes(where) ? message : `${where}: ${message}`, where, { cause: e });
  }
}

/**
 * HF CLIP configs carry `logit_scale_init_value` = 2.6592 = ln(1/0.07), the value training STARTED from;
 * every trained OpenAI/open_clip checkpoint ends at the clamp, ln 100. So the initial value means "use
 * 100"; any other value is taken as the model's own. Rankings never depend on it.
 */
export function defaultLogitScale(initValue: unknown): number {
  if (typeof initValue !== 'number' || !Number.isFinite(initValue)) return 100;
  if (Math.abs(initValue - Math.log(1 / 0.07)) < 1e-3) return 100;
  return Math.exp(initValue);
}
