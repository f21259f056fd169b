/**
 * The inner loops of Pillow's 8-bit convolution resize (`ImagingResampleHorizontal_8bpc` and
 * `ImagingResampleVertical_8bpc`), arranged for V8. Every output sample is still Pillow's own sum —
 * `(½ + Σ pixel·coefficient) >> 22`, clipped to 0..255, with Pillow's 22-bit fixed-point coefficients —
 * so the results are identical; only the order of the loops changes:
 * - taps come in groups of 7 whose offsets and weights sit in locals for a whole row or column of
 *   outputs (a tap loop in V8 re-reads the table for every sample; hoisting saves about a third);
 * - the horizontal pass runs column by column, so one output column's taps serve all its rows;
 * - each loop is its own function: one function serving several cases gets type feedback from only
 *   some of them and is deoptimised, then optimised worse, when another case arrives.
 * The sums are exact in doubles (integers below 2³¹ in magnitude), and `>>` wraps like Pillow's int32.
 */

/** Pillow's fixed-point precision for 8-bit images: 32 − 8 − 2 bits. */
export const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
/** Taps per group. The CLIP case (bicubic, 500×375 → 224) has 7 taps per output on both axes. */
const GROUP = 7;

/**
 * Each output coordinate's taps padded to `groups` groups of 7: source coordinate and fixed-point
 * coefficient. When the axis is at least as long as the padded run, the run is contiguous (moved left at
 * the far edge, zero weights where Pillow's window does not reach), so the RGB loops can address taps at
 * constant distances; otherwise padding taps repeat the last real coordinate with weight 0. Either way
 * they add nothing and never read outside the image.
 */
export interface TapTable {
  groups: number;
  /** Tap `t` of every output is at `position[first] + t`. */
  contiguous: boolean;
  position: Int32Array;
  weight: Float64Array;
}

/**
 * Builds the padded table from Pillow's per-output `bounds` (first tap, tap count) and `fixed` weights.
 * `axisLength`, when given, is how far the source may be read (the whole row for the horizontal pass; the
 * vertical pass reads an intermediate that holds only the rows real taps need, so it passes none).
 */
export function tapTable(bounds: Int32Array, fixed: Int32Array, ksize: number, axisLength = 0): TapTable {
  const count = bounds.length / 2;
  let most = 1;
  for (let i = 0; i < count; i++) most = Math.max(most, bounds[2 * i + 1]);
  const groups = Math.ceil(most / GROUP);
  const span = groups * GROUP;
  const contiguous = axisLength >= span;
  const position = new Int32Array(count * span);
  const weight = new Float64Array(count * span);
  for (let i = 0; i < count; i++) {
    const first = bounds[2 * i];
    const n = bounds[2 * i + 1];
    const start = contiguous ? Math.min(first, axisLength - span) : first;
    for (let t = 0; t < span; t++) {
      position[i * span + t] = contiguous ? start + t : first + Math.min(t, Math.max(0, n - 1));
      const tap = start + t - first;
      weight[i * span + t] = tap >= 0 && tap < n ? fixed[i * ksize + tap] : 0;
    }
  }
  return { groups, contiguous, position, weight };
}

/**
 * Tap offsets (into `src`, relative to a lane's start) and weights of one group, read from the table at
 * `k`: source coordinate `position` is at `(position − origin)·scale`.
 */
interface Group {
  offset: Int32Array;
  weight: Float64Array;
}

function loadGroup(taps: TapTable, k: number, origin: number, scale: number, group: Group): void {
  for (let t = 0; t < GROUP; t++) {
    group.offset[t] = (taps.position[k + t] - origin) * scale;
    group.weight[t] = taps.weight[k + t];
  }
}

