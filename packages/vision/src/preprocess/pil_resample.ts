import type { ResampleFilter } from './config.js';
import { PIL_FILTERS, type PilFilter } from './pil_filters.js';
import type { PilImage } from './pil_image.js';

/** A rectangle of the resized image, in output pixels. Only this part is computed. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Pillow's fixed-point precision for 8-bit images: 32 − 8 − 2 bits. */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** Taps per output pixel (rows of `weights` are this long; unused taps are 0). */
  ksize: number;
  /** Per output pixel: first source index and number of taps. */
  bounds: Int32Array;
  weights: Float64Array;
  /** `weights` rounded to 22-bit fixed point, for 8-bit images. */
  fixed: Int32Array;
}

/**
 * Pillow's `precompute_coeffs` for output pixels `start .. start+count` of an `inSize → outSize` resize.
 * The kernel is stretched by the scale when reducing (that is the antialiasing: every source pixel under
 * the output pixel contributes), sampled at source pixel centres `(x + 0.5)` against the output centre
 * `(xx + 0.5)·scale`, clipped to the image and renormalised to sum 1 (so edges are not darkened).
 */
function precompute(
  inSize: number,
  outSize: number,
  filter: PilFilter,
  start: number,
  count: number,
): Coefficients {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2);
  const weights = new Float64Array(count * ksize);
  const fixed = new Int32Array(count * ksize);
  const ss = 1 / filterscale;
  for (let i = 0; i < count; i++) {
    const xx = start + i;
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const base = i * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      weights[base + x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0) weights[base + x] /= ww;
      const k = weights[base + x];
      // normalize_coeffs_8bpc: round half away from zero, truncating cast.
      fixed[base + x] =
        k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[2 * i] = xmin;
    bounds[2 * i + 1] = xmax;
  }
  return { ksize, bounds, weights, fixed };
}

/** Pillow's `clip8`: the accumulator's integer part, saturated to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** PIL's ROUND_UP for 32-bit images: round half away from zero. */
function roundUp(f: number): number {
  return f >= 0 ? Math.floor(f + 0.5) : -Math.floor(Math.abs(f) + 0.5);
}

/**
 * Pillow's horizontal pass for 8-bit images over `rows` source rows starting at `rowFirst`: each output
 * sample is the fixed-point dot product of its taps, rounded by the +½ start value and clipped. The sums
 * are integers below 2³¹ in magnitude (255 · Σ|k| · 2²², as in Pillow's int32), so doubles hold them
 * exactly; V8 runs this loop faster in doubles than with Math.imul.
 */
function horizontal8(
  src: Uint8Array,
  dst: Uint8Array,
  c: Coefficients,
  srcWidth: number,
  channels: number,
  rowFirst: number,
  rows: number,
  outWidth: number,
): void {
  const { bounds, fixed: k, ksize } = c;
  const C = channels;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (rowFirst + y) * srcWidth * C;
    for (let i = 0; i < outWidth; i++) {
      const n = bounds[2 * i + 1];
      const kb = i * ksize;
      let p = rowBase + bounds[2 * i] * C;
      if (C === 3) {
        let a0 = HALF;
        let a1 = HALF;
        let a2 = HALF;
        for (let t = 0; t < n; t++, p += 3) {
          const w = k[kb + t];
          a0 += src[p] * w;
          a1 += src[p + 1] * w;
          a2 += src[p + 2] * w;
        }
        dst[o++] = clip8(a0);
        dst[o++] = clip8(a1);
        dst[o++] = clip8(a2);
      } else {
        for (let ch = 0; ch < C; ch++) {
          let a = HALF;
          for (let t = 0, q = p + ch; t < n; t++, q += C) a += src[q] * k[kb + t];
          dst[o++] = clip8(a);
        }
      }
    }
  }
}

