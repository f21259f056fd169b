import type { ResolvedPreprocessConfig } from './config.js';

/** Width and height in pixels. */
export interface Size {
  width: number;
  height: number;
}

/**
 * Output size of torchvision's `Resize`. `shortest` is `Resize(int)`: the short side becomes `size` and
 * the long side `int(size · long / short)` — truncated, not rounded (500×375 at 224 → 298×224, not 299).
 * `squash` is `Resize((h, w))`.
 */
export function resizedSize(width: number, height: number, config: ResolvedPreprocessConfig): Size {
  if (!config.doResize) return { width, height };
  if (config.resizeMode === 'squash') {
    const [h, w] = config.squashShape ?? [config.size, config.size];
    return { width: w, height: h };
  }
  const s = config.size;
  if (width <= height) return { width: s, height: Math.floor((s * height) / width) };
  return { width: Math.floor((s * width) / height), height: s };
}

/** Python's `round()`: halves go to the even neighbour (round(36.5) = 36, round(37.5) = 38). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Where the crop starts along one axis of the resized image; negative when torchvision pads. */
function cropStart(d: number, crop: number): number {
  // torchvision CenterCrop pads (crop − d) // 2 before when the image is too small, then the padded axis
  // equals the crop; otherwise the crop starts at int(round((d − crop) / 2)).
  if (crop > d) return -Math.floor((crop - d) / 2);
  return roundHalfEven((d - crop) / 2);
}

/**
 * The crop rectangle in resized-image coordinates (`left`/`top` may be negative and the rectangle may
 * extend past the image: those pixels are torchvision's zero padding). Without center crop it is the
 * whole resized image.
 */
export function cropRect(
  resized: Size,
  config: ResolvedPreprocessConfig,
): Size & { left: number; top: number } {
  if (!config.doCenterCrop) return { left: 0, top: 0, ...resized };
  const [ch, cw] = config.cropShape ?? [config.cropSize, config.cropSize];
  return {
    left: cropStart(resized.width, cw),
    top: cropStart(resized.height, ch),
    width: cw,
    height: ch,
  };
}
