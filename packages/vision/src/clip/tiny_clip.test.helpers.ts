/**
 * Test support for the tiny CLIP fixture (test/fixtures/tiny-clip, written by
 * scripts/clip/make_tiny_clip.py): its closed-form embeddings, and coloured squares written with sharp.
 * Not a test file itself (no `.test.ts` ending) and not shipped (`*.test.*` is excluded from the package).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

export const FIXTURE_DIR = fileURLToPath(new URL('../../test/fixtures/tiny-clip', import.meta.url));
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
/** exp(logit_scale_init_value) in the fixture's config.json (and inside its combined graph). */
export const FIXTURE_LOGIT_SCALE = 50;
const CAPTION = 0.25;
const R2 = Math.SQRT1_2;

/** Per-word feature vectors designed into the fixture's text tower (every other token is 0). */
export const WORD_FEATURES: Record<string, number[]> = {
  red: [1, 0, 0, 0, 0, 0, 0, 0],
  green: [0, 1, 0, 0, 0, 0, 0, 0],
  blue: [0, 0, 1, 0, 0, 0, 0, 0],
  yellow: [R2, R2, 0, 0, 0, 0, 0, 0],
  cyan: [0, R2, R2, 0, 0, 0, 0, 0],
  magenta: [R2, 0, R2, 0, 0, 0, 0, 0],
  bright: [0, 0, 0, 1, 0, 0, 0, 0],
  dark: [0, 0, 0, -1, 0, 0, 0, 0],
  cat: [0, 0, 0, 0, 1, 0, 0, 0],
  dog: [0, 0, 0, 0, 0, 1, 0, 0],
  car: [0, 0, 0, 0, 0, 0, 1, 0],
};

export function normalize(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** The fixture's image embedding of a mean colour `rgb` in [0, 1] (normalised). */
export function expectedImageEmbedding([r, g, b]: number[]): number[] {
  const light = 2 * ((r + g + b) / 3 - 0.5);
  return normalize([r - (g + b) / 2, g - (r + b) / 2, b - (r + g) / 2, light, 0, 0, 0, CAPTION]);
}

/** The fixture's text embedding: sum of the designed words' features plus the end token's caption part. */
export function expectedTextEmbedding(text: string, endTokens = 1): number[] {
  const sum = [0, 0, 0, 0, 0, 0, 0, CAPTION * endTokens];
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    (WORD_FEATURES[word] ?? []).forEach((x, i) => (sum[i] += x));
  }
  return normalize(sum);
}

/** `[n, 3, 32, 32]` pixels whose every pixel is the given [0, 1] colour, already CLIP-normalised. */
export function solidPixels(colours: number[][], size = 32): tf.Tensor4D {
  const data = new Float32Array(colours.length * 3 * size * size);
  colours.forEach((rgb, i) => {
    for (let c = 0; c < 3; c++) {
      data.fill(
        (rgb[c] - CLIP_MEAN[c]) / CLIP_STD[c],
        (i * 3 + c) * size * size,
        (i * 3 + c + 1) * size * size,
      );
    }
  });
  return tf.tensor4d(data, [colours.length, 3, size, size]);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `moevl-clip-${prefix}-`));
}

/**
 * Write a PNG square of colour `rgb` (0–255), optionally with seeded uniform noise of ±`noise` per
 * channel, so the mean colour survives and the tiny model's answer stays known.
 */
export async function writeSquare(
  dir: string,
  name: string,
  rgb: [number, number, number],
  { width = 48, height = 40, noise = 0, seed = 1 } = {},
): Promise<string> {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed >>> 0 || 1;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = 0; i < pixels.length; i++) {
    const jitter = noise > 0 ? Math.round((rand() * 2 - 1) * noise) : 0;
    pixels[i] = Math.min(255, Math.max(0, rgb[i % 3] + jitter));
  }
  const file = path.join(dir, `${name}.png`);
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
  return file;
}
