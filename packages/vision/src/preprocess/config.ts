import { assertPositiveInteger } from '@moevl/core';

/**
 * PIL's resampling filters, by name. PIL resizes palette (`P`) and bilevel (`1`) images with `nearest`
 * whatever filter is asked for; `preprocessImage` does the same.
 */
export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/**
 * How an image becomes a model input. Defaults are OpenAI CLIP's (docs/reference.md §5): shortest side to 224
 * with antialiased bicubic, center crop 224, /255, CLIP mean/std, NCHW float32.
 */
export interface PreprocessConfig {
  /** Target of the resize: the shortest side (mode `shortest`) or both sides (mode `squash`). */
  size: number;
  /** Side of the square center crop. */
  cropSize: number;
  /** `shortest`: keep aspect ratio, shortest side to `size`; `squash`: resize to size×size. */
  resizeMode: 'shortest' | 'squash';
  /** Per-channel mean, in [0, 1] units. */
  mean: [number, number, number];
  /** Per-channel std, in [0, 1] units. */
  std: [number, number, number];
  /** Resize filter, PIL's definition of it (default `bicubic`, torchvision's `Resize(..., BICUBIC)`). */
  resample?: ResampleFilter;
  /** Resize at all (default true; HF `do_resize`). */
  doResize?: boolean;
  /** Center crop (default true; HF `do_center_crop`). Without it the tensor has the resized shape. */
  doCenterCrop?: boolean;
  /** Subtract `mean` and divide by `std` (default true; HF `do_normalize`). */
  doNormalize?: boolean;
  /** Pixel scale before normalising (default 1/255, computed as a division like torchvision's ToTensor). */
  rescaleFactor?: number;
  /** Non-square squash target `[height, width]` (HF `size: {height, width}`); overrides `size`. */
  squashShape?: [number, number];
  /** Non-square crop `[height, width]` (HF `crop_size: {height, width}`); overrides `cropSize`. */
  cropShape?: [number, number];
}

export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export const CLIP_PREPROCESS: PreprocessConfig = {
  size: 224,
  cropSize: 224,
  resizeMode: 'shortest',
  mean: CLIP_MEAN,
  std: CLIP_STD,
};

/** A config with every optional field filled in, as the pipeline uses it. */
export type ResolvedPreprocessConfig = Required<Omit<PreprocessConfig, 'squashShape' | 'cropShape'>> &
  Pick<PreprocessConfig, 'squashShape' | 'cropShape'>;

function checkPositiveInt(name: string, v: unknown): void {
  assertPositiveInteger(`preprocess config: ${name}`, v, (m) => new RangeError(m));
}

function checkTriple(name: string, v: unknown, positive: boolean): void {
  const ok =
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok) {
    throw new RangeError(
      `preprocess config: ${name} must be 3 finite${positive ? ' positive' : ''} numbers, got ${JSON.stringify(v)}`,
    );
  }
}

/** CLIP's defaults overlaid with `options`, validated, so a bad option fails before any image is read. */
export function resolvePreprocessConfig(options: Partial<PreprocessConfig> = {}): ResolvedPreprocessConfig {
  const c: ResolvedPreprocessConfig = {
    resample: 'bicubic',
    doResize: true,
    doCenterCrop: true,
    doNormalize: true,
    rescaleFactor: 1 / 255,
    ...CLIP_PREPROCESS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  checkPositiveInt('size', c.size);
  checkPositiveInt('cropSize', c.cropSize);
  for (const [name, shape] of [
    ['squashShape', c.squashShape],
    ['cropShape', c.cropShape],
  ] as const) {
    if (shape === undefined) continue;
    if (!Array.isArray(shape) || shape.length !== 2) {
      throw new RangeError(`preprocess config: ${name} must be [height, width]`);
    }
    shape.forEach((v, i) => checkPositiveInt(`${name}[${i}]`, v));
  }
  if (c.resizeMode !== 'shortest' && c.resizeMode !== 'squash') {
    throw new RangeError(`preprocess config: resizeMode must be 'shortest' or 'squash', got ${c.resizeMode}`);
  }
  if (!['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'].includes(c.resample)) {
    throw new RangeError(`preprocess config: unknown resample filter ${JSON.stringify(c.resample)}`);
  }
  checkTriple('mean', c.mean, false);
  checkTriple('std', c.std, true);
  if (!(c.rescaleFactor > 0) || !Number.isFinite(c.rescaleFactor)) {
    throw new RangeError(
      `preprocess config: rescaleFactor must be a positive number, got ${c.rescaleFactor}`,
    );
  }
  return c;
}
