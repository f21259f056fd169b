import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type EvalRouting, closest, readModelFileHeader } from '@moevl/core';
import type { ImageTextModel } from './image_text_model.js';

/**
 * Model families, the way transformers.js's model registry and open_clip's factory map a model to its
 * code: a family says which model files it reads (their header's `format`) and which other model names it
 * claims (`builtin:…`, a CLIP folder, a hub id), and turns one into an `ImageTextModel`. The CLI resolves
 * `--model` through the registry and knows no family: a new family (SigLIP through transformers.js, a
 * plugin's own) is one `registerModelFamily` call.
 */

export interface ModelFamilyLoadOptions {
  /** Weight type for families that have several (CLIP ONNX: fp32, q8, fp16, …). */
  dtype?: string;
  /** How MoE models route at evaluation (dropless by default). */
  evalRouting?: EvalRouting;
  /** Where downloaded models are cached (families that download). */
  cacheDir?: string;
  /** Never download: load from local files or the cache only. */
  offline?: boolean;
}

export interface LoadedFamilyModel {
  model: ImageTextModel;
  /** How the model is named in results (`builtin:<name>`, the absolute path, the hub id). */
  modelId: string;
  /** The local files the model was loaded from (content-hashed for caches), or a hub id when remote. */
  source: { files: string[] } | { hub: string };
  /** For a family's own shipped models: what they are meant to be evaluated with. */
  builtin?: { name: string; dataset: string; classNames: readonly string[]; templates: readonly string[] };
}

/** A family's own class names and templates for a dataset it knows (e.g. its held-out prompts). */
export interface ModelFamilyDefaults {
  classNames?: readonly string[];
  templates?: readonly string[];
  templatesName?: string;
}

export interface ModelFamily {
  specificationVersion: 'v1';
  /** Registry key, e.g. `limoe`, `clip`. */
  name: string;
  description?: string;
  /** Model-file formats (header `format`, without version) this family loads. */
  formats?: readonly string[];
  /** Whether a `--model` value that is not a model file belongs to this family. */
  claims?(spec: string): boolean;
  load(spec: string, options: ModelFamilyLoadOptions): Promise<LoadedFamilyModel>;
  /** Class names / templates for `dataset` (e.g. `fashion-mnist`), when the family has its own. */
  defaults?(dataset: string, loaded: LoadedFamilyModel): ModelFamilyDefaults | undefined;
  /** Shipped models, for listings (`zero-shot models`). */
  builtins?(): Array<{ name: string; description: string }>;
  /**
   * Named architectures the family trains from (open_clip's `model_configs/`: `zero-shot train --model
   * NAME`), for listings; they are configs, not trained models, so `load` does not take them.
   */
  configs?(): Array<{ name: string; description: string }>;
}

/** An unknown format or a model no family claims: lists what exists. */
export class ModelFamilyError extends Error {
  override readonly name = 'ModelFamilyError';
}

export interface ModelFamilyRegistry {
  register(family: ModelFamily): void;
  list(): ModelFamily[];
  get(name: string): ModelFamily;
  /** The family for a `--model` value, and whether it is a model file of a given format. */
  resolve(spec: string): Promise<{ family: ModelFamily; format?: string }>;
  load(spec: string, options?: ModelFamilyLoadOptions): Promise<LoadedFamilyModel & { family: ModelFamily }>;
}

function checkFamily(value: unknown): ModelFamily {
  const f = value as Partial<ModelFamily> | null;
  const label = typeof f?.name === 'string' ? `model family "${f.name}"` : 'model family';
  if (f == null || typeof f !== 'object') throw new ModelFamilyError(`${label}: expected an object.`);
  if (f.specificationVersion !== 'v1') {
    throw new ModelFamilyError(
      `${label}: specificationVersion must be 'v1', got ${JSON.stringify(f.specificationVersion)}.`,
    );
  }
  if (typeof f.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(f.name)) {
    throw new ModelFamilyError(`${label}: name must be lowercase words joined by dashes.`);
  }
  if (typeof f.load !== 'function') throw new ModelFamilyError(`${label} is missing load(spec, options).`);
  if ((f.formats?.length ?? 0) === 0 && typeof f.claims !== 'function') {
    throw new ModelFamilyError(
      `${label} neither lists formats nor claims model names: it could never be used.`,
    );
  }
  return f as ModelFamily;
}

const isFile = (spec: string) => {
  try {
    return existsSync(resolve(spec)) && statSync(resolve(spec)).isFile();
  } catch {
    return false;
  }
};

export function createModelFamilyRegistry(): ModelFamilyRegistry {
  const families = new Map<string, ModelFamily>();
  const registry: ModelFamilyRegistry = {
    register(value) {
      const family = checkFamily(value);
      const existing = families.get(family.name);
      if (existing === family) return;
      if (existing) throw new ModelFamilyError(`model family "${family.name}" is already registered.`);
      for (const other of families.values()) {
        const clash = (family.formats ?? []).find((f) => other.formats?.includes(f));
        if (clash)
          throw new ModelFamilyError(`model format "${clash}" is already read by family "${other.name}".`);
      }
      families.set(family.name, family);
    },
    list: () => [...families.values()],
    get(name) {
      const f = families.get(name);
      if (f) return f;
      const names = [...families.keys()];
      const guess = closest(name, names);
      throw new ModelFamilyError(
        `unknown model family "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${names.join(', ') || 'none'}.`,
      );
    },
    async resolve(spec) {
      if (/\.safetensors$/i.test(spec) && !isFile(spec)) {
        throw new ModelFamilyError(
          `--model: the model file ${resolve(spec)} does not exist; check the path.`,
        );
      }
      if (isFile(spec)) {
        const path = resolve(spec);
        let header;
        try {
          header = await readModelFileHeader(path);
        } catch {
          header = null;
        }
        const formats = [...families.values()].flatMap((f) => f.formats ?? []);
        if (header === null) {
          throw new ModelFamilyError(
            `${path} is not a moevl model file (no "format" in its header); model files have one of the formats ${formats.join(', ')}.`,
          );
        }
        const family = [...families.values()].find((f) => f.formats?.includes(header.format));
        if (family) return { family, format: header.format };
        const guess = closest(header.format, formats);
        throw new ModelFamilyError(
          `${path} has the model format "${header.format}", which no model family reads` +
            `${guess ? ` (did you mean "${guess}"?)` : ''}; known formats: ${formats.join(', ') || 'none'} ` +
            '(a plugin may register its family with registerModelFamily).',
        );
      }
      // Later registrations first: a plugin's family takes its names before a catch-all built-in one.
      const family = [...families.values()].reverse().find((f) => f.claims?.(spec));
      if (family) return { family };
      throw new ModelFamilyError(
        `no model family takes "${spec}": it is not a model file, and none of ${[...families.keys()].join(', ')} claims it.`,
      );
    },
    async load(spec, options = {}) {
      const { family } = await registry.resolve(spec);
      return { ...(await family.load(spec, options)), family };
    },
  };
  return registry;
}

/** The registry the packages register their families in (vision: `clip`; limoe: `limoe`). */
export const defaultModelFamilies = createModelFamilyRegistry();

/** Registers a family in `defaultModelFamilies` (idempotent for the same object). */
export function registerModelFamily(family: ModelFamily): void {
  defaultModelFamilies.register(family);
}
