import type { ResampleFilter } from './config.js';

/** A resampling kernel and its support (half-width in source pixels at scale 1), as in Pillow's Resample.c. */
export interface PilFilter {
  support: number;
  weight: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/**
 * Pillow's kernels, written with the same operations in the same order so the weights (and therefore the
 * fixed-point coefficients) come out bit-identical. Bicubic is Keys' cubic with a = -0.5 (Catmull-Rom),
 * not the Mitchell filter some libraries call "cubic".
 */
export const PIL_FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, PilFilter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    weight: (x) => {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
  },
  hamming: {
    support: 1,
    weight: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x = x * Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** PIL's integer filter codes (`Image.Resampling`), as HF `preprocessor_config.json` stores `resample`. */
export const PIL_RESAMPLE_CODES: Record<number, ResampleFilter> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};
