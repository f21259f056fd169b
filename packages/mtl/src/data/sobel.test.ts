import { describe, expect, it } from 'vitest';
import { sobelMagnitude } from './sobel.js';

describe('sobelMagnitude', () => {
  it('is zero on a flat image and |G|/4 at a vertical step edge (hand-computed)', () => {
    expect(Array.from(sobelMagnitude(new Float32Array(9), 3, 3))).toEqual(new Array(9).fill(0));
    // 4×4: left two columns 0, right two 1. At an interior pixel beside the edge Gx = 1+2+1 = 4, Gy = 0.
    const img = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1];
    const out = sobelMagnitude(img, 4, 4);
    expect(out[1 * 4 + 1]).toBeCloseTo(1); // 4 / 4
    expect(out[1 * 4 + 2]).toBeCloseTo(1);
    // Zero padding: the right border sees 1s disappear: Gx = −(1+2+1) = −4 → 1; top row corner mixes Gy.
    expect(out[1 * 4 + 3]).toBeCloseTo(1);
    expect(out[0 * 4 + 2]).toBeCloseTo(Math.sqrt(3 * 3 + 3 * 3) / 4);
  });

  it('names the size when the pixel count is wrong', () => {
    expect(() => sobelMagnitude([1, 2, 3], 2, 2)).toThrow(/2×2/);
  });
});
