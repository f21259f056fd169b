import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ModelFamily } from '../model/model_family.js';
import { ModelFamilyError } from '../model/model_family.js';
import type { ClipDtype } from './dtypes.js';
import { localClipModelFiles, resolveClipSource } from './model_source.js';
import { loadTransformersClip } from './transformers_clip.js';

/**
 * Where downloaded models live: `$MOEVL_CACHE_DIR/models`, else `$XDG_CACHE_HOME/moevl/models`, else
 * `~/.cache/moevl/models` — outside node_modules, so `npm ci` does not wipe them.
 */
export function defaultModelCacheDir(): string {
  const root =
    process.env.MOEVL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'moevl');
  return join(root, 'models');
}

/** `hf-hub:OWNER/NAME` (open_clip's prefix) names the same model as `OWNER/NAME`. */
const HUB_PREFIX = 'hf-hub:';

/**
 * CLIP-style models exported for transformers.js: a local folder (config.json, tokenizer files,
 * preprocessor_config.json, onnx/) or a Hugging Face Hub id. It claims every `--model` value that is not a
 * model file and carries no other family's prefix (`builtin:…`), so it is the catch-all family.
 */
export const clipFamily: ModelFamily = {
  specificationVersion: 'v1',
  name: 'clip',
  description: 'CLIP models exported for transformers.js: a folder with config.json and onnx/, or a hub id',
  claims: (spec) => spec.startsWith(HUB_PREFIX) || !/^[a-z][\w-]*:/i.test(spec),
  async load(spec, options) {
    if (options.evalRouting !== undefined) {
      throw new ModelFamilyError(
        `--eval-capacity-factor applies to mixture-of-experts models (LIMoE files), not to the CLIP model ${spec}.`,
      );
    }
    const id = spec.startsWith(HUB_PREFIX) ? spec.slice(HUB_PREFIX.length) : spec;
    const dtype = (options.dtype ?? 'fp32') as ClipDtype;
    const model = await loadTransformersClip(id, {
      dtype,
      cacheDir: options.cacheDir ?? defaultModelCacheDir(),
      ...(options.offline && { localOnly: true }),
    });
    const source = resolveClipSource(id.replace(/@[\w.\-/]+$/, ''));
    return {
      model,
      modelId: model.name,
      source:
        source.kind === 'local'
          ? { files: localClipModelFiles(source.dir, dtype) }
          : { hub: `${id}:${dtype}` },
    };
  },
};
