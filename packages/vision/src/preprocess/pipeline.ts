import type { ResolvedPreprocessConfig } from './config.js';
import { cropRect, resizedSize } from './geometry.js';
import { premultiply, toRgb, unpremultiply, zeroPixelRgb } from './pil_convert.js';
import { forcesNearest, type PilImage, resizesPremultiplied } from './pil_image.js';
import { cropPixels, nearestWindow, resampleWindow, type Window } from './pil_resample.js';

/** `[3, height, width]` of the tensor `config` produces for an image of the given size. */
export function outputShape(
  width: number,
  height: number,
  config: ResolvedPreprocessConfig,
): [number, number, number] {
  const r = cropRect(resizedSize(width, height, config), config);
  return [3, r.height, r.width];
}

/**
 * Per-channel lookup table from an 8-bit value to the normalised float32, with torchvision's float32
 * operations in their order: `v / 255` (ToTensor), then `(x − mean) / std` (Normalize). Every step is
 * rounded to float32 (`Math.fround`), so the table equals PyTorch's values bit for bit.
 */
export function normalisationTable(config: ResolvedPreprocessConfig): Float32Array {
  const lut = new Float32Array(3 * 256);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(config.mean[c]);
    const std = f(config.std[c]);
    for (let v = 0; v < 256; v++) {
      const x = config.rescaleFactor === 1 / 255 ? f(v / 255) : f(v * f(config.rescaleFactor));
      lut[c * 256 + v] = config.doNormalize ? f(f(x - mean) / std) : x;
    }
  }
  return lut;
}

/** The part of the resized image inside the crop rectangle, resized the way PIL resizes `img.mode`. */
function resizeWindow(img: PilImage, config: ResolvedPreprocessConfig, win: Window): PilImage {
  const { width, height } = resizedSize(img.width, img.height, config);
  if (width === img.width && height === img.height) return cropPixels(img, win); // PIL: resize is a copy
  if (forcesNearest(img.mode) || config.resample === 'nearest') return nearestWindow(img, width, height, win);
  if (resizesPremultiplied(img.mode)) {
    return unpremultiply(resampleWindow(premultiply(img), width, height, config.resample, win));
  }
  return resampleWindow(img, width, height, config.resample, win);
}

/**
 * open_clip's image transform on a decoded image, in its order: `Resize` (in the image's own PIL mode),
 * `CenterCrop` (zero padding in that mode when the image is smaller than the crop), `convert('RGB')`,
 * `ToTensor`, `Normalize`. Writes CHW float32 into `out` at `offset` (a fresh array when omitted) and
 * returns it. Only the pixels that survive the crop are resampled.
 */
export function pilImageToTensorData(
  img: PilImage,
  config: ResolvedPreprocessConfig,
  lut: Float32Array = normalisationTable(config),
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const resized = resizedSize(img.width, img.height, config);
  const rect = cropRect(resized, config);
  const { width: W, height: H } = rect;
  const target = out ?? new Float32Array(3 * H * W);
  const x0 = Math.max(0, rect.left);
  const y0 = Math.max(0, rect.top);
  const x1 = Math.min(resized.width, rect.left + W);
  const y1 = Math.min(resized.height, rect.top + H);
  const part = resizeWindow(img, config, { left: x0, top: y0, width: x1 - x0, height: y1 - y0 });
  const plane = H * W;
  if (part.width === W && part.height === H && (img.mode === 'RGB' || img.mode === 'P' || img.mode === 'L')) {
    // The common case, no padding: straight table lookups into the three planes.
    const d = part.data as Uint8Array;
    const g = offset + plane;
    const b = offset + 2 * plane;
    if (img.mode === 'L') {
      for (let i = 0; i < plane; i++) {
        const v = d[i];
        target[offset + i] = lut[v];
        target[g + i] = lut[256 + v];
        target[b + i] = lut[512 + v];
      }
      return target;
    }
    for (let i = 0, s = 0; i < plane; i++, s += 3) {
      target[offset + i] = lut[d[s]];
      target[g + i] = lut[256 + d[s + 1]];
      target[b + i] = lut[512 + d[s + 2]];
    }
    return target;
  }
  const pad = zeroPixelRgb(img.mode);
  const rgb = new Uint8Array(3);
  for (let y = 0; y < H; y++) {
    const sy = y + rect.top - y0;
    for (let x = 0; x < W; x++) {
      const sx = x + rect.left - x0;
      const inside = sy >= 0 && sy < part.height && sx >= 0 && sx < part.width;
      if (inside) toRgb(img.mode, part.data, sy * part.width + sx, rgb);
      const px = inside ? rgb : pad;
      const o = offset + y * W + x;
      target[o] = lut[px[0]];
      target[o + plane] = lut[256 + px[1]];
      target[o + 2 * plane] = lut[512 + px[2]];
    }
  }
  return target;
}
