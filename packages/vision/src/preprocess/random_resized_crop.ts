import type { ResolvedPreprocessConfig } from './config.js';
import { roundHalfEven } from './geometry.js';
import type { PilImage } from './pil_image.js';
import { cropPixels, type Window } from './pil_resample.js';
import { normalisationTable, pilImageToTensorData } from './pipeline.js';

/**
 * open_clip's train-time transform: `RandomResizedCrop(size, scale=(0.9, 1.0), interpolation=BICUBIC)`,
 * then `convert('RGB')`, `ToTensor`, `Normalize` (open_clip `transform.py`, `image_transform(is_train=True)`).
 * The crop is chosen as torchvision's `RandomResizedCrop.get_params` chooses it, with our seeded
 * generator instead of torch's; the crop and resize are Pillow's (`img.crop(box).resize(size, BICUBIC)`),
 * reusing the evaluation pipeline's Pillow-exact resampling, so given the same rectangle the pixels equal
 * torchvision's on a PIL image.
 */

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's area (open_clip trains with [0.9, 1]). */
  scale: [number, number];
  /** Range of the crop's aspect ratio width/height, drawn log-uniformly (default torchvision's [3/4, 4/3]). */
  ratio?: [number, number];
}

/** The draws `randomResizedCropRect` needs; `Rng` from `@moevl/core` has them. */
export interface CropRandomness {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

const DEFAULT_RATIO: [number, number] = [3 / 4, 4 / 3];

/** Checks `scale` and `ratio`, throwing a RangeError that names the bad value. */
export function checkRandomResizedCrop(options: RandomResizedCropOptions): void {
  const { scale, ratio = DEFAULT_RATIO } = options;
  const pair = (v: unknown): v is [number, number] =>
    Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!pair(scale) || !(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new RangeError(
      `randomResizedCrop.scale must be [min, max] with 0 < min ≤ max ≤ 1 (open_clip: [0.9, 1]), got ${JSON.stringify(scale)}`,
    );
  }
  if (!pair(ratio) || !(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw new RangeError(
      `randomResizedCrop.ratio must be [min, max] with 0 < min ≤ max, got ${JSON.stringify(ratio)}`,
    );
  }
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to ten tries at an area fraction uniform in `scale`
 * and a log-uniform aspect ratio in `ratio` (sides rounded with Python's `round`), placed uniformly; when
 * no try fits in the image, the largest centred crop whose ratio is within `ratio`.
 */
export function randomResizedCropRect(
  width: number,
  height: number,
  rng: CropRandomness,
  options: RandomResizedCropOptions,
): Window {
  const [smin, smax] = options.scale;
  const [rmin, rmax] = options.ratio ?? DEFAULT_RATIO;
  const area = width * height;
  const logMin = Math.log(rmin);
  const logMax = Math.log(rmax);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (smin + (smax - smin) * rng.uniform());
    const aspect = Math.exp(logMin + (logMax - logMin) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < rmin) h = roundHalfEven(w / rmin);
  else if (inRatio > rmax) w = roundHalfEven(h * rmax);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** The config that resizes a crop to the output size: a squash to `cropShape` (or `cropSize`²), no crop. */
export function randomResizedCropConfig(config: ResolvedPreprocessConfig): ResolvedPreprocessConfig {
  const shape = config.cropShape ?? [config.cropSize, config.cropSize];
  return { ...config, doResize: true, resizeMode: 'squash', squashShape: shape, doCenterCrop: false };
}

/**
 * Crops `rect` (in `img`'s pixels) and resizes it to the output size in the image's own PIL mode, then
 * RGB, /255 and normalisation: `[3, H, W]` float32 written into `out` at `offset` (a fresh array when
 * omitted). `resizeConfig` is `randomResizedCropConfig(config)`, passed in so a loader builds it once.
 */
export function randomResizedCropData(
  img: PilImage,
  rect: Window,
  resizeConfig: ResolvedPreprocessConfig,
  lut: Float32Array = normalisationTable(resizeConfig),
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const x1 = rect.left + rect.width;
  const y1 = rect.top + rect.height;
  if (
    rect.left < 0 ||
    rect.top < 0 ||
    x1 > img.width ||
    y1 > img.height ||
    rect.width < 1 ||
    rect.height < 1
  ) {
    throw new RangeError(
      `randomResizedCropData: rectangle ${JSON.stringify(rect)} is not inside the ${img.width}×${img.height} image`,
    );
  }
  const whole = rect.width === img.width && rect.height === img.height;
  return pilImageToTensorData(whole ? img : cropPixels(img, rect), resizeConfig, lut, out, offset);
}
