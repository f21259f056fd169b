import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD } from './config.js';
import { readPreprocessorConfig } from './hf_config.js';
import { preprocessImageData } from './preprocess_image.js';

const dir = mkdtempSync(join(tmpdir(), 'moevl-hf-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const quiet = { onWarning: () => {} };

describe('readPreprocessorConfig', () => {
  it('reads a CLIPImageProcessor config (the tiny-clip fixture)', () => {
    const path = fileURLToPath(
      new URL('../../test/fixtures/tiny-clip/preprocessor_config.json', import.meta.url),
    );
    expect(readPreprocessorConfig(path)).toMatchObject({
      size: 32,
      cropSize: 32,
      resizeMode: 'shortest',
      mean: CLIP_MEAN,
      std: CLIP_STD,
      resample: 'bicubic',
      doCenterCrop: true,
      doNormalize: true,
      rescaleFactor: 1 / 255,
    });
  });

  it('treats a legacy plain-number size as the shortest edge, not a square', () => {
    const c = readPreprocessorConfig({ size: 224, crop_size: 224 });
    expect(c).toMatchObject({ size: 224, cropSize: 224, resizeMode: 'shortest' });
    expect(c.squashShape).toBeUndefined();
  });

  it('a legacy config reproduces the Pillow reference of the same shortest-edge transform', async () => {
    // odd_233x357 was made with Resize(81) + CenterCrop(64); a squash reading of "size" would differ.
    const fixtures = new URL('../../test/fixtures/preprocess/', import.meta.url);
    const config = readPreprocessorConfig({ size: 81, crop_size: 64, resample: 3 });
    const { data } = await preprocessImageData(fileURLToPath(new URL('odd_233x357.png', fixtures)), config);
    const ref = readFileSync(new URL('odd_233x357.bin', fixtures));
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(data[i] - ref.readFloatLE(4 * i)));
    expect(maxDiff).toBe(0);
  });

  it('maps {height, width} to squash and keeps non-square shapes', () => {
    expect(readPreprocessorConfig({ size: { height: 224, width: 224 }, crop_size: 224 })).toMatchObject({
      resizeMode: 'squash',
      size: 224,
    });
    const c = readPreprocessorConfig({
      size: { height: 256, width: 320 },
      crop_size: { height: 224, width: 288 },
    });
    expect(c.squashShape).toEqual([256, 320]);
    expect(c.cropShape).toEqual([224, 288]);
  });

  it('reads flags, statistics, rescale and every PIL resample code', () => {
    const c = readPreprocessorConfig({
      size: { shortest_edge: 256 },
      crop_size: { height: 240, width: 240 },
      do_center_crop: false,
      do_normalize: false,
      image_mean: 0.5,
      image_std: [0.5, 0.25, 0.125],
      resample: 2,
      rescale_factor: 0.00392156862745098,
    });
    expect(c).toMatchObject({
      size: 256,
      cropSize: 240,
      doCenterCrop: false,
      doNormalize: false,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.25, 0.125],
      resample: 'bilinear',
      rescaleFactor: 1 / 255,
    });
    const names = [0, 1, 2, 3, 4, 5].map(
      (r) => readPreprocessorConfig({ size: 8, crop_size: 8, resample: r }).resample,
    );
    expect(names).toEqual(['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming']);
    expect(readPreprocessorConfig({ size: 8, crop_size: 8, do_rescale: false }).rescaleFactor).toBe(1);
  });

  it('warns about ignored or defaulted fields', () => {
    const warnings: string[] = [];
    const c = readPreprocessorConfig(
      { size: { shortest_edge: 224, longest_edge: 1333 }, do_convert_rgb: false },
      { onWarning: (m) => warnings.push(m) },
    );
    expect(c.cropSize).toBe(224);
    expect(warnings.join('\n')).toMatch(/longest_edge/);
    expect(warnings.join('\n')).toMatch(/do_convert_rgb/);
    expect(warnings.join('\n')).toMatch(/no crop_size/);
  });

  it('names the file in every error', () => {
    const missing = join(dir, 'nope.json');
    expect(() => readPreprocessorConfig(missing)).toThrow(`${missing}: file not found`);
    const bad = file('bad.json', '{"size": 224,');
    expect(() => readPreprocessorConfig(bad)).toThrow(new RegExp(`${bad}: not valid JSON`));
    const cases: [string, unknown][] = [
      ['array.json', [1, 2]],
      ['size.json', { size: 'big' }],
      ['size0.json', { size: 0 }],
      ['size_obj.json', { size: { longest: 3 } }],
      ['crop.json', { size: 8, crop_size: [8, 8] }],
      ['mean.json', { size: 8, crop_size: 8, image_mean: [0.5, 0.5] }],
      ['std.json', { size: 8, crop_size: 8, image_std: [0.5, 0, 0.5] }],
      ['resample.json', { size: 8, crop_size: 8, resample: 7 }],
      ['flag.json', { size: 8, crop_size: 8, do_center_crop: 'yes' }],
      ['rescale.json', { size: 8, crop_size: 8, rescale_factor: -1 }],
    ];
    for (const [name, json] of cases) {
      const p = file(name, JSON.stringify(json));
      expect(() => readPreprocessorConfig(p, quiet), name).toThrow(`${p}: `);
    }
    expect(() => readPreprocessorConfig({ size: { height: 224 } })).toThrow('<object>: size.width');
  });
});
