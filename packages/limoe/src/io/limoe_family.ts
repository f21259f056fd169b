import { resolve } from 'node:path';
import { type ModelFamily, ModelFamilyError } from '@moevl/vision';
import { listLIMoEModelConfigs } from '../configs/model_configs.js';
import { EVAL_TEMPLATES, FASHION_CAPTION_NAMES } from '../train/captions.js';
import { BUILTIN_PREFIX, builtinModels, resolveBuiltinModel } from './builtin.js';
import { LIMOE_FORMAT, loadLIMoE } from './limoe_checkpoint.js';
import { LIMoEImageTextModel } from './limoe_image_text_model.js';

/**
 * LIMoE as a model family: model files of format `moevl-limoe`, and the shipped `builtin:<name>` models.
 * On Fashion-MNIST it brings its own class names (as written in captions) and held-out templates.
 */
export const limoeFamily: ModelFamily = {
  specificationVersion: 'v1',
  name: 'limoe',
  description: 'LIMoE image-text MoE models (moevl-limoe model files, builtin:NAME)',
  formats: [LIMOE_FORMAT],
  claims: (spec) => spec.startsWith(BUILTIN_PREFIX),
  builtins: () =>
    builtinModels().map((m) => ({ name: `${BUILTIN_PREFIX}${m.name}`, description: m.description })),
  // Architectures to train (`zero-shot train --model NAME`), as open_clip's model_configs/.
  configs: () => listLIMoEModelConfigs().map(({ name, description }) => ({ name, description })),
  async load(spec, options) {
    let path: string;
    let builtin;
    if (spec.startsWith(BUILTIN_PREFIX)) {
      let entry;
      try {
        entry = resolveBuiltinModel(spec.slice(BUILTIN_PREFIX.length));
      } catch (err) {
        throw new ModelFamilyError(`--model ${spec}: ${(err as Error).message}`);
      }
      path = entry.path;
      builtin = entry;
    } else {
      path = resolve(spec);
    }
    const modelId = builtin ? spec : path;
    const { model, tokenizer, metadata } = await loadLIMoE(path);
    return {
      model: new LIMoEImageTextModel(model, tokenizer, metadata, {
        name: modelId,
        evalRouting: options.evalRouting,
      }),
      modelId,
      source: { files: [path] },
      builtin,
    };
  },
  defaults(dataset, loaded) {
    const onFashion = dataset === 'fashion-mnist';
    if (loaded.builtin) {
      return {
        classNames: onFashion ? loaded.builtin.classNames : undefined,
        templates: loaded.builtin.templates,
        templatesName: `${loaded.builtin.name} held-out`,
      };
    }
    return onFashion
      ? { classNames: FASHION_CAPTION_NAMES, templates: EVAL_TEMPLATES, templatesName: 'limoe held-out' }
      : undefined;
  },
};
