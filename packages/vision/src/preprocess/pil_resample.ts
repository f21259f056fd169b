import type { ResampleFilter } from './config.js';
import { PIL_FILTERS, type PilFilter } from './pil_filters.js';
import { horizontalPass8, PRECISION_BITS, tapTable, verticalPass8 } from './pil_convolve8.js';
import type { PilImage } from './pil_image.js';

/** A rectangle of the resized image, in output pixels. Only this part is computed. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Coefficients {
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
export function precompute(
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

/** PIL's ROUND_UP for 32-bit images: round half away from zero. */
function roundUp(f: number): number {
  return f >= 0 ? Math.floor(f + 0.5) : -Math.floor(Math.abs(f) + 0.5);
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

/** The 8-bit intermediate, reused between calls when the vertical pass consumes it (never returned). */
let scratch = new Uint8Array(0);
/** Intermediates up to this size are kept: a 4000-row source at 224 wide is 2.7 MB. */
const SCRATCH_LIMIT = 1 << 24;

/** `size` bytes of reusable storage; allocating and zero-filling it each time cost ~5% of the resize. */
function intermediate8(size: number): Uint8Array {
  if (size > SCRATCH_LIMIT) return new Uint8Array(size);
  if (scratch.length < size) scratch = new Uint8Array(size);
  return scratch.subarray(0, size);
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
    const size = rows * win.width * C;
    const data = vert && !is32 ? intermediate8(size) : alloc(img, size);
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
      const taps = tapTable(horiz.bounds, horiz.fixed, horiz.ksize, img.width);
      horizontalPass8(
        img.data as Uint8Array,
        data as Uint8Array,
        taps,
        img.width,
        C,
        rowFirst,
        rows,
        win.width,
      );
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
    const taps = tapTable(vert.bounds, vert.fixed, vert.ksize);
    verticalPass8(temp.data as Uint8Array, out as Uint8Array, taps, rowFirst, win.width * C, win.height);
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
