import { describe, expect, it } from 'vitest';
import type { ResampleFilter } from './config.js';
import { PIL_FILTERS } from './pil_filters.js';
import type { PilImage } from './pil_image.js';
import { precompute, resampleWindow } from './pil_resample.js';

type Filter = Exclude<ResampleFilter, 'nearest'>;

/**
 * Pillow's `ImagingResample` for 8-bit images in Pillow's own loop order and int32 arithmetic: the
 * horizontal pass over every row (per output pixel, per band, tap by tap), clipped to 8 bits, then the
 * vertical pass. The grouped, reordered loops of `pil_convolve8` must give exactly these bytes.
 */
function pillowResample(img: PilImage, outWidth: number, outHeight: number, filter: Filter): Uint8Array {
  const C = img.channels;
  const clip8 = (acc: number): number => Math.min(255, Math.max(0, acc >> 22));
  let data = img.data as Uint8Array;
  let width = img.width;
  if (outWidth !== img.width) {
    const c = precompute(img.width, outWidth, PIL_FILTERS[filter], 0, outWidth);
    const next = new Uint8Array(img.height * outWidth * C);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < outWidth; x++) {
        for (let ch = 0; ch < C; ch++) {
          let ss = 1 << 21;
          for (let t = 0; t < c.bounds[2 * x + 1]; t++) {
            const px = data[(y * width + c.bounds[2 * x] + t) * C + ch];
            ss = (ss + Math.imul(px, c.fixed[x * c.ksize + t])) | 0;
          }
          next[(y * outWidth + x) * C + ch] = clip8(ss);
        }
      }
    }
    data = next;
    width = outWidth;
  }
  if (outHeight === img.height) return data;
  const c = precompute(img.height, outHeight, PIL_FILTERS[filter], 0, outHeight);
  const out = new Uint8Array(outHeight * width * C);
  for (let y = 0; y < outHeight; y++) {
    for (let i = 0; i < width * C; i++) {
      let ss = 1 << 21;
      for (let t = 0; t < c.bounds[2 * y + 1]; t++) {
        const px = data[(c.bounds[2 * y] + t) * width * C + i];
        ss = (ss + Math.imul(px, c.fixed[y * c.ksize + t])) | 0;
      }
      out[y * width * C + i] = clip8(ss);
    }
  }
  return out;
}

/** A deterministic image with noise and hard edges (worst case for overshoot and clipping). */
function noiseImage(width: number, height: number, channels: number, seed: number): PilImage {
  let s = seed;
  const data = new Uint8Array(width * height * channels).map((_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (i >> 5) % 3 === 0 ? (s >>> 31) * 255 : s >>> 24;
  });
  const mode = channels === 1 ? 'L' : channels === 2 ? 'LA' : channels === 3 ? 'RGB' : 'RGBA';
  return { mode, width, height, channels, data };
}

describe('grouped 8-bit resample loops equal Pillow byte for byte', () => {
  const filters: Filter[] = ['bicubic', 'bilinear', 'lanczos', 'box', 'hamming'];
  // Down by up to ~7× (several tap groups per output), up by up to 6×, tiny axes shorter than a group.
  const sizes: [number, number, number, number][] = [
    [300, 40, 60, 17],
    [97, 61, 14, 9],
    [40, 97, 150, 80],
    [7, 5, 48, 30],
    [3, 2, 1, 5],
    [1, 9, 4, 2],
    [64, 64, 64, 31],
  ];
  for (const filter of filters) {
    it(filter, () => {
      let seed = 1;
      for (const [w, h, ow, oh] of sizes) {
        for (const channels of [1, 3, 4]) {
          const img = noiseImage(w, h, channels, seed++);
          const full = pillowResample(img, ow, oh, filter);
          // The whole image and windows clear of each edge (what the center crop asks for).
          const left = Math.floor(ow / 5);
          const top = Math.floor(oh / 3);
          const width = Math.max(1, ow - left - Math.floor(ow / 7));
          const height = Math.max(1, oh - top - Math.floor(oh / 4));
          for (const win of [
            { left: 0, top: 0, width: ow, height: oh },
            { left, top, width, height },
            { left: 0, top, width: ow, height: oh - top },
          ]) {
            const got = resampleWindow(img, ow, oh, filter, win).data;
            const want = new Uint8Array(win.width * win.height * channels);
            for (let y = 0; y < win.height; y++) {
              const from = ((win.top + y) * ow + win.left) * channels;
              want.set(full.subarray(from, from + win.width * channels), y * win.width * channels);
            }
            const firstDiff = want.findIndex((v, i) => got[i] !== v);
            expect(firstDiff, `${w}x${h} → ${ow}x${oh}, ${channels} bands, ${JSON.stringify(win)}`).toBe(-1);
            expect(got.length).toBe(want.length);
          }
        }
      }
    });
  }
});
