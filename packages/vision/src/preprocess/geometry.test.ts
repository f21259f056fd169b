import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resolvePreprocessConfig } from './config.js';
import { decodeImage } from './decode.js';
import { cropRect, resizedSize, roundHalfEven } from './geometry.js';
import { readGifFirstFrame } from './gif.js';
import { jpegComponents } from './jpeg_header.js';
import { normalisationTable } from './pipeline.js';
import { resampleWindow } from './pil_resample.js';

const clip = resolvePreprocessConfig();
const fixture = (f: string): URL => new URL(`../../test/fixtures/preprocess/${f}`, import.meta.url);

describe("torchvision's Resize / CenterCrop arithmetic", () => {
  it('truncates the long side: int(size * long / short)', () => {
    expect(resizedSize(500, 375, clip)).toEqual({ width: 298, height: 224 }); // 298.67 → 298
    expect(resizedSize(375, 500, clip)).toEqual({ width: 224, height: 298 });
    expect(resizedSize(150, 191, clip)).toEqual({ width: 224, height: 285 }); // upscale: 285.23
    expect(resizedSize(300, 300, clip)).toEqual({ width: 224, height: 224 });
    expect(resizedSize(500, 375, resolvePreprocessConfig({ resizeMode: 'squash', size: 64 }))).toEqual({
      width: 64,
      height: 64,
    });
  });

  it("rounds the crop offset like Python's round (half to even)", () => {
    expect([0.5, 1.5, 2.5, 36.5, 37.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 36, 38, 2, 3]);
    // 297 − 224 = 73 → round(36.5) = 36, where Math.round would give 37.
    expect(cropRect({ width: 297, height: 224 }, clip)).toEqual({
      left: 36,
      top: 0,
      width: 224,
      height: 224,
    });
  });

  it('pads (negative offset) when the image is smaller than the crop', () => {
    const c = resolvePreprocessConfig({ size: 48, cropSize: 64 });
    // 48 wide: torchvision pads (64 − 48) // 2 = 8 on the left, 8 on the right.
    expect(cropRect({ width: 48, height: 73 }, c)).toEqual({ left: -8, top: 4, width: 64, height: 64 });
    expect(cropRect({ width: 47, height: 64 }, c).left).toBe(-8); // 17 → 8 left, 9 right
  });
});

describe('normalisation', () => {
  it('is (v / 255 − mean) / std in float32', () => {
    const lut = normalisationTable(clip);
    expect(lut[0]).toBe(Math.fround(Math.fround(-Math.fround(0.48145466)) / Math.fround(0.26862954)));
    expect(lut[255]).toBeCloseTo((1 - 0.48145466) / 0.26862954, 6);
    expect(lut[512 + 128]).toBeCloseTo((128 / 255 - 0.40821073) / 0.27577711, 6);
    const raw = normalisationTable(resolvePreprocessConfig({ doNormalize: false, rescaleFactor: 1 }));
    expect(raw[200]).toBe(200);
  });
});

describe('Pillow resampling details', () => {
  it('keeps a constant image constant, up and down (weights renormalised at the borders)', () => {
    const img = {
      mode: 'RGB' as const,
      width: 9,
      height: 7,
      channels: 3,
      data: new Uint8Array(9 * 7 * 3).fill(77),
    };
    for (const [w, h] of [
      [4, 3],
      [31, 23],
    ]) {
      const out = resampleWindow(img, w, h, 'bicubic', { left: 0, top: 0, width: w, height: h });
      expect(new Set(out.data)).toEqual(new Set([77]));
    }
  });

  it('clips bicubic overshoot on upscaling, as PIL stores 8-bit results', () => {
    const data = new Uint8Array(8).map((_, i) => (i % 2 ? 255 : 0)); // 0 255 0 255 ... one row
    const out = resampleWindow({ mode: 'L', width: 8, height: 1, channels: 1, data }, 32, 1, 'bicubic', {
      left: 0,
      top: 0,
      width: 32,
      height: 1,
    });
    expect(Math.min(...out.data)).toBe(0);
    expect(Math.max(...out.data)).toBe(255);
  });
});

describe('headers', () => {
  it('reads JPEG component counts without libvips', async () => {
    expect(jpegComponents(readFileSync(fixture('photo_500x375.jpg')))).toBe(3);
    expect(jpegComponents(readFileSync(fixture('gray_280x360.jpg')))).toBe(1);
    expect(jpegComponents(readFileSync(fixture('cmyk_320x240.jpg')))).toBe(4);
    expect(jpegComponents(readFileSync(fixture('tiny_7x5.png')))).toBeNull();
    expect(jpegComponents(Uint8Array.of(0xff, 0xd8, 0x00))).toBeNull();
  });

  it("reads a GIF's first-frame palette and transparency", () => {
    const t = readGifFirstFrame(readFileSync(fixture('transparent_230x170.gif')));
    expect(t?.transparency).toBe(31);
    expect(t?.palette?.length).toBeGreaterThanOrEqual(96);
    expect(readGifFirstFrame(readFileSync(fixture('grey_190x140.gif')))?.palette).toBeNull(); // identity → L
    expect(readGifFirstFrame(readFileSync(fixture('tiny_7x5.png')))).toBeNull();
  });
});

describe('decoding like PIL.Image.open', () => {
  it('opens each fixture in the mode PIL reports', async () => {
    const manifest = JSON.parse(readFileSync(fixture('manifest.json'), 'utf8')) as {
      cases: { file: string; pilMode: string; width: number; height: number }[];
    };
    for (const c of manifest.cases) {
      const img = await decodeImage(readFileSync(fixture(c.file)));
      expect([c.file, img.mode, img.width, img.height]).toEqual([c.file, c.pilMode, c.width, c.height]);
    }
  });

  it('ignores the embedded ICC profile (a colour-managed decode would differ)', async () => {
    const bytes = readFileSync(fixture('icc_300x200.png'));
    const ours = (await decodeImage(bytes)).data;
    const managed = await sharp(bytes).removeAlpha().raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < ours.length; i++) diff += Math.abs(ours[i] - managed[i]);
    expect(diff / ours.length).toBeGreaterThan(3); // levels: the profile matters, and we skip it
  });

  it('does not apply EXIF orientation', async () => {
    const img = await decodeImage(readFileSync(fixture('exif_rot6_320x240.jpg')));
    expect([img.width, img.height]).toEqual([320, 240]);
  });
});