/** One group over `lanes` outputs, the only group: lane `l` reads from `first + l·step`. */
function lanesSet(
  src: Uint8Array,
  group: Group,
  first: number,
  step: number,
  lanes: number,
  dst: Uint8Array,
  out: number,
  outStep: number,
): void {
  const { offset: off, weight: w } = group;
  const o0 = off[0];
  const o1 = off[1];
  const o2 = off[2];
  const o3 = off[3];
  const o4 = off[4];
  const o5 = off[5];
  const o6 = off[6];
  const w0 = w[0];
  const w1 = w[1];
  const w2 = w[2];
  const w3 = w[3];
  const w4 = w[4];
  const w5 = w[5];
  const w6 = w[6];
  for (let l = 0, p = first, o = out; l < lanes; l++, p += step, o += outStep) {
    const v =
      (HALF +
        src[p + o0] * w0 +
        src[p + o1] * w1 +
        src[p + o2] * w2 +
        src[p + o3] * w3 +
        src[p + o4] * w4 +
        src[p + o5] * w5 +
        src[p + o6] * w6) >>
      PRECISION_BITS;
    dst[o] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** One group of several: adds its sums to `acc` (which starts at ½). */
function lanesAdd(
  src: Uint8Array,
  group: Group,
  first: number,
  step: number,
  lanes: number,
  acc: Float64Array,
): void {
  const { offset: off, weight: w } = group;
  const o0 = off[0];
  const o1 = off[1];
  const o2 = off[2];
  const o3 = off[3];
  const o4 = off[4];
  const o5 = off[5];
  const o6 = off[6];
  const w0 = w[0];
  const w1 = w[1];
  const w2 = w[2];
  const w3 = w[3];
  const w4 = w[4];
  const w5 = w[5];
  const w6 = w[6];
  for (let l = 0, p = first; l < lanes; l++, p += step) {
    acc[l] +=
      src[p + o0] * w0 +
      src[p + o1] * w1 +
      src[p + o2] * w2 +
      src[p + o3] * w3 +
      src[p + o4] * w4 +
      src[p + o5] * w5 +
      src[p + o6] * w6;
  }
}

/**
 * `lanesSet` for interleaved RGB along a row with a contiguous table: the three bands of a pixel from the
 * same taps, at constant distances (V8 folds them into the loads).
 */
function rgbSet(
  src: Uint8Array,
  group: Group,
  first: number,
  step: number,
  lanes: number,
  dst: Uint8Array,
  out: number,
  outStep: number,
): void {
  const w = group.weight;
  const start = group.offset[0];
  const w0 = w[0];
  const w1 = w[1];
  const w2 = w[2];
  const w3 = w[3];
  const w4 = w[4];
  const w5 = w[5];
  const w6 = w[6];
  for (let l = 0, p = first + start, o = out; l < lanes; l++, p += step, o += outStep) {
    const vr =
      (HALF +
        src[p] * w0 +
        src[p + 3] * w1 +
        src[p + 6] * w2 +
        src[p + 9] * w3 +
        src[p + 12] * w4 +
        src[p + 15] * w5 +
        src[p + 18] * w6) >>
      PRECISION_BITS;
    const vg =
      (HALF +
        src[p + 1] * w0 +
        src[p + 4] * w1 +
        src[p + 7] * w2 +
        src[p + 10] * w3 +
        src[p + 13] * w4 +
        src[p + 16] * w5 +
        src[p + 19] * w6) >>
      PRECISION_BITS;
    const vb =
      (HALF +
        src[p + 2] * w0 +
        src[p + 5] * w1 +
        src[p + 8] * w2 +
        src[p + 11] * w3 +
        src[p + 14] * w4 +
        src[p + 17] * w5 +
        src[p + 20] * w6) >>
      PRECISION_BITS;
    dst[o] = vr < 0 ? 0 : vr > 255 ? 255 : vr;
    dst[o + 1] = vg < 0 ? 0 : vg > 255 ? 255 : vg;
    dst[o + 2] = vb < 0 ? 0 : vb > 255 ? 255 : vb;
  }
}

/** `lanesAdd` for interleaved RGB: `acc` holds three sums per lane. */
function rgbAdd(
  src: Uint8Array,
  group: Group,
  first: number,
  step: number,
  lanes: number,
  acc: Float64Array,
): void {
  const w = group.weight;
  const start = group.offset[0];
  const w0 = w[0];
  const w1 = w[1];
  const w2 = w[2];
  const w3 = w[3];
  const w4 = w[4];
  const w5 = w[5];
  const w6 = w[6];
  for (let l = 0, p = first + start, a = 0; l < lanes; l++, p += step, a += 3) {
    acc[a] +=
      src[p] * w0 +
      src[p + 3] * w1 +
      src[p + 6] * w2 +
      src[p + 9] * w3 +
      src[p + 12] * w4 +
      src[p + 15] * w5 +
      src[p + 18] * w6;
    acc[a + 1] +=
      src[p + 1] * w0 +
      src[p + 4] * w1 +
      src[p + 7] * w2 +
      src[p + 10] * w3 +
      src[p + 13] * w4 +
      src[p + 16] * w5 +
      src[p + 19] * w6;
    acc[a + 2] +=
      src[p + 2] * w0 +
      src[p + 5] * w1 +
      src[p + 8] * w2 +
      src[p + 11] * w3 +
      src[p + 14] * w4 +
      src[p + 17] * w5 +
      src[p + 20] * w6;
  }
}

/** Writes finished sums: `bands` consecutive values of `acc` per lane, clipped like Pillow's `clip8`. */
function clipInto(
  acc: Float64Array,
  bands: number,
  lanes: number,
  dst: Uint8Array,
  out: number,
  outStep: number,
): void {
  for (let l = 0, o = out, a = 0; l < lanes; l++, o += outStep) {
    for (let c = 0; c < bands; c++, a++) {
      const v = acc[a] >> PRECISION_BITS;
      dst[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

/** A plain `Uint8Array` view of `data`, so that the loops see one class of array (not also `Buffer`). */
function plain(data: Uint8Array): Uint8Array {
  return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function newGroup(): Group {
  return { offset: new Int32Array(GROUP), weight: new Float64Array(GROUP) };
}

/**
 * Horizontal pass over source rows `rowFirst .. rowFirst+rows` into `rows × outWidth` (same bands),
 * one output column at a time.
 */
export function horizontalPass8(
  source: Uint8Array,
  target: Uint8Array,
  taps: TapTable,
  srcWidth: number,
  channels: number,
  rowFirst: number,
  rows: number,
  outWidth: number,
): void {
  const src = plain(source);
  const dst = plain(target);
  const C = channels;
  const { groups } = taps;
  const srcStride = srcWidth * C;
  const dstStride = outWidth * C;
  const group = newGroup();
  const acc = new Float64Array(groups > 1 ? rows * (C === 3 ? 3 : 1) : 0);
  const rowStart = rowFirst * srcStride;
  for (let i = 0; i < outWidth; i++) {
    if (C === 3 && taps.contiguous) {
      if (groups === 1) {
        loadGroup(taps, i * GROUP, 0, 3, group);
        rgbSet(src, group, rowStart, srcStride, rows, dst, i * 3, dstStride);
        continue;
      }
      acc.fill(HALF);
      for (let g = 0; g < groups; g++) {
        loadGroup(taps, (i * groups + g) * GROUP, 0, 3, group);
        rgbAdd(src, group, rowStart, srcStride, rows, acc);
      }
      clipInto(acc, 3, rows, dst, i * 3, dstStride);
      continue;
    }
    for (let ch = 0; ch < C; ch++) {
      const out = i * C + ch;
      if (groups === 1) {
        loadGroup(taps, i * GROUP, 0, C, group);
        lanesSet(src, group, rowStart + ch, srcStride, rows, dst, out, dstStride);
        continue;
      }
      acc.fill(HALF);
      for (let g = 0; g < groups; g++) {
        loadGroup(taps, (i * groups + g) * GROUP, 0, C, group);
        lanesAdd(src, group, rowStart + ch, srcStride, rows, acc);
      }
      clipInto(acc, 1, rows, dst, out, dstStride);
    }
  }
}

/**
 * Vertical pass: output row `i` mixes rows of `src`, whose first row is source row `rowFirst`. Bands
 * never mix vertically, so a whole interleaved row (`rowStride` samples) is one run of lanes.
 */
export function verticalPass8(
  source: Uint8Array,
  target: Uint8Array,
  taps: TapTable,
  rowFirst: number,
  rowStride: number,
  outRows: number,
): void {
  const src = plain(source);
  const dst = plain(target);
  const { groups } = taps;
  const group = newGroup();
  const acc = new Float64Array(groups > 1 ? rowStride : 0);
  for (let i = 0; i < outRows; i++) {
    const out = i * rowStride;
    if (groups === 1) {
      loadGroup(taps, i * GROUP, rowFirst, rowStride, group);
      lanesSet(src, group, 0, 1, rowStride, dst, out, 1);
      continue;
    }
    acc.fill(HALF);
    for (let g = 0; g < groups; g++) {
      loadGroup(taps, (i * groups + g) * GROUP, rowFirst, rowStride, group);
      lanesAdd(src, group, 0, 1, rowStride, acc);
    }
    clipInto(acc, 1, rowStride, dst, out, 1);
  }
}
