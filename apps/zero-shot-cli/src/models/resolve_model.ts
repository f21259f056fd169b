import { stat } from 'node:fs/promises';
import type { EvalRouting } from '@moevl/core';
import { resolve } from 'node:path';
import { LIMoEImageTextModel, builtinModels, loadLIMoE, resolveBuiltinModel } from '@moevl/limoe';
import type { BuiltinModel } from '@moevl/limoe';
import { loadTransformersClip } from '@moevl/vision';
import type { ClipDtype, ImageTextModel } from '@moevl/vision';
import { InputError } from '../errors.js';

export interface ResolvedModel {
  model: ImageTextModel;
  /** How the model is named in results: `builtin:<name>`, the absolute file or folder, or the hub id. */
  modelId: string;
  kind: 'builtin' | 'limoe' | 'clip';
  /** For `builtin:` models: the class names, templates and dataset it is meant to be evaluated with. */
  builtin?: BuiltinModel;
}

export interface ResolveModelOptions {
  /** CLIP weight type (`fp32`, `q8`, …); LIMoE files are always fp32. */
  dtype?: string;
  /** How MoE layers route at evaluation (`--eval-capacity-factor`); default dropless. */
  evalRouting?: EvalRouting;
}

export const BUILTIN_PREFIX = 'builtin:';

/** Names of the builtin models present in this installation (empty when none ships). */
export function installedBuiltinNames(): string[] {
  return builtinModels().map((m) => m.name);
}

/**
 * The one place a `--model` string becomes a model:
 * - `builtin:<name>` → a LIMoE file shipped with `@moevl/limoe`;
 * - a path ending in `.safetensors` → a LIMoE model file (`loadLIMoE`);
 * - anything else → a CLIP model through transformers.js: a folder with config.json, else a hub id
 *   (the loader says clearly when a folder is incomplete or the machine is offline).
 */
export async function resolveModel(spec: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  if (spec.startsWith(BUILTIN_PREFIX)) {
    const name = spec.slice(BUILTIN_PREFIX.length);
    let entry: BuiltinModel;
    try {
      entry = resolveBuiltinModel(name);
    } catch (err) {
      throw new InputError(`--model ${spec}: ${(err as Error).message}`);
    }
    return {
      model: await loadLimoeFile(entry.path, spec, options.evalRouting),
      modelId: spec,
      kind: 'builtin',
      builtin: entry,
    };
  }
  if (spec.toLowerCase().endsWith('.safetensors')) {
    const path = resolve(spec);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new InputError(`--model: the LIMoE model file ${path} does not exist; check the path.`);
    }
    return { model: await loadLimoeFile(path, path, options.evalRouting), modelId: path, kind: 'limoe' };
  }
  if (options.evalRouting !== undefined) {
    throw new InputError(
      `--eval-capacity-factor applies to mixture-of-experts models (LIMoE files), not to the CLIP model ${spec}.`,
    );
  }
  const model = await loadTransformersClip(spec, { dtype: (options.dtype ?? 'fp32') as ClipDtype });
  return { model, modelId: model.name, kind: 'clip' };
}

async function loadLimoeFile(path: string, name: string, evalRouting?: EvalRouting): Promise<ImageTextModel> {
  try {
    const { model, tokenizer, metadata } = await loadLIMoE(path);
    return new LIMoEImageTextModel(model, tokenizer, metadata, { name, evalRouting });
  } catch (err) {
    throw new InputError(`--model: cannot load the LIMoE model file ${path}: ${(err as Error).message}`);
  }
}
