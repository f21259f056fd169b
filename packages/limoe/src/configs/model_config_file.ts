import { ConfigReader } from '@moevl/core';
import { CLIP_MEAN, CLIP_STD } from '@moevl/vision';
import { type LIMoEConfig, defaultLIMoEConfig, validateLIMoEConfig } from '../model/config.js';
import { ModelConfigError } from './model_config_error.js';

/**
 * A model config file, as open_clip keeps its architectures in `model_configs/*.json`: the model's shapes
 * (a `LIMoEConfig` without `vocabSize` and `seed`, which the tokenizer and the run decide), the tokenizer,
 * and the image normalisation. The same file builds LIMoE (`moe: {...}`), the dense single tower
 * (`moe: null`) and the two-tower baseline (`towers: "two"`).
 */
export interface LIMoEModelConfig {
  /** The preset's name, or the file's path for a file given by path. */
  name: string;
  path: string;
  description: string;
  model: Omit<LIMoEConfig, 'vocabSize' | 'seed'>;
  tokenizer: ModelConfigTokenizer;
  /** Per-channel (or single) mean and std of the normalisation. Default CLIP's. */
  image: { mean: number[]; std: number[] };
}

/**
 * `clip`: CLIP's BPE, a shipped one by `name` (default `clip-bpe-16e6`) or a tokenizer.json at `path`
 * (relative to the config file). `bpe`: the project's BPE, learned from the first `captions` training
 * captions (default 100,000) with at most `vocabSize` tokens.
 */
export type ModelConfigTokenizer =
  { type: 'clip'; name?: string; path?: string } | { type: 'bpe'; vocabSize: number; captions?: number };

const MODEL_FIELDS = [
  'imageSize',
  'channels',
  'patchSize',
  'dim',
  'depth',
  'numHeads',
  'mlpRatio',
  'embedDim',
  'contextLength',
  'towers',
  'moe',
  'imagePooling',
  'textPooling',
  'logitScaleInit',
] as const;
const REQUIRED = [
  'imageSize',
  'channels',
  'patchSize',
  'dim',
  'depth',
  'numHeads',
  'embedDim',
  'contextLength',
];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Reads one object of `file` (`where`: `model`, `model.moe`, ...): `<file>: field <where>.<key> must be …`. */
function fields(file: string, where: string, value: Json): ConfigReader {
  const path = (key: string) => (where === '' ? key : `${where}.${key}`);
  return new ConfigReader(value, {
    prefix: `${file}: `,
    label: (key) => `field ${path(key)}`,
    missing: 'nothing',
    error: (message, key) => new ModelConfigError(message, file, key === undefined ? where : path(key)),
  });
}

/** Checks one field against a rule of its own; `expected` completes "must be …". */
function check(file: string, field: string, ok: boolean, expected: string, got: unknown): void {
  if (!ok) {
    const dot = field.lastIndexOf('.');
    const key = field.slice(dot + 1);
    fields(file, field.slice(0, Math.max(dot, 0)), { [key]: got }).fail(key, expected);
  }
}

function noUnknownFields(file: string, where: string, value: Json, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const field = where ? `${where}.${key}` : key;
      throw new ModelConfigError(
        `${file}: unknown field ${field}; the fields${where ? ` of ${where}` : ''} are ${known.join(', ')}.`,
        file,
        field,
      );
    }
  }
}

function validateMoE(file: string, moe: unknown): void {
  if (moe === null) return;
  check(file, 'model.moe', isObject(moe), 'null (dense) or an object {numExperts, every, router}', moe);
  const m = moe as Json;
  noUnknownFields(file, 'model.moe', m, ['numExperts', 'every', 'last', 'hiddenDim', 'router']);
  const counts = fields(file, 'model.moe', m);
  counts.positiveInt('numExperts');
  for (const key of ['every', 'last', 'hiddenDim']) if (m[key] !== undefined) counts.positiveInt(key);
  if (m.router !== undefined) {
    const r = m.router as Json;
    check(file, 'model.moe.router', isObject(r), 'an object {name, options}', r);
    noUnknownFields(file, 'model.moe.router', r, ['name', 'options']);
    check(
      file,
      'model.moe.router.name',
      typeof r.name === 'string' && r.name !== '',
      'a router name',
      r.name,
    );
    if (r.options !== undefined)
      check(file, 'model.moe.router.options', isObject(r.options), 'an object', r.options);
  }
}

