import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { PreprocessConfig, ResampleFilter } from './config.js';
import { preprocessImage, preprocessImageData } from './preprocess_image.js';

/**
 * Golden tensors made by scripts/preprocess/make_fixtures.py with Pillow 9.4 the torchvision way
 * (open_clip's transform). Tolerances from the brief: mean |Δ| ≤ 0.01 per image, ≤ 0.005 over the set, in
 * normalised units (one 8-bit level is ≈ 0.0146).
 */
const FIXTURES = new URL('../../test/fixtures/preprocess/', import.meta.url);

interface Case {
  name: string;
  file: string;
  pilMode: string;
  config: { size: number; cropSize: number; resizeMode: 'shortest' | 'squash'; resample: ResampleFilter };
  reference: { file: string; shape: [number, number, number] };
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as { cases: Case[] };
const fixturePath = (file: string): string => fileURLToPath(new URL(file, FIXTURES));

function reference(c: Case): Float32Array {
  const buf = readFileSync(new URL(c.reference.file, FIXTURES));
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

const errors: Record<string, { mean: number; max: number }> = {};

describe('matches Pillow + torchvision (open_clip transform) on every fixture', () => {
  it.each(manifest.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const config: Partial<PreprocessConfig> = { ...c.config };
    const { data, shape } = await preprocessImageData(fixturePath(c.file), config);
    expect(shape).toEqual(c.reference.shape);
    const ref = reference(c);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(data[i] - ref[i]);
      sum += d;
      if (d > max) max = d;
    }
    errors[c.name] = { mean: sum / ref.length, max };
    expect(sum / ref.length).toBeLessThanOrEqual(0.01);
  });

  afterAll(() => {
    const rows = Object.entries(errors);
    const avg = rows.reduce((s, [, e]) => s + e.mean, 0) / rows.length;
    if (process.env.MOEVL_PRINT_ACCURACY) {
      for (const [name, e] of rows)
        console.log(`${name.padEnd(26)} mean ${e.mean.toExponential(2)} max ${e.max.toFixed(4)}`);
      console.log(`average over ${rows.length} cases: ${avg.toExponential(2)}`);
    }
    expect(rows.length).toBe(manifest.cases.length);
    expect(avg).toBeLessThanOrEqual(0.005);
  });
});

it('preprocessImage returns a [3, 224, 224] float32 tensor by default and leaks nothing', async () => {
  const path = fixturePath('photo_500x375.jpg');
  const t = await preprocessImage(path);
  expect(t.shape).toEqual([3, 224, 224]);
  expect(t.dtype).toBe('float32');
  t.dispose();
  await expectNoLeakedTensors(() => preprocessImage(path));
});
