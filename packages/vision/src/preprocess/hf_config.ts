import { readFileSync } from 'node:fs';
import { describeValue, isIntegerIn } from '@moevl/core';
import { CLIP_PREPROCESS, type PreprocessConfig, resolvePreprocessConfig } from './config.js';
import { PIL_RESAMPLE_CODES } from './pil_filters.js';

export interface ReadPreprocessorConfigOptions {
  /** Where notes about ignored or defaulted fields go (default: `process.emitWarning`). */
  onWarning?: (message: string) => void;
}

type Json = Record<string, unknown>;

/** A malformed `preprocessor_config.json`; the message names the file (or `<object>`). */
export class PreprocessorConfigError extends Error {
  override readonly name = 'PreprocessorConfigError';
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a Hugging Face `preprocessor_config.json` (a path, or the parsed object) into a
 * `PreprocessConfig` for `preprocessImage`:
 * - `size`: `{shortest_edge}` → resize mode `shortest`; `{height, width}` → `squash`; a plain number is
 *   the legacy form of `shortest_edge` (older CLIP configs: `"size": 224` means shortest side 224, NOT
 *   224×224). `longest_edge` is not supported and is ignored with a warning.
 * - `crop_size`: a number or `{height, width}`; `do_center_crop`, `do_resize`, `do_normalize`,
 *   `do_rescale`/`rescale_factor`, `image_mean`/`image_std` (one number is repeated for the 3 channels).
 * - `resample`: PIL's filter code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming); all are
 *   reproduced exactly. Missing means bicubic (CLIP's).
 *
 * The pipeline stays open_clip's (resize in the image's own mode, then crop at `round((d − crop)/2)`,
 * then RGB). Transformers' own `CLIPImageProcessor` converts to RGB first and floors the crop offset; the
 * two agree on RGB images whose margin (d − crop) is even.
 */
export function readPreprocessorConfig(
  source: string | Json,
  options: ReadPreprocessorConfigOptions = {},
): PreprocessConfig {
  const label = typeof source === 'string' ? source : '<object>';
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'PreprocessorConfigWarning'));
  const fail = (why: string): never => {
    throw new PreprocessorConfigError(`${label}: ${why}`);
  };
  let raw: unknown = source;
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      return fail(code === 'ENOENT' ? 'file not found' : `cannot read (${(err as Error).message})`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return fail(`not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(raw)) return fail('expected a JSON object');
  const j = raw;

  const positiveInt = (key: string, v: unknown): number =>
    isIntegerIn(v, { min: 1 }) ? v : fail(`${key} must be a positive integer, got ${describeValue(v)}`);
  const bool = (key: string, fallback: boolean): boolean => {
    const v = j[key];
    if (v === undefined || v === null) return fallback;
    return typeof v === 'boolean' ? v : fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
  };
  const triple = (key: string, fallback: [number, number, number]): [number, number, number] => {
    const v = j[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return [v[0], v[1], v[2]];
    }
    return fail(`${key} must be 3 numbers (one per RGB channel), got ${JSON.stringify(v)}`);
  };

  const config: PreprocessConfig = { ...CLIP_PREPROCESS };
  config.doResize = bool('do_resize', true);
  config.doCenterCrop = bool('do_center_crop', true);
  config.doNormalize = bool('do_normalize', true);

  const size = j.size;
  if (typeof size === 'number') {
    config.size = positiveInt('size', size); // legacy: shortest edge
  } else if (isObject(size)) {
    if ('shortest_edge' in size) {
      config.size = positiveInt('size.shortest_edge', size.shortest_edge);
      if ('longest_edge' in size) warn(`${label}: size.longest_edge is not supported; ignored`);
    } else if ('height' in size || 'width' in size) {
      const h = positiveInt('size.height', size.height);
      const w = positiveInt('size.width', size.width);
      config.resizeMode = 'squash';
      config.size = Math.min(h, w);
      if (h !== w) config.squashShape = [h, w];
    } else {
      fail(`size must be a number, {shortest_edge} or {height, width}, got ${JSON.stringify(size)}`);
    }
  } else if (size !== undefined && size !== null) {
    fail(`size must be a number, {shortest_edge} or {height, width}, got ${JSON.stringify(size)}`);
  } else if (config.doResize) {
    warn(`${label}: no size; using ${config.size} (shortest edge, CLIP's default)`);
  }

  const crop = j.crop_size;
  if (typeof crop === 'number') {
    config.cropSize = positiveInt('crop_size', crop);
  } else if (isObject(crop)) {
    const h = positiveInt('crop_size.height', crop.height);
    const w = positiveInt('crop_size.width', crop.width);
    config.cropSize = Math.min(h, w);
    if (h !== w) config.cropShape = [h, w];
  } else if (crop !== undefined && crop !== null) {
    fail(`crop_size must be a number or {height, width}, got ${JSON.stringify(crop)}`);
  } else {
    config.cropSize = config.size;
    if (config.doCenterCrop) warn(`${label}: no crop_size; cropping to ${config.cropSize}`);
  }

  config.mean = triple('image_mean', CLIP_PREPROCESS.mean);
  config.std = triple('image_std', CLIP_PREPROCESS.std);
  if (config.std.some((s) => s <= 0)) fail(`image_std must be positive, got ${JSON.stringify(config.std)}`);

  if (j.resample !== undefined && j.resample !== null) {
    const filter = typeof j.resample === 'number' ? PIL_RESAMPLE_CODES[j.resample] : undefined;
    if (filter === undefined) {
      fail(`resample must be a PIL filter code 0..5 (3 = bicubic), got ${JSON.stringify(j.resample)}`);
    }
    config.resample = filter;
  }

  if (!bool('do_rescale', true)) {
    config.rescaleFactor = 1;
  } else if (j.rescale_factor !== undefined && j.rescale_factor !== null) {
    const f = j.rescale_factor;
    if (typeof f !== 'number' || !(f > 0))
      fail(`rescale_factor must be a positive number, got ${JSON.stringify(f)}`);
    // 0.00392156862745098 is 1/255 written out: keep the exact division torchvision does.
    config.rescaleFactor = Math.abs((f as number) - 1 / 255) < 1e-12 ? 1 / 255 : (f as number);
  }
  if (j.do_convert_rgb === false) warn(`${label}: do_convert_rgb false is ignored; images are always RGB`);

  try {
    resolvePreprocessConfig(config);
  } catch (err) {
    fail((err as Error).message);
  }
  return config;
}