function validateModel(file: string, model: unknown): LIMoEModelConfig['model'] {
  check(file, 'model', isObject(model), 'an object with the model shapes', model);
  const m = model as Json;
  noUnknownFields(file, 'model', m, MODEL_FIELDS);
  for (const key of REQUIRED) fields(file, 'model', m).positiveInt(key);
  check(file, 'model.channels', m.channels === 1 || m.channels === 3, '3 (RGB) or 1 (grayscale)', m.channels);
  check(
    file,
    'model.contextLength',
    (m.contextLength as number) >= 2,
    'at least 2 (<sot> and <eot>)',
    m.contextLength,
  );
  const mlp = m.mlpRatio ?? 4;
  check(file, 'model.mlpRatio', typeof mlp === 'number' && mlp > 0, 'a positive number', mlp);
  const towers = m.towers ?? 'single';
  check(file, 'model.towers', towers === 'single' || towers === 'two', '"single" or "two"', towers);
  const pool = (key: string, options: string[]) => {
    if (m[key] !== undefined)
      check(
        file,
        `model.${key}`,
        options.includes(m[key] as string),
        options.map((o) => `"${o}"`).join(' or '),
        m[key],
      );
  };
  pool('imagePooling', ['gap', 'cls']);
  pool('textPooling', ['eot', 'mean']);
  if (m.logitScaleInit !== undefined) {
    check(file, 'model.logitScaleInit', Number.isFinite(m.logitScaleInit), 'a number', m.logitScaleInit);
  }
  check(
    file,
    'model.moe',
    m.moe !== undefined,
    'null (dense) or an object {numExperts, every, router}',
    m.moe,
  );
  validateMoE(file, m.moe);
  const { vocabSize: _v, seed: _s, ...full } = defaultLIMoEConfig({ ...(m as Partial<LIMoEConfig>) });
  try {
    validateLIMoEConfig({ ...full, vocabSize: 1, seed: 0 }); // the checks across fields
  } catch (err) {
    throw new ModelConfigError(
      `${file}: ${(err as Error).message.replace(/^LIMoE config: /, 'field model.')}`,
      file,
      'model',
    );
  }
  return full;
}

function validateTokenizer(file: string, t: unknown): ModelConfigTokenizer {
  check(file, 'tokenizer', isObject(t), 'an object {"type": "clip"} or {"type": "bpe", "vocabSize": N}', t);
  const tok = t as Json;
  if (tok.type === 'clip') {
    noUnknownFields(file, 'tokenizer', tok, ['type', 'name', 'path']);
    for (const key of ['name', 'path']) {
      if (tok[key] !== undefined)
        check(
          file,
          `tokenizer.${key}`,
          typeof tok[key] === 'string' && tok[key] !== '',
          'a non-empty string',
          tok[key],
        );
    }
    check(
      file,
      'tokenizer.path',
      tok.name === undefined || tok.path === undefined,
      'absent when tokenizer.name is given',
      tok.path,
    );
    return { type: 'clip', name: tok.name as string | undefined, path: tok.path as string | undefined };
  }
  check(file, 'tokenizer.type', tok.type === 'bpe', '"clip" or "bpe"', tok.type);
  noUnknownFields(file, 'tokenizer', tok, ['type', 'vocabSize', 'captions']);
  const counts = fields(file, 'tokenizer', tok);
  counts.positiveInt('vocabSize');
  if (tok.captions !== undefined) counts.positiveInt('captions');
  return { type: 'bpe', vocabSize: tok.vocabSize as number, captions: tok.captions as number | undefined };
}

function validateImage(file: string, image: unknown, channels: number): LIMoEModelConfig['image'] {
  if (image === undefined) return { mean: [...CLIP_MEAN], std: [...CLIP_STD] };
  check(file, 'image', isObject(image), 'an object {mean, std}', image);
  const im = image as Json;
  noUnknownFields(file, 'image', im, ['mean', 'std']);
  const out: Record<'mean' | 'std', number[]> = { mean: [], std: [] };
  for (const key of ['mean', 'std'] as const) {
    const v = im[key];
    const ok =
      Array.isArray(v) &&
      (v.length === channels || v.length === 1) &&
      v.every((x) => Number.isFinite(x) && (key === 'mean' || x > 0));
    check(
      file,
      `image.${key}`,
      ok,
      `${channels === 1 ? 'one number' : `${channels} numbers`} in a list${key === 'std' ? ', each > 0' : ''}`,
      v,
    );
    out[key] = [...(v as number[])];
  }
  return out;
}

/** Validates a parsed model config file; every error is one sentence naming the file and the field. */
export function validateModelConfigFile(json: unknown, file: string, name = file): LIMoEModelConfig {
  check(file, '(top level)', isObject(json), 'an object {description, model, tokenizer, image}', json);
  const j = json as Json;
  noUnknownFields(file, '', j, ['description', 'model', 'tokenizer', 'image']);
  if (j.description !== undefined)
    check(file, 'description', typeof j.description === 'string', 'a string', j.description);
  const model = validateModel(file, j.model);
  return {
    name,
    path: file,
    description: (j.description as string | undefined) ?? '',
    model,
    tokenizer: validateTokenizer(file, j.tokenizer),
    image: validateImage(file, j.image, model.channels),
  };
}