/** The 32-bit integer (`I` mode) horizontal pass: double weights, ROUND_UP, no clipping (`_32bpc`). */
function horizontal32(
  src: Int32Array,
  dst: Int32Array,
  c: Coefficients,
  srcWidth: number,
  channels: number,
  rowFirst: number,
  rows: number,
  outWidth: number,
): void {
  const { bounds, weights: k, ksize } = c;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (rowFirst + y) * srcWidth * channels;
    for (let i = 0; i < outWidth; i++) {
      const p = rowBase + bounds[2 * i] * channels;
      for (let ch = 0; ch < channels; ch++) {
        let a = 0;
        for (let t = 0, q = p + ch; t < bounds[2 * i + 1]; t++, q += channels) a += src[q] * k[i * ksize + t];
        dst[o++] = roundUp(a);
      }
    }
  }
}

/**
 * The vertical pass for 8-bit images: output row `i` mixes source rows `bounds[2i] ..` (relative to
 * `rowFirst`, the first row the horizontal pass kept). Bands never mix vertically, so whole rows are
 * accumulated at once — the same sums as Pillow's per-pixel loop, in a cache-friendly order.
 */
function vertical8(
  src: Uint8Array,
  dst: Uint8Array,
  c: Coefficients,
  rowFirst: number,
  rowStride: number,
  outRows: number,
): void {
  const { bounds, ksize, fixed: k } = c;
  const acc = new Int32Array(rowStride);
  for (let i = 0; i < outRows; i++) {
    const n = bounds[2 * i + 1];
    const kb = i * ksize;
    const base = (bounds[2 * i] - rowFirst) * rowStride;
    acc.fill(HALF);
    let t = 0;
    // Two taps per sweep: half the accumulator traffic (~25% faster in V8). Partial sums stay in int32.
    for (; t + 1 < n; t += 2) {
      const w0 = k[kb + t];
      const w1 = k[kb + t + 1];
      const r0 = base + t * rowStride;
      const r1 = r0 + rowStride;
      for (let x = 0; x < rowStride; x++) {
        acc[x] = (acc[x] + Math.imul(src[r0 + x], w0) + Math.imul(src[r1 + x], w1)) | 0;
      }
    }
    if (t < n) {
      const w = k[kb + t];
      const row = base + t * rowStride;
      for (let x = 0; x < rowStride; x++) acc[x] = (acc[x] + Math.imul(src[row + x], w)) | 0;
    }
    const o = i * rowStride;
    for (let x = 0; x < rowStride; x++) dst[o + x] = clip8(acc[x]);
  }
}

/** The vertical pass for `I` images: double weights summed in Pillow's tap order, then ROUND_UP. */
function vertical32(
  src: Int32Array,
  dst: Int32Array,
  c: Coefficients,
  rowFirst: number,
  rowStride: number,
  outRows: number,
): void {
  const { bounds, ksize, weights: k } = c;
  const acc = new Float64Array(rowStride);
  for (let i = 0; i < outRows; i++) {
    const n = bounds[2 * i + 1];
    const kb = i * ksize;
    const base = (bounds[2 * i] - rowFirst) * rowStride;
    acc.fill(0);
    for (let t = 0; t < n; t++) {
      const w = k[kb + t];
      const row = base + t * rowStride;
      for (let x = 0; x < rowStride; x++) acc[x] += src[row + x] * w;
    }
    const o = i * rowStride;
    for (let x = 0; x < rowStride; x++) dst[o + x] = roundUp(acc[x]);
  }
}

function alloc(img: PilImage, size: number): Uint8Array | Int32Array {
  return img.data instanceof Int32Array ? new Int32Array(size) : new Uint8Array(size);
}

/** Copies a window out of an image that is not resized along either axis. */
export function cropPixels(img: PilImage, win: Window): PilImage {
  const { channels: C, width } = img;
  const out = alloc(img, win.width * win.height * C);
  const rowLen = win.width * C;
  for (let y = 0; y < win.height; y++) {
    const s = ((win.top + y) * width + win.left) * C;
    out.set(img.data.subarray(s, s + rowLen), y * rowLen);
  }
  return { ...img, width: win.width, height: win.height, data: out };
}

