import { stat } from 'node:fs/promises';
import { type EvalRouting, fileDigests } from '@moevl/core';
import { basename, resolve } from 'node:path';
import { LIMoEImageTextModel, builtinModels, loadLIMoE, resolveBuiltinModel } from '@moevl/limoe';
import type { BuiltinModel } from '@moevl/limoe';
import { loadTransformersClip, localClipModelFiles, resolveClipSource } from '@moevl/vision';
import type { ClipDtype, ImageTextModel } from '@moevl/vision';
import { InputError } from '../errors.js';

export interface ResolvedModel {
  model: ImageTextModel;
  /** How the model is named in results: `builtin:<name>`, the absolute file or folder, or the hub id. */
  modelId: string;
  kind: 'builtin' | 'limoe' | 'clip';
  /** For `builtin:` models: the class names, templates and dataset it is meant to be evaluated with. */
  builtin?: BuiltinModel;
  /**
   * sha256 of the files the model was loaded from (by file name), so classifier caches and resumable runs
   * are keyed by the model's contents, not its path; a hub model is named by its id.
   */
  fingerprint: { files: Record<string, string> } | { hub: string };
}

export interface ResolveModelOptions {
  /** CLIP weight type (`fp32`, `q8`, …); LIMoE files are always fp32. */
  dtype?: string;
  /** How MoE layers route at evaluation (`--eval-capacity-factor`); default dropless. */
  evalRouting?: EvalRouting;
  /** Where file digests are remembered (by path, size, mtime); null: hash every time. */
  digestCacheDir?: string | null;
}

/** The content fingerprint of model files: their sha256 by base name. */
async function filesFingerprint(paths: string[], cacheDir: string | null | undefined) {
  const digests = await fileDigests(paths, { cacheDir });
  return { files: Object.fromEntries(paths.map((p) => [basename(p), digests[p]])) };
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
      fingerprint: await filesFingerprint([entry.path], options.digestCacheDir),
    };
  }
  if (spec.toLowerCase().endsWith('.safetensors')) {
    const path = resolve(spec);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new InputError(`--model: the LIMoE model file ${path} does not exist; check the path.`);
    }
    const fingerprint = await filesFingerprint([path], options.digestCacheDir);
    return { model: await loadLimoeFile(path, path, options.evalRouting), modelId: path, kind: 'limoe', fingerprint };
  }
  if (options.evalRouting !== undefined) {
    throw new InputError(
      `--eval-capacity-factor applies to mixture-of-experts models (LIMoE files), not to the CLIP model ${spec}.`,
    );
  }
  const dtype = (options.dtype ?? 'fp32') as ClipDtype;
  const model = await loadTransformersClip(spec, { dtype });
  const source = resolveClipSource(spec);
  const fingerprint =
    source.kind === 'local'
      ? await filesFingerprint(localClipModelFiles(source.dir, dtype), options.digestCacheDir)
      : { hub: `${source.id}:${dtype}` };
  return { model, modelId: model.name, kind: 'clip', fingerprint };
}

async function loadLimoeFile(path: string, name: string, evalRouting?: EvalRouting): Promise<ImageTextModel> {
  try {
    const { model, tokenizer, metadata } = await loadLIMoE(path);
    return new LIMoEImageTextModel(model, tokenizer, metadata, { name, evalRouting });
  } catch (err) {
    throw new InputError(`--model: cannot load the LIMoE model file ${path}: ${(err as Error).message}`);
  }
}
