import type { PilImage, PilMode } from './pil_image.js';

/** Pillow's MULDIV255: round(a·b / 255) with integer arithmetic. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * `convert('RGBa')` / `convert('La')`: colour bands multiplied by alpha. PIL resizes `RGBA` and `LA`
 * premultiplied, so fully transparent pixels contribute nothing and their stored colour is lost —
 * the resized RGB is not simply "the colour bands, alpha dropped".
 */
export function premultiply(img: PilImage): PilImage {
  const src = img.data as Uint8Array;
  const C = img.channels;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += C) {
    const a = src[i + C - 1];
    for (let c = 0; c < C - 1; c++) out[i + c] = muldiv255(src[i + c], a);
    out[i + C - 1] = a;
  }
  return { ...img, data: out };
}

/**
 * Back from premultiplied, as Pillow's `rgba2rgbA` (alpha 0 or 255 leaves colour as is) and `lA2la`
 * (alpha 0 gives 0) do: truncating integer division, clipped to 255.
 */
export function unpremultiply(img: PilImage): PilImage {
  const d = img.data as Uint8Array;
  const C = img.channels;
  const grey = img.mode === 'LA';
  for (let i = 0; i < d.length; i += C) {
    const a = d[i + C - 1];
    if (grey ? a === 0 : a === 0 || a === 255) {
      if (grey) d[i] = 0;
      continue;
    }
    for (let c = 0; c < C - 1; c++) d[i + c] = Math.min(255, Math.floor((255 * d[i + c]) / a));
  }
  return img;
}

/**
 * Writes pixel `i` of `data` as 8-bit RGB into `rgb`, as PIL's `convert('RGB')` maps each mode: alpha
 * dropped, greyscale repeated, CMYK by Pillow's naive formula (no colour profile), mode I clipped to
 * 0..255 (so 16-bit greyscale saturates: PIL does not rescale it).
 */
export function toRgb(mode: PilMode, data: Uint8Array | Int32Array, i: number, rgb: Uint8Array): void {
  switch (mode) {
    case 'RGB':
    case 'P':
      rgb[0] = data[3 * i];
      rgb[1] = data[3 * i + 1];
      rgb[2] = data[3 * i + 2];
      return;
    case 'RGBA':
      rgb[0] = data[4 * i];
      rgb[1] = data[4 * i + 1];
      rgb[2] = data[4 * i + 2];
      return;
    case 'L':
    case '1':
      rgb[0] = rgb[1] = rgb[2] = data[i];
      return;
    case 'LA':
      rgb[0] = rgb[1] = rgb[2] = data[2 * i];
      return;
    case 'I': {
      const v = data[i];
      rgb[0] = rgb[1] = rgb[2] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      return;
    }
    case 'CMYK': {
      const nk = 255 - data[4 * i + 3];
      for (let c = 0; c < 3; c++) rgb[c] = Math.max(0, Math.min(255, nk - muldiv255(data[4 * i + c], nk)));
      return;
    }
  }
}

/** The RGB colour of an all-zero pixel in `mode` (torchvision pads with 0 in the image's own mode). */
export function zeroPixelRgb(mode: PilMode): Uint8Array {
  const rgb = new Uint8Array(3);
  const zero = mode === 'I' ? new Int32Array(4) : new Uint8Array(4);
  toRgb(mode, zero, 0, rgb);
  return rgb;
}