/**
 * Pillow's convolution resize (`ImagingResample`) of `img` to `outWidth × outHeight`, computing only
 * `win`. Horizontal pass first into an image of the source's own type (for 8-bit modes the intermediate is
 * rounded and clipped to 0..255, as in Pillow), restricted to the source rows the vertical pass reads;
 * then the vertical pass. An axis whose size does not change is not filtered at all.
 */
export function resampleWindow(
  img: PilImage,
  outWidth: number,
  outHeight: number,
  filterName: Exclude<ResampleFilter, 'nearest'>,
  win: Window,
): PilImage {
  const filter = PIL_FILTERS[filterName];
  const C = img.channels;
  const is32 = img.data instanceof Int32Array;
  const needH = outWidth !== img.width;
  const needV = outHeight !== img.height;
  const vert = needV ? precompute(img.height, outHeight, filter, win.top, win.height) : undefined;
  // Source rows the vertical pass reads (all output rows of the window need them).
  const rowFirst = vert ? vert.bounds[0] : win.top;
  const rowLast = vert
    ? vert.bounds[2 * (win.height - 1)] + vert.bounds[2 * win.height - 1]
    : win.top + win.height;
  const rows = rowLast - rowFirst;

  let temp: PilImage;
  if (needH) {
    const horiz = precompute(img.width, outWidth, filter, win.left, win.width);
    const data = alloc(img, rows * win.width * C);
    if (is32) {
      horizontal32(
        img.data as Int32Array,
        data as Int32Array,
        horiz,
        img.width,
        C,
        rowFirst,
        rows,
        win.width,
      );
    } else {
      horizontal8(img.data as Uint8Array, data as Uint8Array, horiz, img.width, C, rowFirst, rows, win.width);
    }
    temp = { ...img, width: win.width, height: rows, data };
  } else {
    temp = cropPixels(img, { left: win.left, top: rowFirst, width: win.width, height: rows });
  }
  if (!vert) return temp;
  const out = alloc(img, win.width * win.height * C);
  if (is32) {
    vertical32(temp.data as Int32Array, out as Int32Array, vert, rowFirst, win.width * C, win.height);
  } else {
    vertical8(temp.data as Uint8Array, out as Uint8Array, vert, rowFirst, win.width * C, win.height);
  }
  return { ...img, width: win.width, height: win.height, data: out };
}

/**
 * PIL's nearest-neighbour resize (`ImagingScaleAffine`): source index `floor((x + 0.5)·in/out)`, where the
 * position is accumulated by repeated addition exactly as Pillow does, so ties round the same way.
 */
export function nearestWindow(img: PilImage, outWidth: number, outHeight: number, win: Window): PilImage {
  const table = (inSize: number, outSize: number, start: number, count: number): Int32Array => {
    const step = inSize / outSize;
    const idx = new Int32Array(count);
    let pos = step * 0.5;
    for (let x = 0; x < start + count; x++, pos += step) {
      if (x >= start) idx[x - start] = Math.min(inSize - 1, Math.max(0, Math.trunc(pos)));
    }
    return idx;
  };
  const xs = table(img.width, outWidth, win.left, win.width);
  const ys = table(img.height, outHeight, win.top, win.height);
  const C = img.channels;
  const out = alloc(img, win.width * win.height * C);
  let o = 0;
  for (let y = 0; y < win.height; y++) {
    const row = ys[y] * img.width;
    for (let x = 0; x < win.width; x++) {
      const s = (row + xs[x]) * C;
      for (let ch = 0; ch < C; ch++) out[o++] = img.data[s + ch];
    }
  }
  return { ...img, width: win.width, height: win.height, data: out };
}
