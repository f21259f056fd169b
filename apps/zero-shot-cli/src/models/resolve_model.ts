import { type EvalRouting, fileDigests } from '@moevl/core';
import { BUILTIN_PREFIX, builtinModels } from '@moevl/limoe';
import {
  type LoadedFamilyModel,
  type ModelFamily,
  type ModelFamilyDefaults,
  defaultModelFamilies,
} from '@moevl/vision';
import type { ImageTextModel } from '@moevl/vision';
import { basename } from 'node:path';
import { InputError } from '../errors.js';

export interface ResolvedModel {
  model: ImageTextModel;
  /** How the model is named in results: `builtin:<name>`, the absolute file or folder, or the hub id. */
  modelId: string;
  /** The model family that loaded it (`limoe`, `clip`, a plugin's). */
  family: ModelFamily;
  /** For shipped models: what they are meant to be evaluated with. */
  builtin?: LoadedFamilyModel['builtin'];
  /**
   * sha256 of the files the model was loaded from (by file name), so classifier caches and resumable runs
   * are keyed by the model's contents, not its path; a hub model is named by its id.
   */
  fingerprint: { files: Record<string, string> } | { hub: string };
  /** The family's own class names / templates for a dataset, when it has them. */
  defaults(dataset: string): ModelFamilyDefaults | undefined;
}

export interface ResolveModelOptions {
  /** Weight type (CLIP ONNX: `fp32`, `q8`, …). */
  dtype?: string;
  /** How MoE layers route at evaluation (`--eval-capacity-factor`); default dropless. */
  evalRouting?: EvalRouting;
  /** Where file digests are remembered (by path, size, mtime); null: hash every time. */
  digestCacheDir?: string | null;
  /** Where downloaded models are cached (`--model-cache-dir`); default the family's own. */
  modelCacheDir?: string;
  /** Never download (`--offline`). */
  offline?: boolean;
}

export { BUILTIN_PREFIX };

/** Names of the builtin models present in this installation (empty when none ships). */
export function installedBuiltinNames(): string[] {
  return builtinModels().map((m) => m.name);
}

/** Error names of the families' loaders that are the user's input (kept as they are: they name the file). */
const INPUT_ERRORS = new Set(['ModelFamilyError', 'ClipLoadError', 'SafetensorsError', 'ModelTooLargeError']);

/**
 * The one place a `--model` string becomes a model, through the model-family registry: model files by
 * the format in their header, anything else by the family that claims it (`builtin:…` → limoe, folders and
 * hub ids → clip, a plugin's prefix → its family). The CLI knows no family.
 */
export async function resolveModel(spec: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  let loaded;
  try {
    loaded = await defaultModelFamilies.load(spec, {
      dtype: options.dtype,
      evalRouting: options.evalRouting,
      cacheDir: options.modelCacheDir,
      offline: options.offline,
    });
  } catch (err) {
    const e = err as Error;
    if (INPUT_ERRORS.has(e.name)) throw err;
    throw new InputError(`--model ${spec}: ${e.message}`, { cause: err });
  }
  const { source } = loaded;
  let fingerprint: ResolvedModel['fingerprint'];
  if ('files' in source) {
    const digests = await fileDigests(source.files, { cacheDir: options.digestCacheDir });
    fingerprint = { files: Object.fromEntries(source.files.map((p) => [basename(p), digests[p]])) };
  } else {
    fingerprint = { hub: source.hub };
  }
  return {
    model: loaded.model,
    modelId: loaded.modelId,
    family: loaded.family,
    builtin: loaded.builtin,
    fingerprint,
    defaults: (dataset) => loaded.family.defaults?.(dataset, loaded),
  };
}
