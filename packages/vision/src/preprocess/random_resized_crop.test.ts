import { Rng } from '@moevl/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resolvePreprocessConfig } from './config.js';
import { decodeImage } from './decode.js';
import { pilImageToTensorData } from './pipeline.js';
import {
  checkRandomResizedCrop,
  randomResizedCropConfig,
  randomResizedCropData,
  randomResizedCropRect,
} from './random_resized_crop.js';

/**
 * open_clip's train transform: torchvision's `RandomResizedCrop.get_params` (area fraction in `scale`,
 * log-uniform aspect ratio, ten tries, centred fallback) and Pillow's crop-then-resize.
 */

const scale: [number, number] = [0.9, 1];

describe('randomResizedCropRect', () => {
  it('draws crops inside the image with area in scale and ratio in [3/4, 4/3]', () => {
    const rng = new Rng(0);
    for (let t = 0; t < 2000; t++) {
      const W = 20 + rng.int(500);
      const H = 20 + rng.int(500);
      const r = randomResizedCropRect(W, H, rng, { scale });
      expect(r.left).toBeGreaterThanOrEqual(0);
      expect(r.top).toBeGreaterThanOrEqual(0);
      expect(r.left + r.width).toBeLessThanOrEqual(W);
      expect(r.top + r.height).toBeLessThanOrEqual(H);
      const area = (r.width * r.height) / (W * H);
      const fallback = r.width === W || r.height === H;
      if (!fallback) {
        // sides are rounded, so the area and ratio are within a pixel of the draw
        expect(area).toBeGreaterThan(0.9 * (1 - 2 / Math.min(r.width, r.height)) ** 2 - 1e-9);
        expect(area).toBeLessThanOrEqual(1);
        const ratio = r.width / r.height;
        expect(ratio).toBeGreaterThan((3 / 4) * (1 - 1 / r.height) - 1e-9);
        expect(ratio).toBeLessThan((4 / 3) * (1 + 1 / r.height) + 1e-9);
      }
    }
  });

  it('follows get_params step by step on fixed draws, and falls back to the centred crop', () => {
    const mid = { uniform: () => 0.5, int: (n: number) => n - 1 };
    // area 0.95 · 200² = 38,000 and ratio exp(0) = 1 → 195×195 (round(194.94)), at the last offsets
    expect(randomResizedCropRect(200, 200, mid, { scale })).toEqual({
      left: 5,
      top: 5,
      width: 195,
      height: 195,
    });
    // 100×80: the 87×87 draw does not fit (87 > 80) ten times; the ratio 1.25 is allowed, so the whole image
    expect(randomResizedCropRect(100, 80, mid, { scale })).toEqual({
      left: 0,
      top: 0,
      width: 100,
      height: 80,
    });
    // too wide: full height, w = round(10 · 4/3) = 13, centred with floor division
    expect(randomResizedCropRect(1000, 10, mid, { scale })).toEqual({
      left: 493,
      top: 0,
      width: 13,
      height: 10,
    });
    // too tall: full width, h = round(10 / (3/4)) = 13
    expect(randomResizedCropRect(10, 1000, mid, { scale })).toEqual({
      left: 0,
      top: 493,
      width: 10,
      height: 13,
    });
  });

  it('refuses scales outside (0, 1]', () => {
    expect(() => checkRandomResizedCrop({ scale: [0, 1] })).toThrow(/0 < min ≤ max ≤ 1/);
    expect(() => checkRandomResizedCrop({ scale: [0.9, 0.8] })).toThrow(/0 < min ≤ max ≤ 1/);
    expect(() => checkRandomResizedCrop({ scale, ratio: [2, 1] })).toThrow(/ratio/);
  });
});

describe('randomResizedCropData', () => {
  it('equals Pillow-style crop then resize: the pipeline on the image cropped by sharp', async () => {
    const w = 64;
    const h = 48;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i >> 5) * 13) % 256;
    const png = await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    const rect = { left: 5, top: 3, width: 50, height: 41 };
    const cropped = await sharp(png).extract(rect).png().toBuffer();
    const config = resolvePreprocessConfig({ size: 32, cropSize: 32 });
    const resize = randomResizedCropConfig(config);
    const img = await decodeImage(png);
    const got = randomResizedCropData(img, rect, resize);
    const want = pilImageToTensorData(await decodeImage(cropped), resize);
    expect(got.length).toBe(3 * 32 * 32);
    expect(got).toEqual(want);
    expect(() => randomResizedCropData(img, { left: 60, top: 0, width: 10, height: 10 }, resize)).toThrow(
      /not inside/,
    );
  });
});
