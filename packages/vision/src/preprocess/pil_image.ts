/**
 * The PIL image modes an input can arrive in. The mode decides how PIL resizes (bicubic per band,
 * premultiplied for `RGBA`/`LA`, nearest for `P`/`1`, 32-bit integer for `I`) and how `convert('RGB')`
 * maps it, so the decoder keeps it instead of converting to RGB first.
 */
export type PilMode = 'RGB' | 'RGBA' | 'L' | 'LA' | '1' | 'P' | 'CMYK' | 'I';

/**
 * Interleaved pixels in one PIL mode. `P` is stored already looked up in its palette (RGB, 3 bands) and
 * `1` as 0/255 (1 band): PIL only ever resizes them with nearest, which commutes with the lookup.
 * `I` (16-bit greyscale PNG) keeps its full values in an `Int32Array`, as PIL does.
 */
export interface PilImage {
  mode: PilMode;
  width: number;
  height: number;
  /** Bands per pixel: 3 for RGB and P, 4 for RGBA and CMYK, 2 for LA, 1 for L, 1 and I. */
  channels: number;
  data: Uint8Array | Int32Array;
}

/** Bands per pixel of each mode, as stored in a `PilImage`. */
export const MODE_CHANNELS: Record<PilMode, number> = {
  RGB: 3,
  RGBA: 4,
  L: 1,
  LA: 2,
  '1': 1,
  P: 3,
  CMYK: 4,
  I: 1,
};

/** Modes PIL resizes with nearest whatever filter is asked for (`Image.resize`). */
export function forcesNearest(mode: PilMode): boolean {
  return mode === 'P' || mode === '1';
}

/** Modes PIL resizes premultiplied (`RGBA` → `RGBa`, `LA` → `La`) when the filter is not nearest. */
export function resizesPremultiplied(mode: PilMode): boolean {
  return mode === 'RGBA' || mode === 'LA';
}
